"""The world frame (``selfmocap.export.world``): each step on analytic cases, then the whole
placement against a synthetic clip's known distance, ground and contacts."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import roma
import torch

from selfmocap.export.world import (
    GroundPlane,
    fit_ground,
    foot_contacts,
    foot_lock_offsets,
    contact_patch_steps,
    foot_speed,
    lowest_foot_points,
    metric_root_translation,
    place_in_world,
    prior_focal,
    reprojection_shift,
    world_from_camera,
)
from selfmocap.export.config import WorldOptions
from selfmocap.geometry.camera import Camera, project, project_camera_space


def _rx(deg: float) -> np.ndarray:
    return roma.euler_to_rotmat("X", torch.tensor([math.radians(deg)], dtype=torch.float64)).numpy()


def test_prior_focal_is_the_field_of_view_across_the_longer_side():
    assert prior_focal((1000, 600), 90.0) == pytest.approx(500.0)
    assert prior_focal((600, 1000), 90.0) == pytest.approx(500.0)  # portrait: the longer side is the height
    assert prior_focal((480, 270), 65.0) == pytest.approx(240.0 / math.tan(math.radians(32.5)))
    with pytest.raises(ValueError, match="fov"):
        WorldOptions(fov=0.0)


@pytest.mark.parametrize("t", [1, 5])
def test_metric_root_keeps_the_root_pixel_and_the_apparent_size(t):
    rng = np.random.default_rng(t)
    cam = np.zeros((t, 9))
    cam[:, 0] = rng.uniform(300, 900, t)
    cam[:, 1:4] = rng.normal(0, 0.3, (t, 3))
    cam[:, 4:6] = rng.normal(0, 0.3, (t, 2))
    cam[:, 6] = 4.0
    cam[:, 7:9] = (320, 240)
    focal = 500.0
    root = metric_root_translation(cam, focal)
    assert root.shape == (t, 3)
    assert np.allclose(root[:, 2], 4.0 * focal / cam[:, 0])  # Z = D0 focal / f
    net = Camera.from_array(torch.from_numpy(cam))
    real = Camera(focal=torch.full((t,), focal, dtype=torch.float64), rotation=net.rotation,
                  trans=torch.from_numpy(root[:, :2]), depth=torch.from_numpy(root[:, 2]), principal=net.principal)
    origin = torch.zeros(t, 1, 3, dtype=torch.float64)
    assert torch.allclose(project(origin, net), project(origin, real))  # the root pixel, by hand: f Tx / D0 + cx
    # a metre parallel to the image plane at the root has the same apparent size (its pixels)
    step = torch.tensor([[[0.3, 0.2, 0.0]]], dtype=torch.float64)
    for cam_ in (net, real):
        at = cam_.translation()[:, None]
        size = project_camera_space(at + step, cam_) - project_camera_space(at, cam_)
        assert torch.allclose(size, (cam_.focal / cam_.depth)[:, None, None] * step[..., :2])
    assert torch.allclose(real.focal / real.depth, net.focal / net.depth)
    with pytest.raises(ValueError, match="camera must be"):
        metric_root_translation(cam[:, :8], focal)


def _objective(normal, points, weights, prior, spread):
    normal = normal / np.linalg.norm(normal)
    centre = (weights[:, None] * points).sum(0) / weights.sum()
    r = (points - centre) @ normal
    perp = normal - (normal @ prior) * prior
    return (weights * r**2).sum() + weights.sum() * spread**2 * (perp @ perp)


def test_fit_ground_recovers_a_tilted_plane_and_ignores_outliers():
    rng = np.random.default_rng(0)
    up = _rx(12.0) @ np.array([0.0, -1.0, 0.0])  # a camera pitched 12 degrees down sees the ground's normal tilted
    height = 1.4
    # points on the plane n.p + 1.4 = 0, spread over 3 m, 5 mm noise, 10 % outliers 20-40 cm above it
    a = np.cross(up, [1.0, 0, 0])
    a /= np.linalg.norm(a)
    b = np.cross(up, a)
    uv = rng.uniform(-1.5, 1.5, (200, 2))
    points = -height * up + np.array([0.0, 0.0, 4.0]) @ np.eye(3) + uv[:, :1] * a + uv[:, 1:] * b
    points -= np.outer(points @ up + height, up)  # exactly on the plane
    points += rng.normal(0, 0.005, (200, 1)) * up
    points[:20] += rng.uniform(0.2, 0.4, (20, 1)) * up
    plane = fit_ground(points, np.ones(200), prior_normal=np.array([0.0, -1.0, 0.0]))
    assert math.degrees(math.acos(min(1.0, plane.normal @ up))) < 0.5
    assert plane.offset == pytest.approx(height, abs=0.01)
    inliers = points[20:]
    # the slow reference: no other normal near it has a lower objective on the inliers
    w = np.ones(len(inliers))
    prior = np.array([0.0, -1.0, 0.0])
    best = _objective(plane.normal, inliers, w, prior, 0.05)
    for _ in range(300):
        other = plane.normal + rng.normal(0, 0.02, 3)
        assert _objective(other, inliers, w, prior, 0.05) >= best - 1e-9


def test_fit_ground_with_one_planted_spot_keeps_the_prior_normal():
    rng = np.random.default_rng(1)
    prior = _rx(-20.0) @ np.array([0.0, -1.0, 0.0])
    spot = np.array([0.2, 1.3, 3.0]) + rng.normal(0, 0.01, (30, 3))  # all contacts within a few cm
    plane = fit_ground(spot, np.ones(30), prior_normal=prior)
    assert math.degrees(math.acos(min(1.0, plane.normal @ prior))) < 3.0
    assert abs(plane.height(spot).mean()) < 0.01
    with pytest.raises(ValueError, match="need points"):
        fit_ground(spot, np.zeros(30), prior_normal=prior)


def test_world_from_camera_level_and_pitched():
    level = world_from_camera(GroundPlane(normal=np.array([0.0, -1.0, 0.0]), offset=1.5))
    assert np.allclose(level[:3, :3], np.diag([1.0, -1.0, -1.0]))  # OpenCV -> y up, z to the viewer
    assert np.allclose(level[:3, 3], [0.0, 1.5, 0.0])
    pitched = GroundPlane(normal=_rx(15.0) @ np.array([0.0, -1.0, 0.0]), offset=2.0)
    m = world_from_camera(pitched)
    assert np.allclose(m[:3, :3] @ m[:3, :3].T, np.eye(3)) and np.linalg.det(m[:3, :3]) == pytest.approx(1.0)
    # a ground point seen by the camera lands at world y = 0; the optical axis points 15 degrees down
    p = np.array([0.3, 0.0, 5.0])
    p = p - (pitched.height(p)) * pitched.normal
    assert (m[:3, :3] @ p + m[:3, 3])[1] == pytest.approx(0.0, abs=1e-12)
    forward = m[:3, :3] @ [0.0, 0.0, 1.0]
    assert math.degrees(math.asin(-forward[1])) == pytest.approx(15.0)
    assert forward[0] == pytest.approx(0.0, abs=1e-12)  # no yaw


def test_lowest_points_and_speed():
    feet = np.zeros((3, 2, 4, 3))
    feet[..., 1] = np.arange(4)  # camera y (down): point 3 is the lowest for up = -y
    low = lowest_foot_points(feet, np.array([0.0, -1.0, 0.0]))
    assert low.shape == (3, 2, 3) and np.all(low[..., 1] == 3)
    steps = np.zeros((4, 1, 3))
    steps[:, 0, 0] = 0.1  # 0.1 m per frame at 30 fps: 3 m/s
    assert np.allclose(foot_speed(steps, 30.0), 3.0)
    assert np.allclose(foot_speed(steps[:0], 30.0), 0.0)


def test_contact_patch_steps_rolling_and_sliding():
    # a 25 cm sole (y up here) rolling about its heel by 3 degrees in a frame: the heel stays, so the patch does not move
    sole = np.stack([np.linspace(0.0, 0.25, 26), np.zeros(26), np.zeros(26)], 1)
    up = np.array([0.0, 1.0, 0.0])
    tilt = roma.euler_to_rotmat("Z", torch.tensor([[0.0], [0.05]], dtype=torch.float64)).numpy()
    rolled = np.einsum("tij,nj->tni", tilt, sole)[:, None]  # (2, 1, N, 3)
    assert np.abs(contact_patch_steps(rolled, up)[..., [0, 2]]).max() < 1e-3  # horizontally: what locking uses
    # the same sole sliding 2 cm: the patch moves 2 cm
    slid = np.stack([sole, sole + [0.02, 0.0, 0.0]])[:, None]
    assert np.allclose(contact_patch_steps(slid, up)[0, 0], [0.02, 0.0, 0.0])


def test_contacts_have_hysteresis():
    opts = WorldOptions(contact_height=0.05, contact_speed=0.5, contact_release=2.0)
    height = np.array([0.2, 0.04, 0.08, 0.09, 0.11, 0.04, 0.0])[:, None]
    speed = np.array([0.0, 0.1, 0.1, 0.9, 0.1, 0.1, 1.2])[:, None]
    # lands at 1; 0.08 m and 0.9 m/s are within the release band; 0.11 m lifts off; lands; 1.2 m/s lifts off
    assert foot_contacts(height, speed, opts)[:, 0].tolist() == [False, True, True, True, False, True, False]
    with pytest.raises(ValueError, match="both be"):
        foot_contacts(height, speed[:-1], opts)


def test_foot_lock_stops_a_sliding_planted_foot_and_lifts_out_of_the_ground():
    t = 40
    anchors = np.zeros((t, 2, 3))
    anchors[:, 0, 0] = 0.01 * np.arange(t)  # the left foot slides 1 cm per frame while planted
    anchors[:, 1] = (0.3, 0.2, 0.0)  # the right foot swings, off the ground
    lowest = np.stack([np.full(t, -0.03), np.full(t, 0.2)], 1)  # the planted foot 3 cm in the ground
    contacts = np.zeros((t, 2), bool)
    contacts[:, 0] = True
    opts = WorldOptions(lock_time_constant=1e6)  # no decay: an exact lock
    steps = np.diff(anchors, axis=0)
    offset = foot_lock_offsets(steps, lowest, contacts, 30.0, opts)
    fixed = anchors[:, 0] + offset
    assert np.abs(np.diff(fixed[:, [0, 2]], axis=0)).max() < 1e-6
    assert np.allclose(lowest[:, 0] + offset[:, 1], 0.0)
    # with the default decay (10 s) a steady slide returns only slowly: 1 - exp(-n / (10 fps)) of it after n frames
    offset = foot_lock_offsets(steps, lowest, contacts, 30.0, WorldOptions())
    slide = np.linalg.norm(np.diff((anchors[:, 0] + offset)[:, [0, 2]], axis=0), axis=1)
    assert np.allclose(slide, 0.01 * (1 - np.exp(-np.arange(1, t) / 300.0)), atol=1e-6)
    assert np.abs(offset[:, 0]).max() < 0.01 * t
    # no contact at all: only the lift, every frame's lowest point at or above the ground
    off = foot_lock_offsets(steps, lowest - 0.1, np.zeros((t, 2), bool), 30.0, WorldOptions())
    assert np.allclose(off[:, [0, 2]], 0.0) and np.all(lowest.min(1) - 0.1 + off[:, 1] >= -1e-12)


# --- the whole placement ---


def test_exact_reprojection_when_the_prior_matches_the_network_focal(body, motion):
    """The world frame is a rigid transform of camera space: with the network's own (constant)
    focal as the prior and no foot locking, the exported camera sees every keypoint where Eq. 3 did."""
    cam = motion.camera.copy()
    cam[:, 0] = 40.0
    still = replace(motion, camera=cam, world=None)
    from selfmocap.export.motion import captured_motion

    still = captured_motion(body, still.pose, still.shape, cam, fps=still.fps, image_size=still.image_size, world=None)
    fov = math.degrees(2 * math.atan(0.5 * max(still.image_size) / 40.0))
    world = place_in_world(still, body, WorldOptions(fov=fov, foot_lock=False))
    assert world.focal == pytest.approx(40.0)
    lifted = np.abs(world.foot_offset).max(1) > 0
    shift = reprojection_shift(still, world)
    assert shift[~lifted].max() < 1e-4  # pixels
    assert np.allclose(world.distance()[~lifted], np.linalg.norm(cam[~lifted, 4:7], axis=1))


@pytest.fixture(scope="module")
def synthetic(body, tmp_path_factory):
    """A walking synthetic clip with its true camera (focal, distance) and ground, as the network
    would describe it (the fixed 4 m depth, the focal scaled to keep the apparent size)."""
    from selfmocap.export.motion import captured_motion
    from selfmocap.synth.generator import sample_scene
    from selfmocap.synth.motion import ProceduralMotion
    from selfmocap.synth.splits import clip_rng

    fps, frames, size = 30.0, 45, 256
    scene, out = sample_scene(clip_rng(0, "test", 7), "test", body, frames, size, fps, ProceduralMotion(("walk",)))
    truth = scene.camera.astype(np.float64)
    net = truth.copy()
    net[:, 0] = truth[:, 0] * 4.0 / truth[:, 6]
    net[:, 6] = 4.0
    motion = captured_motion(body, scene.pose, scene.shape, net, fps=fps, image_size=(size, size), world=None)
    return scene, out, truth, motion


def test_placement_recovers_the_distance_ground_and_contacts_of_a_synthetic_clip(body, synthetic):
    scene, out, truth, motion = synthetic
    focal = float(truth[0, 0])
    fov = math.degrees(2 * math.atan(0.5 * motion.image_size[0] / focal))  # the true camera as the prior
    world = place_in_world(motion, body, WorldOptions(fov=fov))
    # the distance to the camera (without the small foot-locking offsets): the truth
    raw = world.translation - world.foot_offset
    assert np.allclose(np.linalg.norm(raw - world.camera_position, axis=1), np.linalg.norm(truth[:, 4:7], axis=1), rtol=1e-6)
    # the ground's normal is the scene's up (the motion's -y seen through the camera's view rotation)
    elevation_view = Camera.from_array(torch.from_numpy(truth)).rotation.numpy()[0] @ roma.rotvec_to_rotmat(
        torch.from_numpy(scene.motion.root_orient[:1]).double()).numpy()[0].T
    true_up = elevation_view @ np.array([0.0, -1.0, 0.0])
    up = world.world_from_camera[1, :3]  # world y in camera coordinates
    assert math.degrees(math.acos(min(1.0, up @ true_up))) < 3.0
    # in the world frame the feet stand on y = 0: the lowest vertex of each frame at most 2 cm above it, never below
    vertices = world.points(out.vertices.double().numpy())
    low = vertices[..., 1].min(1)
    assert low.min() > -1e-3 and np.median(low) < 0.02
    # a walk: each foot is planted part of the time, and at most frames at least one foot is
    assert 0.2 < world.contacts.mean() < 0.9 and world.contacts.any(1).mean() > 0.7
    # a planted foot does not slide (< 1 cm/frame horizontally; the decay allows a little)
    names = list(body.keypoint_names)
    left = [names.index(n) for n in ("left_ankle", "left_big_toe", "left_small_toe", "left_heel")]
    right = [names.index(n) for n in ("right_ankle", "right_big_toe", "right_small_toe", "right_heel")]
    kp = world.points(motion.keypoints3d.astype(np.float64))
    feet = np.stack([kp[:, left].mean(1), kp[:, right].mean(1)], 1)
    step = np.linalg.norm(np.diff(feet[..., [0, 2]], axis=0), axis=-1)
    planted = world.contacts[1:] & world.contacts[:-1]
    assert step[planted].mean() < 0.005 and step[planted].max() < 0.02


def test_world_frame_moves_the_image_only_by_perspective_and_foot_locking(body, synthetic):
    """Seen through the exported camera, the world-frame keypoints land near Eq. 3's pixels: the
    focal/distance change alters only the perspective within the body, foot locking moves it a little."""
    _, _, truth, motion = synthetic
    fov = math.degrees(2 * math.atan(0.5 * motion.image_size[0] / float(truth[0, 0])))
    unlocked = place_in_world(motion, body, WorldOptions(fov=fov, foot_lock=False))
    locked = place_in_world(motion, body, WorldOptions(fov=fov))
    height_px = np.ptp(motion.keypoints2d[..., 1], axis=1).mean()
    shift_rigid = reprojection_shift(motion, unlocked)
    shift_locked = reprojection_shift(motion, locked)
    assert shift_rigid.mean() < 0.01 * height_px
    assert shift_locked.mean() < 0.04 * height_px
