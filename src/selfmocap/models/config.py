"""The configuration of :class:`~selfmocap.models.network.MocapNet`'s architecture and outputs."""

from __future__ import annotations

from dataclasses import dataclass

from selfmocap.config import field

#: Convolution blocks of the network, each halving the crop side.
NUM_BLOCKS = 5

@dataclass(frozen=True)
class NetworkConfig:
    """Architecture and output parameterisation of :class:`MocapNet`."""

    width: int = field(16, help="channels of the first conv block, doubled after each block (the paper: 64)")
    fc_factor: int = field(16, help="hidden size of the fully connected layers, in multiples of width")
    input_size: int = field(128, help="side of the square input crop in pixels (a multiple of 32)")
    leaky_slope: float = field(0.2, help="negative slope of the LeakyReLUs (TensorFlow's default)")
    depth: float = field(4.0, help="fixed root depth D0 in metres; the focal length accounts for scale")
    prior_height: float = field(1.7, help="person height (m) defining the prior focal length")
    prior_fill: float = field(0.8, help="fraction of the crop a prior-height person at depth D0 fills at the prior focal")
    root_scale: float = field(0.25, help="root-offset output unit, as a fraction of the crop side")
    head_init_scale: float = field(0.01, help="scale of the last layer's initial weights (start near the rest pose)")
    world_input: bool = field(False, help="also take mediapipe's 3D world landmarks as an input vector (in pretraining those of the training frames, synth --world-landmarks; docs/network.md)")

    def __post_init__(self) -> None:
        if self.width < 1 or self.fc_factor < 1:
            raise ValueError(f"width and fc_factor must be positive, got {self.width}, {self.fc_factor}")
        if self.input_size % 2**NUM_BLOCKS:
            raise ValueError(f"input_size must be a multiple of {2**NUM_BLOCKS}, got {self.input_size}")

    @property
    def prior_focal(self) -> float:
        """Focal (crop pixels) at which a ``prior_height`` person at depth D0 spans ``prior_fill`` of the crop."""
        return self.prior_fill * self.input_size * self.depth / self.prior_height
