# Sourced by scripts/run.sh and scripts/test.sh: make .venv and install selfmocap into it.
# Idempotent: reinstalls only when pyproject.toml changed since the last install.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $(python3 --version)"
  python3 -m venv .venv
fi
. .venv/bin/activate
if [ ! -f .venv/.installed ] || [ pyproject.toml -nt .venv/.installed ]; then
  echo "setup: installing torch 2.13.0 (CPU) and selfmocap with its dependencies (and Ray, for the batch tests)"
  # Pin torch first: an unpinned torch would pull a multi-GB CUDA build.
  python -m pip install -q torch==2.13.0 2>&1 | grep -v "^WARNING: Location" || true
  python -m pip install -q -e ".[test,ray]" 2>&1 | grep -v "^WARNING: Location" || true
  # mediapipe 0.10.21 is the last release whose wheel ships the legacy pose + segmentation models;
  # --no-deps keeps its stale numpy<2 / opencv-contrib pins out (docs/capture-inputs.md).
  python -m pip install -q --no-deps mediapipe==0.10.21 2>&1 | grep -v "^WARNING: Location" || true
  python -c "import selfmocap, torch, anny, embreex, roma, mediapipe, pygltflib, bvhio, smplx" || { echo "setup: installation failed" >&2; exit 1; }
  touch .venv/.installed
fi
# Anny builds its model once (about 1-4 minutes, about 800 MB under ${ANNY_CACHE_DIR:-~/.cache/anny}).
python -c "from selfmocap.body import load_body_model; load_body_model()" >/dev/null
