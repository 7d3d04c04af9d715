"""The paper's network ("Implementation details"): 5 conv blocks and 3 fully connected layers that
regress body pose, body shape and the Eq. 3 camera from a person crop stacked with keypoint
heatmaps. Choices beyond the paper are argued in ``docs/network.md``.

Output decoding (:func:`decode`), all in the crop's pixel frame:

* pose: one 6D rotation per articulated bone (Zhou et al. 2019), added to the rest pose and
  orthonormalised with ``roma.special_gramschmidt``.
* shape: sigmoid into the body model's shape range (Anny phenotypes live in [0, 1]), or the raw
  output for unbounded shapes (SMPL betas, 0 = the mean shape).
* camera rotation R: 6D as well. The paper's Euler angles are singular at beta = +-90 degrees, a
  subject seen exactly from the side; :class:`~selfmocap.geometry.camera.Camera` converts to Euler
  only for files.
* focal: ``prior_focal * exp(o)``, with depth fixed at ``D0`` (the paper does not predict z).
* translation: the network predicts where the root projects in the crop; ``(Tx, Ty)`` follow by
  inverting Eq. 3 for the root with the known crop principal point, which is passed in (it
  depends on where the crop sits in the frame, which the crop's pixels cannot tell).
"""

from __future__ import annotations

from dataclasses import dataclass

import roma
import torch
from torch import nn

from selfmocap.body.names import KEYPOINT_NAMES
from selfmocap.geometry.camera import Camera
from selfmocap.models.config import NUM_BLOCKS, NetworkConfig

NUM_KEYPOINTS = len(KEYPOINT_NAMES)  #: 23 heatmap channels
#: Size of the optional 3D keypoint input (:func:`world_features`): 3 per keypoint and a presence flag.
WORLD_FEATURES = 3 * NUM_KEYPOINTS + 1
_HIPS = [KEYPOINT_NAMES.index("left_hip"), KEYPOINT_NAMES.index("right_hip")]


@dataclass(frozen=True)
class BodyOutputSpec:
    """What the network regresses for its body model; recorded in the model card (``body``) so a
    checkpoint rebuilds the right network and body.

    Attributes:
        body_model: the body model's name (``selfmocap.body.load_body_model``).
        pose_joints: J, rotations predicted (the body model's ``num_pose_joints``).
        shape_dim: S, shape parameters predicted.
        shape_range: bounds of every shape parameter (a sigmoid maps into them), or None for
            unbounded shapes (the raw output is the shape).
    """

    body_model: str = "anny"
    pose_joints: int = 19
    shape_dim: int = 6
    shape_range: tuple[float, float] | None = (0.0, 1.0)

    def __post_init__(self) -> None:
        if self.pose_joints < 1 or self.shape_dim < 1:
            raise ValueError(f"pose_joints and shape_dim must be positive, got {self.pose_joints}, {self.shape_dim}")
        if self.shape_range is not None:  # files store lists
            object.__setattr__(self, "shape_range", tuple(float(v) for v in self.shape_range))

    @staticmethod
    def of(body) -> "BodyOutputSpec":
        """The outputs for a body model (anything with the ``BodyModel`` attributes)."""
        return BodyOutputSpec(body.name, body.num_pose_joints, body.shape_dim, body.shape_range)

    @property
    def layout(self) -> dict[str, int]:
        """Output layout: name -> size, in order."""
        return {"pose": self.pose_joints * 6, "shape": self.shape_dim, "rotation": 6, "focal": 1, "root": 2}

    @property
    def num_outputs(self) -> int:
        return sum(self.layout.values())


#: Anny's outputs: 19 articulated bones and 6 phenotypes in [0, 1] (the shipped checkpoint's).
ANNY_OUTPUTS = BodyOutputSpec()
NUM_BONES = ANNY_OUTPUTS.pose_joints  #: 19 articulated Anny bones
SHAPE_DIM = ANNY_OUTPUTS.shape_dim  #: 6 phenotypes
#: Anny's output layout: name -> size, in order.
OUTPUT_LAYOUT: dict[str, int] = ANNY_OUTPUTS.layout
NUM_OUTPUTS = ANNY_OUTPUTS.num_outputs




