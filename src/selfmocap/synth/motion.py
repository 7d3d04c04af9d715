"""Motion for the synthetic clips: a :class:`Motion` record, the :class:`MotionSource` protocol and
a procedural generator of plausible human motion inside the joint limits.

SURREAL drives SMPL with CMU motion capture; none can be downloaded here, so
:class:`ProceduralMotion` writes motions from anatomical rules: periodic gait and rhythmic
families are sums of phase-locked bumps and sinusoids, the others are random keyframes joined by
minimum-jerk blends. Everything is written as anatomical angles (flexion, abduction, ...) in the
limit frames of :mod:`selfmocap.body.limits`, squashed softly into the limits, then converted to
axis-angle. The root is placed by a small forward kinematics of the legs (Anny's rest skeleton
at the neutral shape): its height keeps the lowest foot point on the ground, and its horizontal
motion keeps the supporting foot still (the foot lower down carries the weight), so walking
advances by its own strides and a squat sinks instead of floating.

A file-based source (BVH, AMASS) plugs in by implementing :class:`MotionSource`: retarget to
``pose`` (Anny local-ref axis-angle per articulated bone), ``root_orient`` and ``root_trans``, and
run :func:`selfmocap.body.limits.clamp_pose`. ``docs/motion.md`` describes the families.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Final, Protocol

import numpy as np
import roma
import torch

from selfmocap.body.limits import (
    ANNY_JOINT_LIMITS,
    REST_ARM_ABDUCTION_DEG,
    REST_ELBOW_FLEXION_DEG,
    JointLimits,
    euler_to_pose,
)
from selfmocap.body.names import ANNY_ARTICULATED_BONES, ANNY_TO_BODY
from selfmocap.data.records import MotionWindow

#: Families of the ``test`` split, the first checkpoint's whole training distribution.
CORE_FAMILIES: Final[tuple[str, ...]] = ("walk", "reach", "turn", "bend", "idle")
#: Families of the ``train`` split: the core ones plus everyday and sports actions of real capture
#: and poses over the whole joint-limit space (issue 12: a 3D prior that holds on real motion).
TRAIN_FAMILIES: Final[tuple[str, ...]] = CORE_FAMILIES + (
    "run", "crouch", "sit", "climb", "punch", "lean", "arms", "anything"
)
#: Families of the ``shift`` split: a deliberate domain gap, never seen in training.
SHIFT_FAMILIES: Final[tuple[str, ...]] = ("jump", "kick", "dance", "jumping_jacks", "stretch")


@dataclass(frozen=True)
class Motion:
    """A clip of body motion.

    Attributes:
        pose: (T, 19, 3) float32 axis-angle per :data:`ANNY_ARTICULATED_BONES` (Anny local-ref).
        root_orient: (T, 3) float32 axis-angle of the body's orientation in the body frame
            (x left, y down, z back, see ``docs/conventions.md``): a point ``X`` of the body
            output goes to ``R(root_orient) X + root_trans``. Heading turns are rotations about y.
        root_trans: (T, 3) float32 root position in metres, in the body-frame axes of the starting
            heading (forward is -z, down is +y); 0 horizontally at frame 0, 0 vertically when
            standing straight, positive when the root sinks.
        fps: frames per second.
        family: name of the motion family (or of the source file).
        window: where in a motion-capture file the clip comes from (None for procedural motion).
    """

    pose: np.ndarray
    root_orient: np.ndarray
    root_trans: np.ndarray
    fps: float
    family: str
    window: MotionWindow | None = None

    def __post_init__(self) -> None:
        t = self.pose.shape[0] if self.pose.ndim == 3 else -1
        n = len(ANNY_ARTICULATED_BONES)
        ok = (
            t >= 1
            and self.pose.shape == (t, n, 3)
            and self.root_orient.shape == (t, 3)
            and self.root_trans.shape == (t, 3)
            and all(a.dtype == np.float32 for a in (self.pose, self.root_orient, self.root_trans))
        )
        if not ok:
            raise ValueError(
                f"Motion needs float32 pose (T, {n}, 3), root_orient (T, 3), root_trans (T, 3); got "
                f"{self.pose.shape} {self.pose.dtype}, {self.root_orient.shape}, {self.root_trans.shape}"
            )
        if not self.fps > 0:
            raise ValueError(f"fps must be positive, got {self.fps}")

    @property
    def num_frames(self) -> int:
        return self.pose.shape[0]


class MotionSource(Protocol):
    """Anything that can draw a motion clip (procedural here; BVH/AMASS files later)."""

    def sample(self, rng: np.random.Generator, num_frames: int, fps: float) -> Motion: ...


class ProceduralMotion:
    """Draws a family uniformly from ``families``, then a random clip of it (:func:`generate_motion`)."""

    def __init__(self, families: tuple[str, ...] = TRAIN_FAMILIES, limits: JointLimits = ANNY_JOINT_LIMITS):
        unknown = [f for f in families if f not in FAMILIES]
        if not families or unknown:
            raise ValueError(f"unknown motion families {unknown}; choose from {sorted(FAMILIES)}")
        self.families = tuple(families)
        self.limits = limits

    def sample(self, rng: np.random.Generator, num_frames: int = 30, fps: float = 30.0) -> Motion:
        family = self.families[int(rng.integers(len(self.families)))]
        return generate_motion(family, rng, num_frames, fps, self.limits)


# ----------------------------------------------------------------------------------------------
# Anatomical pose builder


_BONE = {name: i for i, name in enumerate(ANNY_ARTICULATED_BONES)}
_SIDES = ("L", "R")
#: Total elbow flexion of a relaxed hanging arm (the rest A-pose has 42 deg).
RELAXED_ELBOW_FLEXION_DEG: Final[float] = 15.0


class _Pose:
    """Anatomical angles over time (degrees), written into Euler angles of the limit frames.

    Each setter *adds* to what is there, so layers (gait + look-around) compose. Side ``"R"`` is
    the mirror image of ``"L"``: same anatomical meaning, Euler ``(X, -Y, -Z)``.
    """

    def __init__(self, t: np.ndarray):
        self.t = t
        n = len(t)
        self.euler = np.zeros((n, len(_BONE), 3))
        self.yaw = np.zeros(n)  #: heading, about body +y (positive turns towards the subject's right)
        self.pitch = np.zeros(n)  #: about body +x, positive leans forward
        self.roll = np.zeros(n)  #: about body +z, positive leans to the subject's left
        self.lift = np.zeros(n)  #: metres of flight above the ground contact
        #: (T, 2) weight carried by the left/right foot, or NaN: the lower foot carries it
        self.contact = np.full((n, 2), np.nan)
        # Arms hang at the sides with relaxed elbows unless a family says otherwise.
        for side in _SIDES:
            self.shoulder(side, abduction=-REST_ARM_ABDUCTION_DEG)
            self.elbow(side, RELAXED_ELBOW_FLEXION_DEG - REST_ELBOW_FLEXION_DEG)

    def _add(self, bone: str, side: str | None, x=0.0, y=0.0, z=0.0) -> None:
        if side is None:
            self.euler[:, _BONE[bone]] += np.stack(np.broadcast_arrays(x, y, z, self.t), -1)[:, :3]
            return
        s = -1.0 if side == "R" else 1.0
        xyz = np.stack(np.broadcast_arrays(x, s * np.asarray(y), s * np.asarray(z), self.t), -1)[:, :3]
        self.euler[:, _BONE[f"{bone}.{side}"]] += xyz

    def spine(self, flex=0.0, bend=0.0, twist=0.0) -> None:
        """Trunk flexion forward, bend to the left, twist to the left, over the three segments."""
        for bone, w in (("spine05", 0.4), ("spine03", 0.3), ("spine01", 0.3)):
            self._add(
                bone,
                None,
                w * np.asarray(flex),
                w * np.asarray(bend),
                (w if bone != "spine05" else 0.2) * np.asarray(twist),
            )

    def neck(self, flex=0.0, bend=0.0, turn=0.0) -> None:
        """Head nod down, tilt to the left, turn to the left, over neck and head."""
        for bone in ("neck01", "head"):
            self._add(bone, None, 0.5 * np.asarray(flex), 0.5 * np.asarray(bend), 0.5 * np.asarray(turn))

    def clavicle(self, side: str, elevation=0.0, protraction=0.0) -> None:
        self._add("clavicle", side, 0.0, -np.asarray(elevation), -np.asarray(protraction))

    def shoulder(self, side: str, flexion=0.0, abduction=0.0, rotation=0.0) -> None:
        """Flexion forward, abduction sideways, internal rotation; from the arm hanging down."""
        self._add("upperarm01", side, -np.asarray(flexion), rotation, -np.asarray(abduction))

    def elbow(self, side: str, flexion=0.0) -> None:
        """Flexion added to the relaxed elbow (:data:`RELAXED_ELBOW_FLEXION_DEG` from straight)."""
        self._add("lowerarm01", side, -np.asarray(flexion))

    def hip(self, side: str, flexion=0.0, abduction=0.0, rotation=0.0) -> None:
        """Flexion forward, abduction sideways, external rotation."""
        self._add("upperleg01", side, -np.asarray(flexion), -np.asarray(abduction), rotation)

    def knee(self, side: str, flexion=0.0) -> None:
        self._add("lowerleg01", side, flexion)

    def ankle(self, side: str, plantarflexion=0.0, inversion=0.0) -> None:
        self._add("foot", side, plantarflexion, inversion)

    def flat_feet(self, sides: tuple[str, ...] = _SIDES, weight=1.0) -> None:
        """Turn the ankles so the soles stay level with the ground in the sagittal plane.

        The sagittal angles of root, hip, knee and ankle add up (all are about the left axis), so
        the ankle cancels their sum.
        """
        for side in sides:
            chain = self.pitch + sum(
                self.euler[:, _BONE[f"{b}.{side}"], 0] for b in ("upperleg01", "lowerleg01")
            )
            self._add("foot", side, -np.asarray(weight) * chain)


# ----------------------------------------------------------------------------------------------
# Smooth random signals (all in continuous time, so any fps works)


def _bump(phase: np.ndarray, centre: float, width: float) -> np.ndarray:
    """Periodic bump of height 1 at ``centre`` (cycles) with about ``width`` cycles of spread."""
    kappa = 1.0 / (2 * math.pi * width) ** 2
    return np.exp(kappa * (np.cos(2 * math.pi * (phase - centre)) - 1.0))


def _wander(rng: np.random.Generator, t: np.ndarray, amplitude: float, hz: float) -> np.ndarray:
    """Smooth random signal in [-amplitude, amplitude]: three sinusoids around ``hz``."""
    freqs = hz * rng.uniform(0.5, 1.5, 3)
    weights = rng.uniform(0.3, 1.0, 3)
    phases = rng.uniform(0, 2 * math.pi, 3)
    waves = np.sin(2 * math.pi * freqs[:, None] * t[None] + phases[:, None])
    return amplitude * (weights @ waves) / weights.sum()


def _min_jerk(s: np.ndarray) -> np.ndarray:
    return s**3 * (10 - 15 * s + 6 * s**2)


def _keyframes(
    rng: np.random.Generator,
    t: np.ndarray,
    interval: float,
    sample_key: Callable[[np.random.Generator, int], np.ndarray],
    margin: float = 1.0,
) -> Callable[[np.ndarray], np.ndarray]:
    """Random keyframes every ``interval`` (+-30 %) s joined by minimum-jerk blends.

    Velocity and acceleration are continuous and vanish at each key (a natural brief pause).
    ``sample_key(r, k)`` draws the k-th key value (D,) from ``r``. Key times and values come from
    two child generators seeded by draws from ``rng``, so a longer clip extends a shorter one
    instead of changing it. Returns the curve, a function of time (s) defined up to
    ``t[-1] + margin``: (N,) times -> (N, D) values.
    """
    r_times, r_keys = (np.random.default_rng(seed) for seed in rng.integers(2**63, size=2))
    times = [-r_times.uniform(0.0, interval)]
    while times[-1] <= t[-1] + margin:
        times.append(times[-1] + interval * r_times.uniform(0.7, 1.3))
    keys = np.stack([np.atleast_1d(sample_key(r_keys, k)) for k in range(len(times))]).astype(np.float64)
    knots = np.asarray(times)

    def curve(at: np.ndarray) -> np.ndarray:
        seg = np.clip(np.searchsorted(knots, at, side="right") - 1, 0, len(knots) - 2)
        s = _min_jerk(np.clip((at - knots[seg]) / (knots[seg + 1] - knots[seg]), 0, 1))[:, None]
        return keys[seg] + s * (keys[seg + 1] - keys[seg])

    return curve


def _window(phase: np.ndarray, start: float, stop: float, softness: float = 0.03) -> np.ndarray:
    """Smooth periodic indicator of ``start <= phase mod 1 < stop`` (cycles)."""
    centre, half = (start + stop) / 2, (stop - start) / 2
    x = (np.cos(2 * math.pi * (phase - centre)) - math.cos(2 * math.pi * half)) / (2 * math.pi * softness)
    return 0.5 + 0.5 * np.tanh(x)


# ----------------------------------------------------------------------------------------------
# Families. Each draws its clip-level parameters, then writes the _Pose (angles in degrees).

#: Gait timing (fractions of the stride, heel strike at 0): toe-off at 62 %, so each foot is on
#: the ground 62 % of the time and both are during two 12 % double-support phases.
_TOE_OFF: Final[float] = 0.62


def _walk(rng: np.random.Generator, b: _Pose) -> None:
    """Gait cycle (heel strike of the left foot at phase 0) with arm swing and heading changes.

    Sagittal joint curves follow the shape of normative gait data (Winter's): hip flexion peaking
    before heel strike and extending through stance, a small loading knee flexion then the swing
    flexion of about 60 deg, ankle plantarflexion at push-off.
    """
    t = b.t
    stride_hz = rng.uniform(0.8, 1.05)
    amp = rng.uniform(0.8, 1.15)
    arm = rng.uniform(0.6, 1.3)
    lean = rng.uniform(2, 6)
    phase = rng.uniform() + stride_hz * t
    for side, p in (("L", phase), ("R", phase + 0.5)):
        c = np.cos(2 * math.pi * p)
        b.hip(
            side, lean + 3 + 20 * amp * np.cos(2 * math.pi * (p + 0.08)), 3 - 3 * np.sin(2 * math.pi * p), 3
        )
        b.knee(side, 4 + 15 * amp * _bump(p, 0.14, 0.06) + 58 * amp * _bump(p, 0.69, 0.12))
        b.ankle(
            side,
            4 * _bump(p, 0.06, 0.04)
            - 10 * _bump(p, 0.42, 0.1)
            + 16 * _bump(p, 0.62, 0.05)
            - 6 * _bump(p, 0.85, 0.08),
        )
        b.shoulder(side, 4 - 25 * arm * c, 8, 5)  # the arm swings against the leg of its side
        b.elbow(side, 15 * arm * (1 + c) / 2)  # bending more when the arm is forward
        b.contact[:, _SIDES.index(side)] = _window(p, 0.0, _TOE_OFF)
    c = np.cos(2 * math.pi * phase)
    b.yaw += 5 * amp * c  # the pelvis turns with the forward leg...
    b.spine(flex=2, twist=8 * amp * c)  # ...and the thorax against it
    b.roll += -3 * np.sin(2 * math.pi * phase)
    b.spine(bend=2.5 * np.sin(2 * math.pi * phase))
    b.pitch += lean
    b.neck(flex=_wander(rng, t, 10, 0.3), turn=-3 * amp * c + _wander(rng, t, 15, 0.2))
    # Heading: a steady curve (half of the clips) plus slow meandering.
    b.yaw += rng.choice([0.0, 1.0]) * rng.uniform(-25, 25) * t + _wander(rng, t, rng.uniform(0, 40), 0.15)


def _arm_target(r: np.random.Generator) -> np.ndarray:
    """(4,) shoulder flexion, abduction, rotation and elbow flexion of a reach."""
    flex = r.uniform(-10, 150)
    abd = r.uniform(0, 90 if flex < 100 else 40)
    return np.array([flex, abd, r.uniform(-20, 40), r.uniform(-15, 50)])


def _arm_rest(r: np.random.Generator) -> np.ndarray:
    return np.array([r.uniform(-5, 15), r.uniform(3, 15), r.uniform(0, 20), r.uniform(-10, 15)])


def _reach(rng: np.random.Generator, b: _Pose) -> None:
    """Reaching with one or both arms to random targets, with trunk lean and gaze."""
    t = b.t
    mode = rng.choice(["L", "R", "both"])

    def key(r: np.random.Generator, k: int) -> np.ndarray:
        reaching = k % 2 == 1 or r.uniform() < 0.3
        arms = [_arm_target(r) if reaching and mode in (side, "both") else _arm_rest(r) for side in _SIDES]
        lean = r.uniform(-10, 35) if reaching else r.uniform(-3, 5)
        return np.concatenate(arms + [[lean, r.uniform(-15, 15), r.uniform(-30, 30), r.uniform(0, 15)]])

    k = _keyframes(rng, t, rng.uniform(0.9, 1.6), key)(t)
    for i, side in enumerate(_SIDES):
        flex, abd, rot, elbow = k[:, 4 * i : 4 * i + 4].T
        b.shoulder(side, flex, abd, rot)
        b.elbow(side, elbow)
        b.clavicle(side, elevation=np.clip(flex - 90, 0, None) * 0.15, protraction=np.clip(flex, 0, 90) * 0.1)
    lean, bend, twist, knees = k[:, 8:].T
    b.pitch += 0.4 * lean
    b.spine(flex=0.6 * lean, bend=bend, twist=twist)
    b.neck(flex=0.3 * lean - 10, turn=0.8 * twist + _wander(rng, t, 10, 0.3))
    sway = _wander(rng, t, 4, 0.2)
    for side, s in (("L", 1.0), ("R", -1.0)):
        b.hip(side, 0.4 * lean + 0.6 * knees, s * sway)
        b.knee(side, knees)
    b.flat_feet()


def _turn(rng: np.random.Generator, b: _Pose) -> None:
    """Turning in place with small steps, the gaze leading; or standing and looking around."""
    t = b.t
    turns = rng.uniform() < 0.7
    heading = [0.0]

    def heading_key(r: np.random.Generator, k: int) -> np.ndarray:
        if k > 0 and turns and r.uniform() < 0.8:
            heading[0] += r.uniform(30, 120) * r.choice([-1.0, 1.0])
        return np.array(heading)

    heading_at = _keyframes(rng, t, rng.uniform(1.5, 2.5), heading_key)
    b.yaw += heading_at(t)[:, 0]
    ahead = (heading_at(t + 0.35) - heading_at(t))[:, 0]  # where the body is about to turn
    rate = (heading_at(t + 0.05) - heading_at(t - 0.05))[:, 0] / 0.1  # deg/s
    step = np.clip(np.abs(rate) / 60.0, 0, 1)
    phase = rng.uniform() + rng.uniform(0.9, 1.2) * t
    for side, p in (("L", phase), ("R", phase + 0.5)):
        lift = step * _bump(p, 0.25, 0.1)
        b.hip(side, 25 * lift)
        b.knee(side, 3 + 45 * lift)
        b.shoulder(side, _wander(rng, t, 8, 0.3), 6, 5)
    lead = -np.clip(ahead, -70, 70)  # the gaze leads the turn (left positive)
    look = _keyframes(
        rng, t, rng.uniform(0.8, 1.6), lambda r, k: np.array([r.uniform(-60, 60), r.uniform(-15, 20)])
    )(t)
    b.spine(twist=0.3 * lead + 0.3 * look[:, 0], flex=rng.uniform(0, 5))
    b.neck(flex=look[:, 1], turn=0.7 * lead + 0.6 * look[:, 0])
    b.flat_feet()


def _bend(rng: np.random.Generator, b: _Pose) -> None:
    """Bending (stoop) or squatting down to pick something up, and back."""
    t = b.t
    squat = rng.uniform()
    side = rng.choice(_SIDES)
    one_hand = float(rng.uniform() < 0.5)
    depth = _keyframes(
        rng,
        t,
        rng.uniform(1.2, 2.0),
        lambda r, k: np.array([r.uniform(0.55, 1.0) if k % 2 else r.uniform(0.0, 0.1)]),
    )(t)[:, 0]
    # Forward tilt of the thigh and backward tilt of the shin: a squat brings the knees forward,
    # a stoop keeps the legs straight but tilted back so that the hips go behind the ankles.
    thigh = (80 * squat + 10 * (1 - squat)) * depth
    shin = (25 * squat - 10 * (1 - squat)) * depth
    pitch = depth * (55 * (1 - squat) + 30 * squat)
    trunk = depth * (30 * (1 - squat) + 25 * squat)
    b.pitch += pitch
    b.spine(flex=trunk)
    reach = pitch + trunk + 10 * depth  # arms hang towards the floor
    for s in _SIDES:
        b.hip(s, pitch + thigh, 4 + 8 * squat * depth)
        b.knee(s, thigh + shin)
        active = not one_hand or s == side
        b.shoulder(s, reach if active else 0.6 * reach, 8, 10)
        b.elbow(s, -12 if active else 10 * depth)
    lateral = depth * one_hand * (10 if side == "L" else -10)
    b.spine(bend=lateral, twist=-lateral)
    b.neck(flex=-0.5 * (pitch + trunk) + rng.uniform(0, 30) * depth, turn=_wander(rng, t, 10, 0.2))
    b.flat_feet()


def _idle(rng: np.random.Generator, b: _Pose) -> None:
    """Standing: weight shifts, breathing, looking around, an occasional small gesture."""
    t = b.t
    shift = _wander(rng, t, rng.uniform(2, 6), 0.15)  # degrees of leg tilt, +: towards the left
    for side, s in (("L", 1.0), ("R", -1.0)):
        relaxed = np.clip(-s * shift, 0, None)  # the unloaded leg bends a little
        b.hip(side, 2 + 4 * relaxed, s * shift)
        b.knee(side, 2 + relaxed)
        gesture = rng.uniform() < 0.35

        def key(r: np.random.Generator, k: int, gesture: bool = gesture) -> np.ndarray:
            if gesture and k % 2:
                return np.array([r.uniform(10, 50), r.uniform(5, 30), r.uniform(10, 50), r.uniform(40, 80)])
            return _arm_rest(r)

        arm = _keyframes(rng, t, rng.uniform(1.2, 2.5), key)(t)
        b.shoulder(side, arm[:, 0], arm[:, 1], arm[:, 2])
        b.elbow(side, arm[:, 3])
    b.roll += 0.5 * shift
    b.spine(
        flex=1.5 * np.sin(2 * math.pi * rng.uniform(0.2, 0.3) * t + rng.uniform(0, 6.3)), bend=-0.5 * shift
    )
    look = _keyframes(
        rng, t, rng.uniform(1.0, 2.5), lambda r, k: np.array([r.uniform(-45, 45), r.uniform(-10, 20)])
    )(t)
    b.neck(flex=look[:, 1], turn=look[:, 0])
    b.spine(twist=0.2 * look[:, 0])
    b.flat_feet()


def _jump(rng: np.random.Generator, b: _Pose) -> None:
    """Repeated vertical jumps: countermovement, push-off, ballistic flight, landing."""
    t = b.t
    period = rng.uniform(0.9, 1.3)
    phase = rng.uniform() + t / period
    tuck = rng.uniform(0, 1)
    crouch = 0.85 * _bump(phase, 0.22, 0.07) + 0.6 * _bump(phase, 0.88, 0.05)
    flight = _bump(phase, 0.575, 0.06)
    fly = np.clip((np.mod(phase, 1.0) - 0.4) / 0.35, 0, 1)  # flight from 40 % to 75 % of the cycle
    airtime = 0.35 * period
    b.lift += 9.81 * airtime**2 / 2 * fly * (1 - fly)  # ballistic: g T^2 / 8 at the apex
    push = _bump(phase, 0.42, 0.05)
    for side in _SIDES:
        b.hip(side, 75 * crouch + 40 * tuck * flight, 3)
        b.knee(side, 100 * crouch + 60 * tuck * flight)
        b.ankle(side, 30 * push + 20 * flight)
        b.shoulder(side, -40 * crouch + 150 * _bump(phase, 0.5, 0.09), 10)
        b.elbow(side, 20 * crouch)
    b.pitch += 35 * crouch
    b.spine(flex=15 * crouch)
    b.neck(flex=-15 * crouch)
    b.flat_feet(weight=1.0 - np.clip(push + flight, 0, 1))


def _kick(rng: np.random.Generator, b: _Pose) -> None:
    """Front (and sideways) kicks, alternating legs or with one leg, arms in guard."""
    t = b.t
    period = rng.uniform(1.0, 1.6)
    alternate = rng.uniform() < 0.5
    first = rng.choice(_SIDES)
    height = rng.uniform(55, 95)
    sideways = rng.uniform(0, 35)
    phase = rng.uniform() + t / period
    # Alternating kicks repeat every other cycle, so their bumps live on a half-speed phase.
    cycle, scale = (phase / 2, 0.5) if alternate else (phase, 1.0)
    kicking = np.zeros_like(t)
    for side in _SIDES:
        centre = (0.25 if side == first else 0.75) if alternate else 0.5
        e = _bump(cycle, centre, 0.09 * scale) * (alternate or side == first)
        snap = 1 - 0.9 * _bump(cycle, centre + 0.02 * scale, 0.035 * scale)
        kicking = kicking + e
        b.hip(side, height * e, sideways * e)
        b.knee(side, 8 + 100 * e * snap)  # chambered knee snaps straight at the top
        b.ankle(side, 35 * e)
        b.shoulder(side, 40 + 15 * e, 20, 40)
        b.elbow(side, 60)
    b.pitch -= 12 * kicking
    b.spine(flex=-8 * kicking)
    b.neck(flex=10 * kicking)
    b.flat_feet()


def _dance(rng: np.random.Generator, b: _Pose) -> None:
    """Rhythmic dancing: knee bounce on the beat, hip sway, waving or pumping arms."""
    t = b.t
    beat = rng.uniform(1.6, 2.2) * t + rng.uniform()
    half = 0.5 * beat
    sway = np.sin(2 * math.pi * half)
    style = rng.choice(["wave", "pump", "sway"])
    for side, s in (("L", 1.0), ("R", -1.0)):
        b.knee(side, 8 + 14 * _bump(beat, 0.0, 0.12))
        b.hip(side, 6 + 8 * _bump(beat, 0.0, 0.12), s * 6 * sway)
        if style == "wave":
            b.shoulder(side, 20, 135 + 20 * sway * s, 10)
            b.elbow(side, 10 + 30 * _bump(beat + (0.5 if side == "R" else 0), 0.0, 0.15))
        elif style == "pump":
            up = _bump(half + (0.5 if side == "R" else 0), 0.0, 0.1)
            b.shoulder(side, 30 + 130 * up, 20, 10)
            b.elbow(side, 80 - 90 * up)
        else:
            b.shoulder(side, 45 + 15 * sway * s, 25, 40 * sway * s)
            b.elbow(side, 50)
    b.roll += 4 * sway
    b.spine(bend=-8 * sway, twist=15 * np.sin(2 * math.pi * half + 1.0))
    b.neck(flex=8 * _bump(beat, 0.05, 0.1), bend=-4 * sway, turn=_wander(rng, t, 20, 0.4))
    b.flat_feet()


def _jumping_jacks(rng: np.random.Generator, b: _Pose) -> None:
    """Jumping jacks: arms up over the head and legs apart on one hop, back on the next."""
    t = b.t
    phase = rng.uniform() + rng.uniform(0.7, 1.0) * t
    opened = 0.5 - 0.5 * np.cos(2 * math.pi * phase)
    hop = np.clip(-np.cos(4 * math.pi * phase), 0, None)  # two hops a cycle, at 25 % and 75 %
    b.lift += rng.uniform(0.03, 0.08) * hop
    land = _bump(2 * phase, 0.85, 0.08)
    arms = rng.uniform(130, 160)
    for side in _SIDES:
        b.shoulder(side, 10, 5 + arms * opened, 10 - 20 * opened)
        b.elbow(side, -10 + 20 * opened)
        b.hip(side, 4 + 10 * land, 3 + 20 * opened)
        b.knee(side, 6 + 25 * land)
        b.ankle(side, 25 * hop, -6 * opened)
    b.pitch += 5 * land
    b.neck(turn=_wander(rng, t, 8, 0.3))
    b.flat_feet(weight=1.0 - hop)


_STRETCHES: Final[tuple[str, ...]] = ("overhead", "side_bend", "twist", "lunge", "quad", "arm_across")


def _stretch_key(r: np.random.Generator, name: str, side: str) -> np.ndarray:
    """One held stretching pose as a flat vector: Euler angles (19 x 3), root pitch, root roll."""
    p = _Pose(np.zeros(1))
    other = "R" if side == "L" else "L"
    a = r.uniform(0.75, 1.0)
    if name == "neutral":
        p.shoulder(side, 0, r.uniform(3, 10))
        p.shoulder(other, 0, r.uniform(3, 10))
    elif name == "overhead":
        for s in _SIDES:
            p.shoulder(s, 165 * a, 10)
            p.clavicle(s, elevation=20 * a)
        p.spine(flex=-15 * a)
        p.neck(flex=-15 * a)
    elif name == "side_bend":
        bend = 40 * a * (-1 if side == "L" else 1)  # arm `side` goes over the top
        p.shoulder(side, 20, 150 * a)
        p.elbow(side, 20)
        p.shoulder(other, 5, 10)
        p.spine(bend=bend)
        p.neck(bend=0.3 * bend)
        p.roll += 0.1 * bend
    elif name == "twist":
        twist = 45 * a * (1 if side == "L" else -1)
        for s in _SIDES:
            p.shoulder(s, 10, 85)
        p.spine(twist=twist)
        p.neck(turn=0.8 * twist)
    elif name == "lunge":
        # A low lunge on the back toes, both feet on the ground (neutral skeleton): front ankle
        # 0.39 cos 60 + 0.40 cos 10 + heel 0.04 = back toe 0.39 cos 20 + 0.40 cos 80 + 0.19.
        p.hip(side, 60, 5)
        p.knee(side, 70)
        p.flat_feet((side,))
        p.hip(other, -20, 5)
        p.knee(other, 60)
        p.ankle(other, -10)
        for s in _SIDES:
            p.shoulder(s, 160 * a, 10)
    elif name == "quad":  # standing on one leg, holding the other foot behind
        p.hip(side, -10, 0)
        p.knee(side, 135 * a)
        p.ankle(side, 40)
        p.shoulder(side, -45, 10, -20)
        p.elbow(side, 40)
        p.shoulder(other, 20, 80)
        p.knee(other, 5)
        p.flat_feet((other,))
    else:  # arm_across
        p.shoulder(side, 90, -35, 30)
        p.elbow(side, -12)
        p.shoulder(other, 80, 10, 40)
        p.elbow(other, 100)
        p.neck(turn=20 if side == "R" else -20)
    return np.concatenate([p.euler.ravel(), p.pitch, p.roll])


def _stretch(rng: np.random.Generator, b: _Pose) -> None:
    """Slow stretching exercises, each held a while: overhead, side bends, twists, lunges, ..."""
    order = [str(n) for n in rng.permutation(_STRETCHES)]

    def key(r: np.random.Generator, k: int) -> np.ndarray:
        name = "neutral" if k % 2 == 0 else order[(k // 2) % len(order)]
        return _stretch_key(r, name, str(r.choice(_SIDES)))

    k = _keyframes(rng, b.t, rng.uniform(1.5, 2.5), key)(b.t)
    n = b.euler[0].size
    b.euler = k[:, :n].reshape(b.euler.shape)
    b.pitch += k[:, n]
    b.roll += k[:, n + 1]


# ----------------------------------------------------------------------------------------------
# Broader families of the ``train`` split (docs/motion.md): the everyday and sports actions that
# real capture holds and the five core families miss. ``shift`` keeps its own five, never trained.


def _run(rng: np.random.Generator, b: _Pose) -> None:
    """Running: a flight phase, deep swing knee flexion, forward lean and bent arms pumping."""
    t = b.t
    stride_hz = rng.uniform(1.2, 1.6)
    amp = rng.uniform(0.8, 1.2)
    lean = rng.uniform(5, 15)
    phase = rng.uniform() + stride_hz * t
    for side, p in (("L", phase), ("R", phase + 0.5)):
        c = np.cos(2 * math.pi * p)
        b.hip(side, lean + 10 + 35 * amp * np.cos(2 * math.pi * (p + 0.1)), 4, 3)
        b.knee(side, 20 + 25 * amp * _bump(p, 0.12, 0.06) + 95 * amp * _bump(p, 0.62, 0.12))
        b.ankle(side, 10 * _bump(p, 0.05, 0.05) + 25 * _bump(p, 0.38, 0.06))
        b.shoulder(side, 10 - 45 * amp * c, 12, 10)
        b.elbow(side, 70 + 15 * c)
        b.contact[:, _SIDES.index(side)] = _window(p, 0.0, 0.38)
    fly = np.clip(np.cos(4 * math.pi * (phase - 0.44)), 0, None)  # two flights a stride
    b.lift += rng.uniform(0.03, 0.08) * fly
    c = np.cos(2 * math.pi * phase)
    b.yaw += 6 * c
    b.spine(flex=4, twist=10 * amp * c)
    b.pitch += lean
    b.neck(flex=-0.5 * lean, turn=_wander(rng, t, 10, 0.3))
    b.yaw += _wander(rng, t, rng.uniform(0, 30), 0.15)


def _crouch(rng: np.random.Generator, b: _Pose) -> None:
    """Going down and staying low: a deep squat, one knee down, or both knees down, and back up."""
    t = b.t
    style = rng.choice(["squat", "one_knee", "kneel"])
    front = rng.choice(_SIDES)
    depth = _keyframes(
        rng, t, rng.uniform(1.5, 2.5),
        lambda r, k: np.array([r.uniform(0.7, 1.0) if k % 2 else r.uniform(0.0, 0.3)]),
    )(t)[:, 0]
    hands = _keyframes(
        rng, t, rng.uniform(0.8, 1.5),
        lambda r, k: np.concatenate([_arm_target(r) if r.uniform() < 0.5 else _arm_rest(r) for _ in _SIDES]),
    )(t)
    for side in _SIDES:
        if style == "squat":
            b.hip(side, 110 * depth, 12 * depth, 15 * depth)
            b.knee(side, 140 * depth)
            b.ankle(side, -25 * depth)
        elif style == "one_knee" and side == front:
            b.hip(side, 85 * depth, 5)
            b.knee(side, 95 * depth)
        elif style == "one_knee":
            b.hip(side, -10 * depth, 5)
            b.knee(side, 100 * depth)
            b.ankle(side, -20 * depth)
        else:  # kneeling upright: thighs vertical, shins on the floor
            b.hip(side, 10 * depth, 6)
            b.knee(side, 95 * depth)
            b.ankle(side, 40 * depth)
        i = 4 * _SIDES.index(side)
        b.shoulder(side, hands[:, i], hands[:, i + 1], hands[:, i + 2])
        b.elbow(side, hands[:, i + 3])
    b.pitch += depth * (25 if style == "squat" else 8)
    b.spine(flex=depth * rng.uniform(0, 25), twist=_wander(rng, t, 15, 0.2))
    b.neck(flex=_wander(rng, t, 15, 0.3), turn=_wander(rng, t, 30, 0.2))
    if style == "squat":
        b.flat_feet()
    elif style == "one_knee":
        b.flat_feet((front,))


def _sit(rng: np.random.Generator, b: _Pose) -> None:
    """Sitting down on a seat (not drawn), sitting and gesturing, standing up again."""
    t = b.t
    seated_at = _keyframes(
        rng, t, rng.uniform(1.5, 2.5),
        lambda r, k: np.array([r.uniform(0.85, 1.0) if k % 2 == 0 else r.uniform(0.0, 1.0)]),
    )
    seated = seated_at(t)[:, 0]
    rising = np.abs(seated_at(t + 0.05) - seated_at(t - 0.05))[:, 0] / 0.1  # per s
    cross = rng.uniform() < 0.25
    for side, s in (("L", 1.0), ("R", -1.0)):
        knee = 90 + rng.uniform(-20, 20)
        b.hip(side, 90 * seated, 8 + rng.uniform(0, 12), 5)
        b.knee(side, knee * seated + (30 * seated if cross and side == "R" else 0))
        arm = _keyframes(
            rng, t, rng.uniform(1.0, 2.0),
            lambda r, k: _arm_target(r) if r.uniform() < 0.4 else np.array([r.uniform(20, 45), r.uniform(5, 20), r.uniform(0, 30), r.uniform(40, 80)]),
        )(t)
        b.shoulder(side, arm[:, 0], arm[:, 1], arm[:, 2])
        b.elbow(side, arm[:, 3])
    b.pitch += 25 * np.clip(rising, 0, 2) * seated + rng.uniform(-5, 10) * seated  # lean forward to rise
    b.spine(flex=rng.uniform(-5, 20) * seated, twist=_wander(rng, t, 15, 0.2))
    b.neck(flex=_wander(rng, t, 15, 0.3), turn=_wander(rng, t, 35, 0.2))
    b.flat_feet()


def _climb(rng: np.random.Generator, b: _Pose) -> None:
    """Climbing a ladder or high steps: alternate knees high, hands reaching overhead in turn."""
    t = b.t
    phase = rng.uniform() + rng.uniform(0.5, 0.9) * t
    high = rng.uniform(60, 100)
    for side, p in (("L", phase), ("R", phase + 0.5)):
        up = _bump(p, 0.3, 0.12)
        b.hip(side, 10 + high * up, 8)
        b.knee(side, 10 + 1.2 * high * up)
        b.ankle(side, 10 * up)
        reach = _bump(p + 0.25, 0.3, 0.15)
        b.shoulder(side, 110 + 55 * reach, 15, 0)
        b.clavicle(side, elevation=15 * reach)
        b.elbow(side, 70 - 60 * reach)
        b.contact[:, _SIDES.index(side)] = 1.0 - up
    b.pitch += rng.uniform(-5, 10)
    b.spine(flex=rng.uniform(0, 10), bend=5 * np.sin(2 * math.pi * phase))
    b.neck(flex=-rng.uniform(5, 25))


def _punch(rng: np.random.Generator, b: _Pose) -> None:
    """Boxing: guard, straight punches and hooks with a twist of the trunk, stepping and bouncing."""
    t = b.t
    guard = np.array([45.0, 20.0, 40.0, 100.0])

    def key(r: np.random.Generator, k: int) -> np.ndarray:
        arms = [guard + r.uniform(-10, 10, 4) for _ in _SIDES]
        twist = 0.0
        if k % 2:
            hit = int(r.integers(2))
            hook = r.uniform() < 0.4
            arms[hit] = np.array([r.uniform(75, 100), r.uniform(60, 90) if hook else r.uniform(0, 20),
                                  r.uniform(0, 40), r.uniform(60, 90) if hook else r.uniform(-15, 10)])
            twist = (1 if hit else -1) * r.uniform(15, 35)
        return np.concatenate(arms + [[twist]])

    k = _keyframes(rng, t, rng.uniform(0.35, 0.6), key)(t)
    for i, side in enumerate(_SIDES):
        flex, abd, rot, elbow = k[:, 4 * i : 4 * i + 4].T
        b.shoulder(side, flex, abd, rot)
        b.elbow(side, elbow)
        b.clavicle(side, protraction=np.clip(flex - 60, 0, None) * 0.3)
    bounce = _bump(rng.uniform() + 2.0 * t, 0.0, 0.15)
    stance = rng.uniform(10, 25)
    for side, s in (("L", 1.0), ("R", -1.0)):
        b.hip(side, 15 + 8 * bounce + s * stance * 0.5, 10)
        b.knee(side, 20 + 12 * bounce)
    b.spine(flex=8, twist=k[:, 8])
    b.yaw += 0.3 * k[:, 8]
    b.neck(flex=10)
    b.flat_feet()


def _lean(rng: np.random.Generator, b: _Pose) -> None:
    """Leaning the trunk in every direction (and twisting), the arms following or bracing."""
    t = b.t
    k = _keyframes(
        rng, t, rng.uniform(1.0, 2.0),
        lambda r, i: np.concatenate([[r.uniform(-20, 60), r.uniform(-35, 35), r.uniform(-40, 40), r.uniform(0, 30)],
                                     _arm_target(r), _arm_target(r)]),
    )(t)
    flex, bend, twist, knees = k[:, :4].T
    b.pitch += 0.4 * flex
    b.roll += 0.2 * bend
    b.spine(flex=0.6 * flex, bend=0.8 * bend, twist=twist)
    b.neck(flex=-0.3 * flex, turn=0.5 * twist)
    for i, side in enumerate(_SIDES):
        a = k[:, 4 + 4 * i : 8 + 4 * i]
        b.shoulder(side, a[:, 0], a[:, 1], a[:, 2])
        b.elbow(side, a[:, 3])
        b.hip(side, 0.4 * flex + knees, 6)
        b.knee(side, knees)
    b.flat_feet()


def _arms(rng: np.random.Generator, b: _Pose) -> None:
    """Arm poses in every direction: forward, sideways and up, at shoulder height and above
    (T-pose, pointing, signalling), each arm on its own or mirrored, with a standing body."""
    t = b.t
    mirrored = rng.uniform() < 0.4

    def arm(r: np.random.Generator) -> np.ndarray:
        elevation = r.choice([90.0, r.uniform(0, 180)]) + r.uniform(-10, 10)  # shoulder height often
        azimuth = r.uniform(0, 90)  # 0 forward, 90 sideways
        flex = elevation * math.cos(math.radians(azimuth))
        abd = elevation * math.sin(math.radians(azimuth))
        return np.array([flex, abd, r.uniform(-40, 60), r.choice([r.uniform(-15, 10), r.uniform(10, 120)])])

    def key(r: np.random.Generator, k: int) -> np.ndarray:
        left = arm(r)
        return np.concatenate([left, left if mirrored else arm(r)])

    k = _keyframes(rng, t, rng.uniform(0.8, 1.6), key)(t)
    for i, side in enumerate(_SIDES):
        flex, abd, rot, elbow = k[:, 4 * i : 4 * i + 4].T
        b.shoulder(side, flex, abd, rot)
        b.elbow(side, elbow)
        b.clavicle(side, elevation=np.clip(np.hypot(flex, abd) - 90, 0, None) * 0.2)
    b.spine(flex=_wander(rng, t, 8, 0.2), twist=_wander(rng, t, 15, 0.2))
    b.neck(flex=_wander(rng, t, 15, 0.3), turn=_wander(rng, t, 30, 0.2))
    for side, s in (("L", 1.0), ("R", -1.0)):
        b.hip(side, 3, 4 + s * _wander(rng, t, 3, 0.2))
        b.knee(side, 4)
    b.flat_feet()


def _anything(rng: np.random.Generator, b: _Pose) -> None:
    """Poses drawn over the whole joint-limit space (a Beta(2, 2) draw per angle inside the limits
    of every bone) joined by minimum-jerk blends, slowly: coverage, not realism."""
    lower, upper = (np.degrees(x) for x in (ANNY_JOINT_LIMITS.lower, ANNY_JOINT_LIMITS.upper))
    rest = b.euler[0].copy()

    def key(r: np.random.Generator, k: int) -> np.ndarray:
        u = r.beta(2.0, 2.0, size=lower.shape)
        pose = lower + u * (upper - lower)
        blend = r.uniform(0.3, 1.0)  # part-way from the rest pose, so balanced poses stay common
        return np.concatenate([(rest + blend * (pose - rest)).ravel(), [r.uniform(-15, 30), r.uniform(-10, 10)]])

    k = _keyframes(rng, b.t, rng.uniform(1.0, 1.8), key)(b.t)
    n = b.euler[0].size
    b.euler = k[:, :n].reshape(b.euler.shape)
    b.pitch += k[:, n]
    b.roll += k[:, n + 1]
    b.yaw += _wander(rng, b.t, 40, 0.1)


FAMILIES: Final[dict[str, Callable[[np.random.Generator, _Pose], None]]] = {
    "walk": _walk,
    "reach": _reach,
    "turn": _turn,
    "bend": _bend,
    "idle": _idle,
    "jump": _jump,
    "kick": _kick,
    "dance": _dance,
    "jumping_jacks": _jumping_jacks,
    "stretch": _stretch,
    "run": _run,
    "crouch": _crouch,
    "sit": _sit,
    "climb": _climb,
    "punch": _punch,
    "lean": _lean,
    "arms": _arms,
    "anything": _anything,
}


# ----------------------------------------------------------------------------------------------
# Limits, root placement and the public entry point


def _soft_clip(x: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Identity in the middle of [lower, upper], saturating smoothly (C2) into the bounds."""
    margin = np.minimum(np.radians(8.0), (upper - lower) / 4)
    hi, lo = upper - margin, lower + margin
    safe = np.maximum(margin, 1e-9)
    y = np.where(x > hi, hi + margin * np.tanh((x - hi) / safe), x)
    y = np.where(x < lo, lo - margin * np.tanh((lo - x) / safe), y)
    return np.clip(y, lower, upper)


#: Anny's rest (neutral shape) leg points in the body frame, left leg; the right one is mirrored.
#: Rows: hip, knee, ankle joints, then heel, big toe, small toe keypoints.
_LEFT_LEG_REST: Final[np.ndarray] = np.array(
    [
        [0.102, 0.007, 0.004],
        [0.133, 0.396, -0.028],
        [0.170, 0.796, 0.000],
        [0.175, 0.832, 0.037],
        [0.154, 0.848, -0.186],
        [0.211, 0.851, -0.151],
    ]
)
#: Temperatures (m) of the soft maxima that find the ground contact and the weight-bearing foot.
_GROUND_SOFTNESS: Final[float] = 0.003
_CONTACT_SOFTNESS: Final[float] = 0.01


def _feet(pose: np.ndarray, root: np.ndarray) -> np.ndarray:
    """Forward kinematics of the legs on the neutral rest skeleton.

    Args:
        pose: (T, 19, 3) axis-angle (local-ref). root: (T, 3, 3) root rotation in the body frame.
    Returns:
        (T, 2, 4, 3) ankle, heel, big toe and small toe of the left then right foot, relative to
        the root, in body-frame axes after the root rotation.
    """
    rot = roma.rotvec_to_rotmat(torch.from_numpy(pose)).numpy()
    rot = ANNY_TO_BODY @ rot @ ANNY_TO_BODY.T  # (T, 19, 3, 3) in body axes
    legs = []
    for side, mirror in (("L", 1.0), ("R", -1.0)):
        rest = _LEFT_LEG_REST * np.array([mirror, 1.0, 1.0])
        hip, knee, ankle = (rot[:, _BONE[f"{b}.{side}"]] for b in ("upperleg01", "lowerleg01", "foot"))
        g_hip = root @ hip
        g_knee = g_hip @ knee
        g_foot = g_knee @ ankle
        # einsum legend: t time, i/j xyz, n points
        p_hip = np.einsum("tij,j->ti", root, rest[0])
        p_knee = p_hip + np.einsum("tij,j->ti", g_hip, rest[1] - rest[0])
        p_ankle = p_knee + np.einsum("tij,j->ti", g_knee, rest[2] - rest[1])
        p_foot = p_ankle[:, None] + np.einsum("tij,nj->tni", g_foot, rest[3:] - rest[2])
        legs.append(np.concatenate([p_ankle[:, None], p_foot], axis=1))
    return np.stack(legs, axis=1)


def _soft_max(y: np.ndarray, axis: int, tau: float = _GROUND_SOFTNESS) -> np.ndarray:
    """Smooth maximum (log-sum-exp at temperature ``tau``) along ``axis``."""
    top = y.max(axis=axis, keepdims=True)
    out = top + tau * np.log(np.exp((y - top) / tau).sum(axis=axis, keepdims=True))
    return np.squeeze(out, axis=axis)


def _place_root(pose: np.ndarray, root: np.ndarray, lift: np.ndarray, contact: np.ndarray) -> np.ndarray:
    """(T, 3) root translation keeping the lowest foot point on the ground (plus ``lift`` metres of
    flight) and the weight-bearing foot from sliding.

    ``contact`` (T, 2) weights the left/right foot; where it is NaN the lower foot (softly) bears
    the weight. The root moves by minus the weighted motion of the feet relative to it.
    """
    feet = _feet(pose, root)  # (T, 2, 4, 3); y is down, so the lowest point has the largest y
    ground = _soft_max(_feet(np.zeros_like(pose[:1]), np.eye(3)[None])[0, ..., 1].ravel(), 0)
    per_foot = _soft_max(feet[..., 1], -1)  # (T, 2)
    trans = np.zeros((len(pose), 3))
    trans[:, 1] = ground - _soft_max(per_foot, -1) - lift
    lower = np.exp((per_foot - per_foot.max(1, keepdims=True)) / _CONTACT_SOFTNESS)
    weight = np.where(np.isnan(contact), lower, contact)
    weight /= weight.sum(1, keepdims=True)
    anchor = feet.mean(axis=2)[..., [0, 2]]  # (T, 2, 2) foot centres, x and z
    if len(pose) > 1:
        w = 0.5 * (weight[1:] + weight[:-1])[..., None]
        trans[1:, [0, 2]] = np.cumsum(-(w * np.diff(anchor, axis=0)).sum(1), axis=0)
    return trans


#: Depth of the lowest foot point below the root at rest for the neutral shape (m): the leg length
#: the root placement assumes.
NEUTRAL_FOOT_DEPTH: Final[float] = 0.851


def fit_root_to_body(motion: Motion, foot_depth: float) -> Motion:
    """Scale the root path to a subject whose lowest rest foot point is ``foot_depth`` metres below
    the root (``body(zeros, shape).keypoints[0, 15:, 1].max()``).

    The root placement runs on the neutral skeleton; the strides and the sinking of a taller or
    shorter subject scale with the leg, so scaling ``root_trans`` keeps the feet planted.
    """
    if not foot_depth > 0:
        raise ValueError(f"foot_depth must be positive, got {foot_depth}")
    scale = np.float32(foot_depth / NEUTRAL_FOOT_DEPTH)
    return replace(motion, root_trans=motion.root_trans * scale)


def generate_motion(
    family: str,
    rng: np.random.Generator,
    num_frames: int = 30,
    fps: float = 30.0,
    limits: JointLimits = ANNY_JOINT_LIMITS,
) -> Motion:
    """One random clip of ``family`` (a pure function of the generator's state).

    Args:
        family: one of :data:`TRAIN_FAMILIES` or :data:`SHIFT_FAMILIES`.
        num_frames: T >= 1. fps: frames per second (> 0); motions are defined in seconds.
    Returns:
        A :class:`Motion` whose pose lies inside ``limits``.
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown motion family {family!r}; choose from {sorted(FAMILIES)}")
    if num_frames < 1 or not fps > 0:
        raise ValueError(f"need num_frames >= 1 and fps > 0, got {num_frames}, {fps}")
    speed = rng.uniform(0.8, 1.25)  # clip-level tempo: time runs faster or slower
    t = np.arange(num_frames) * speed / fps
    b = _Pose(t)
    FAMILIES[family](rng, b)
    euler = _soft_clip(np.radians(b.euler), limits.lower, limits.upper)
    pose = euler_to_pose(euler, limits)
    angles = torch.from_numpy(np.radians(np.stack([b.yaw - b.yaw[0], b.pitch, b.roll], -1)))
    root = roma.euler_to_rotmat("YXZ", angles).numpy()  # heading, then lean forward, then sideways
    trans = _place_root(pose, root, b.lift, b.contact)
    return Motion(
        pose=pose.astype(np.float32),
        root_orient=roma.rotmat_to_rotvec(torch.from_numpy(root)).numpy().astype(np.float32),
        root_trans=trans.astype(np.float32),
        fps=float(fps),
        family=family,
    )
