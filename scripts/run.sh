#!/usr/bin/env bash
# The main job on an embedded default: set up (first run only), then make a small synthetic
# test split with contact-sheet previews in out/synth-test.
source "$(dirname "$0")/setup.sh"
exec selfmocap synth --out out/synth-test --split test --clips 2 --frames 16 --seed 0 --preview "$@"