@dataclass(frozen=True)
class Prediction:
    """Decoded network output for a batch of B crops.

    Attributes:
        pose: (B, J, 3, 3) bone rotations (body-model rest axes; J = 19 for Anny, 23 for SMPL).
        shape: (B, S) body shape (Anny phenotypes in [0, 1], SMPL betas).
        camera: Eq. 3 camera in crop pixels with depth fixed at D0.
    """

    pose: torch.Tensor
    shape: torch.Tensor
    camera: Camera


def world_features(world: torch.Tensor) -> torch.Tensor:
    """(B, K, 4) 3D keypoints with confidence -> (B, 3K + 1) the network's 3D input.

    The keypoints are in any metric frame with the camera's axes (x right, y down, z away, as
    mediapipe's world landmarks), each with a confidence; those of confidence 0 are missing. They
    are centred on the hips' midpoint and divided by their RMS distance from it, so neither the
    frame's origin nor the body's size (which mediapipe cannot know) is read; missing keypoints
    are 0. The last entry is 1 where the frame has both hips and at least 6 keypoints, else the
    whole vector is 0 (no landmarks: the network must rely on the image alone)."""
    if world.ndim != 3 or world.shape[1:] != (NUM_KEYPOINTS, 4):
        raise ValueError(f"3D keypoints must be (B, {NUM_KEYPOINTS}, 4), got {tuple(world.shape)}")
    world = world.float()
    has = world[..., 3] > 0
    present = has[:, _HIPS].all(dim=1) & (has.sum(dim=1) >= 6)
    centred = (world[..., :3] - world[:, _HIPS, :3].mean(dim=1, keepdim=True)) * has[..., None]
    rms = ((centred**2).sum(dim=(1, 2)) / has.sum(dim=1).clamp(min=1)).sqrt().clamp(min=1e-6)
    scaled = centred / rms[:, None, None] * present[:, None, None]
    return torch.cat([scaled.flatten(1), present[:, None].float()], dim=1)


