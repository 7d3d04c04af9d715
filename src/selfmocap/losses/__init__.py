"""Self-supervised losses (section 3.1 of Tung et al., 2017), one per file: keypoint, motion
and segmentation re-projection errors, and (beyond the paper) an aligned 3D keypoint term
against mediapipe's world landmarks. Formulas and normalisation: ``docs/losses.md``."""

from selfmocap.losses.config import (
    LOSS_FIELDS,
    LOSS_NAMES,
    LossName,
    SegmentationForm,
    SelfSupervisedLossWeights,
    SelfSupervisedTerms,
)
from selfmocap.losses.keypoint import KeypointReprojectionLoss, keypoint_reprojection_loss
from selfmocap.losses.motion import MotionReprojectionLoss, bilinear_sample, motion_reprojection_loss
from selfmocap.losses.segmentation import (
    SegmentationChamferLoss,
    SegmentationDistanceMapLoss,
    downsample_mask,
    mask_distance_transform,
    model_distance_maps,
    nearest_neighbours,
    segmentation_chamfer_loss,
    segmentation_distance_map_loss,
)
from selfmocap.losses.world3d import WorldKeypointLoss, similarity_align, world_keypoint_loss

__all__ = [
    "LOSS_FIELDS",
    "LOSS_NAMES",
    "LossName",
    "KeypointReprojectionLoss",
    "MotionReprojectionLoss",
    "SegmentationChamferLoss",
    "SegmentationDistanceMapLoss",
    "SegmentationForm",
    "SelfSupervisedLossWeights",
    "SelfSupervisedTerms",
    "bilinear_sample",
    "downsample_mask",
    "keypoint_reprojection_loss",
    "mask_distance_transform",
    "model_distance_maps",
    "motion_reprojection_loss",
    "nearest_neighbours",
    "segmentation_chamfer_loss",
    "segmentation_distance_map_loss",
    "similarity_align",
    "world_keypoint_loss",
    "WorldKeypointLoss",
]
