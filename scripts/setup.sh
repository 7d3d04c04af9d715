# Sourced by scripts/run.sh and scripts/test.sh: make .venv and install selfmocap into it.
# Idempotent: reinstalls only when pyproject.toml changed since the last install, or
# SELFMOCAP_EXTRAS did.
#
# SELFMOCAP_EXTRAS: comma-separated optional extras to install beside test and ray, e.g.
# SELFMOCAP_EXTRAS=blender (the Blender test tier, tests/blender; .ci/run sets it). An extra's
# packages listed in pyproject's [tool.selfmocap.no-deps-extras] are installed with --no-deps
# (their declared pins conflict with numpy>=2 although they work with it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $(python3 --version)"
  python3 -m venv .venv
fi
. .venv/bin/activate
# .venv/.installed lists the extras installed, one a line; an extra asked for that is not in it
# (or a newer pyproject.toml) reinstalls, with the extras installed before kept.
wanted="test,ray${SELFMOCAP_EXTRAS:+,$SELFMOCAP_EXTRAS}"
stale=0
{ [ -f .venv/.installed ] && [ ! pyproject.toml -nt .venv/.installed ]; } || stale=1
for extra in ${wanted//,/ }; do grep -qx "$extra" .venv/.installed 2>/dev/null || stale=1; done
if [ "$stale" = 1 ]; then
  extras=$({ tr ',' '\n' <<< "$wanted"; if [ -f .venv/.installed ]; then tr ',' '\n' < .venv/.installed; fi; } \
    | grep -v '^$' | sort -u | paste -sd, -)
  echo "setup: installing torch 2.13.0 (CPU) and selfmocap[$extras] with its dependencies"
  # Pin torch first: an unpinned torch would pull a multi-GB CUDA build.
  python -m pip install -q torch==2.13.0 2>&1 | grep -v "^WARNING: Location" || true
  python -m pip install -q -e ".[$extras]" 2>&1 | grep -v "^WARNING: Location" || true
  # mediapipe 0.10.21 is the last release whose wheel ships the legacy pose + segmentation models;
  # --no-deps keeps its stale numpy<2 / opencv-contrib pins out (docs/capture-inputs.md).
  python -m pip install -q --no-deps mediapipe==0.10.21 2>&1 | grep -v "^WARNING: Location" || true
  # the --no-deps packages of the chosen extras (pyproject.toml, [tool.selfmocap.no-deps-extras])
  no_deps=$(python - "$extras" <<'EOF'
import sys, tomllib
table = tomllib.load(open("pyproject.toml", "rb")).get("tool", {}).get("selfmocap", {}).get("no-deps-extras", {})
print(" ".join(p for extra in sys.argv[1].split(",") for p in table.get(extra.strip(), [])))
EOF
)
  if [ -n "$no_deps" ]; then
    echo "setup: installing $no_deps with --no-deps"
    python -m pip install -q --no-deps $no_deps 2>&1 | grep -v "^WARNING: Location" || true
  fi
  python -c "import selfmocap, torch, anny, embreex, roma, mediapipe, pygltflib, bvhio, smplx" || { echo "setup: installation failed" >&2; exit 1; }
  # Ray (selfmocap[ray]): the batch tests run selfmocap batch --ray on a loopback-only local instance
  python -c "import ray" || { echo "setup: Ray (selfmocap[ray]) did not install" >&2; exit 1; }
  case ",$extras," in
    *,blender,*)
      # bpy loads X11/GL client libraries (no display needed): on Debian/Ubuntu
      # libx11-6 libxrender1 libxfixes3 libxi6 libxkbcommon0 libsm6 libgl1.
      python -c "import bpy" >/dev/null 2>&1 || { echo "setup: bpy does not import: python -c 'import bpy' says why" \
        "(missing system libraries? apt-get install libx11-6 libxrender1 libxfixes3 libxi6 libxkbcommon0 libsm6 libgl1)" >&2; exit 1; }
      ;;
  esac
  tr ',' '\n' <<< "$extras" > .venv/.installed
fi
# Anny builds its model once (about 1-4 minutes, about 800 MB under ${ANNY_CACHE_DIR:-~/.cache/anny}).
python -c "from selfmocap.body import load_body_model; load_body_model()" >/dev/null