def _block(c_in: int, c_out: int, slope: float) -> nn.Sequential:
    """One paper block: 5x5 stride-2 conv and 3x3 stride-1 conv, each with BatchNorm and LeakyReLU."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 5, stride=2, padding=2, bias=False),
        nn.BatchNorm2d(c_out),
        nn.LeakyReLU(slope, inplace=True),
        nn.Conv2d(c_out, c_out, 3, stride=1, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.LeakyReLU(slope, inplace=True),
    )


class MocapNet(nn.Module):
    """``(B, 3 + 23, S, S)`` crop + heatmaps and ``(B, 2)`` crop principal point -> :class:`Prediction`
    for the body model described by ``outputs`` (Anny by default).

    With ``config.world_input`` it also takes ``(B, 23, 4)`` 3D keypoints (:func:`world_features`):
    a linear map of them is added to the first fully connected layer's output. It starts at zero,
    so a network warm-started from one without the input predicts exactly what that one did."""

    def __init__(self, config: NetworkConfig = NetworkConfig(), outputs: BodyOutputSpec = ANNY_OUTPUTS):
        super().__init__()
        self.config = config
        self.outputs = outputs
        w = config.width
        channels = [3 + NUM_KEYPOINTS] + [w * 2**i for i in range(NUM_BLOCKS)]
        self.features = nn.Sequential(*(_block(a, b, config.leaky_slope) for a, b in zip(channels, channels[1:])))
        side = config.input_size // 2**NUM_BLOCKS
        hidden = config.fc_factor * w
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(channels[-1] * side * side, hidden),
            nn.LeakyReLU(config.leaky_slope, inplace=True),
            nn.Linear(hidden, hidden),
            nn.LeakyReLU(config.leaky_slope, inplace=True),
            nn.Linear(hidden, outputs.num_outputs),
        )
        last = self.head[-1]
        with torch.no_grad():
            last.weight.mul_(config.head_init_scale)
            last.bias.zero_()
        self.world = None
        if config.world_input:
            self.world = nn.Linear(WORLD_FEATURES, hidden)
            nn.init.zeros_(self.world.weight)
            nn.init.zeros_(self.world.bias)

    def forward(self, inputs: torch.Tensor, principal: torch.Tensor, world: torch.Tensor | None = None) -> Prediction:
        """``world``: (B, 23, 4) 3D keypoints for a ``world_input`` network (None: none found in any
        frame); ignored by a network without that input."""
        s = self.config.input_size
        if inputs.ndim != 4 or inputs.shape[1:] != (3 + NUM_KEYPOINTS, s, s):
            raise ValueError(f"inputs must be (B, {3 + NUM_KEYPOINTS}, {s}, {s}), got {tuple(inputs.shape)}")
        if principal.shape != (inputs.shape[0], 2):
            raise ValueError(f"principal must be (B, 2) = ({inputs.shape[0]}, 2), got {tuple(principal.shape)}")
        if self.world is None:
            raw = self.head(self.features(inputs))
        else:
            if world is None:
                world = torch.zeros(inputs.shape[0], NUM_KEYPOINTS, 4, device=inputs.device)
            elif world.shape[0] != inputs.shape[0]:
                raise ValueError(f"world must have the inputs' {inputs.shape[0]} frames, got {tuple(world.shape)}")
            hidden = self.head[1](self.head[0](self.features(inputs)))
            hidden = hidden + self.world(world_features(world.to(inputs.device))).to(hidden.dtype)
            raw = self.head[2:](hidden)
        if raw.dtype in (torch.float16, torch.bfloat16):  # under autocast: decode in float32
            raw = raw.float()
        return decode(raw, principal, self.config, self.outputs)


_IDENTITY_6D = torch.eye(3)[:, :2]  # (3, 2): the first two columns of the identity


def decode(raw: torch.Tensor, principal: torch.Tensor, config: NetworkConfig, outputs: BodyOutputSpec = ANNY_OUTPUTS) -> Prediction:
    """(B, outputs.num_outputs) raw outputs and (B, 2) crop principal point -> :class:`Prediction`."""
    layout = outputs.layout
    if raw.ndim != 2 or raw.shape[1] != outputs.num_outputs:
        raise ValueError(f"raw outputs must be (B, {outputs.num_outputs}), got {tuple(raw.shape)}")
    b = raw.shape[0]
    parts = dict(zip(layout, raw.split(list(layout.values()), dim=1)))
    bias = _IDENTITY_6D.to(raw)
    pose = roma.special_gramschmidt(parts["pose"].reshape(b, outputs.pose_joints, 3, 2) + bias)
    rotation = roma.special_gramschmidt(parts["rotation"].reshape(b, 3, 2) + bias)
    focal = config.prior_focal * torch.exp(parts["focal"][:, 0])
    depth = torch.full_like(focal, config.depth)
    root = config.input_size * (0.5 + config.root_scale * parts["root"])  # root's crop pixel
    trans = (root - principal.to(raw)) * (depth / focal)[:, None]  # Eq. 3 inverted for the root
    camera = Camera(focal=focal, rotation=rotation, trans=trans, depth=depth, principal=principal.to(raw))
    if outputs.shape_range is None:
        shape = parts["shape"]
    else:
        lo, hi = outputs.shape_range
        shape = lo + (hi - lo) * torch.sigmoid(parts["shape"])
    return Prediction(pose=pose, shape=shape, camera=camera)


def fixed_depth_camera(camera: Camera, depth: float) -> Camera:
    """The supervision target for a network that keeps the root at depth ``D0 = depth``.

    A true camera with root depth ``d`` becomes ``f' = f D0 / d``, ``T' = T``, depth ``D0``. The
    root projects exactly where it did (``f' Tx / D0 = f Tx / d``) and the body keeps its image
    size; a body point at depth offset ``z`` from the root moves by the relative amount
    ``z (1/d - 1/D0) / (1 + z/D0)``, the perspective the fixed depth cannot express (about 3 %
    of the point's offset from the principal point for ``z = 0.2`` m, ``d = 2.5`` m, ``D0 = 4`` m).
    """
    scale = depth / camera.depth
    return camera.replace(focal=camera.focal * scale, depth=torch.full_like(camera.depth, depth))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
