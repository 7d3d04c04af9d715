#!/usr/bin/env bash
# The main job on an embedded default: set up (first run only), then `selfmocap demo`: render a
# held-out synthetic clip to a video, capture it like a real video (mediapipe, DIS flow, test-time
# adaptation, exports into out/demo/capture), and score it against the clip's 3D ground truth.
source "$(dirname "$0")/setup.sh"
exec selfmocap demo --out out/demo --json out/demo/scores.json "$@"
