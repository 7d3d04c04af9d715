"""2D cues measured on the input video for self-supervision: optical flow (``flow``)."""

from selfmocap.cues.flow import FlowConfig, estimate_clip_flow, estimate_flow, flow_consistency

__all__ = ["FlowConfig", "estimate_clip_flow", "estimate_flow", "flow_consistency"]
