"""The configs of the export stage."""

from __future__ import annotations

from dataclasses import dataclass

from selfmocap import config as cfg


@dataclass(frozen=True)
class WorldOptions:
    """The world frame's prior and thresholds (``docs/exports.md``)."""

    fov: float = cfg.field(65.0, help="assumed field of view of the camera across the longer image side, degrees: "
                                       "sets the distance to the camera (a phone's main camera: about 60-70)")
    contact_height: float = cfg.field(0.05, help="a foot whose lowest point is below this height (m) and which is slow is in contact")
    contact_speed: float = cfg.field(0.5, help="a foot slower than this (m/s) and low is in contact")
    contact_release: float = cfg.field(1.6, help="a foot in contact stays so until its height or speed exceeds this many times the thresholds")
    foot_lock: bool = cfg.field(True, help="keep a planted foot from sliding by correcting the root's path")
    lock_time_constant: float = cfg.field(10.0, help="seconds over which the foot-locking correction of the root's path decays "
                                                     "(bounds its drift from where the image puts the person; a steady slide "
                                                     "comes back at this pace)")

    def __post_init__(self) -> None:
        if not 1.0 <= self.fov <= 170.0:
            raise ValueError(f"fov must be between 1 and 170 degrees, got {self.fov}")
        if not (self.contact_height > 0 and self.contact_speed > 0 and self.contact_release >= 1.0 and self.lock_time_constant > 0):
            raise ValueError("contact_height, contact_speed and lock_time_constant must be positive, contact_release >= 1")
