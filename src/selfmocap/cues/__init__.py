"""2D cues of the input frames, wherever they come from: mediapipe keypoints and masks
(``mediapipe``), the user's keypoint and mask files (``keypoint_files``), the simulated detector
and degraded silhouettes of synthetic clips (``detector``, ``degrade``), and optical flow
(``flow``). ``capture/`` and ``adapt/`` only orchestrate them."""

from selfmocap.cues.config import FlowConfig
from selfmocap.cues.flow import estimate_flow, flow_consistency, pair_flow

__all__ = ["FlowConfig", "estimate_flow", "flow_consistency", "pair_flow"]
