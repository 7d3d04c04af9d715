"""Eq. 2-4 keypoint re-projection loss against hand-computed numbers and a slow reference."""

from __future__ import annotations

import pytest
import torch
from loss_helpers import identity_camera, random_camera

from selfmocap.geometry.camera import Camera
from selfmocap.losses import KeypointReprojectionLoss, keypoint_reprojection_loss


def _reference(keypoints3d, camera, keypoints2d, confidence, scale):
    """Per-frame double loop with the projection written out (Eq. 3)."""
    out = []
    for b in range(keypoints3d.shape[0]):
        num, den = 0.0, 0.0
        for k in range(keypoints3d.shape[1]):
            c = float(confidence[b, k])
            if c == 0:
                continue
            xc = camera.rotation[b] @ keypoints3d[b, k] + camera.translation()[b]
            u = camera.focal[b] * xc[0] / xc[2] + camera.principal[b, 0]
            v = camera.focal[b] * xc[1] / xc[2] + camera.principal[b, 1]
            num += c * float((u - keypoints2d[b, k, 0]) ** 2 + (v - keypoints2d[b, k, 1]) ** 2)
            den += c
        out.append(num / (den * scale**2) if den > 0 else 0.0)
    return torch.tensor(out, dtype=torch.float64)


def _data(b, k=7, seed=0):
    g = torch.Generator().manual_seed(seed)
    cam = random_camera(b, seed=seed)
    kp3 = (torch.rand(b, k, 3, generator=g, dtype=torch.float64) - 0.5)
    kp2 = 64 * torch.rand(b, k, 2, generator=g, dtype=torch.float64)
    conf = torch.rand(b, k, generator=g, dtype=torch.float64)
    conf[conf < 0.2] = 0
    return kp3, cam, kp2, conf


def test_by_hand():
    cam = identity_camera(1, focal=100.0, depth=5.0)
    kp3 = torch.tensor([[[0.5, 0.0, 0.0], [0.0, -0.5, 0.0]]], dtype=torch.float64)  # -> (42, 32), (32, 22)
    kp2 = torch.tensor([[[40.0, 32.0], [32.0, 25.0]]], dtype=torch.float64)  # errors 2^2 and 3^2
    conf = torch.tensor([[1.0, 3.0]], dtype=torch.float64)
    loss = keypoint_reprojection_loss(kp3, cam, kp2, conf)
    assert loss.item() == pytest.approx((1 * 4 + 3 * 9) / 4)
    assert keypoint_reprojection_loss(kp3, cam, kp2, conf, scale=10.0).item() == pytest.approx(31 / 4 / 100)
    assert keypoint_reprojection_loss(kp3, cam, kp2).item() == pytest.approx(13 / 2)


@pytest.mark.parametrize("b", [1, 5])
def test_matches_reference(b):
    kp3, cam, kp2, conf = _data(b, seed=b)
    scale = 64.0
    per_frame = keypoint_reprojection_loss(kp3, cam, kp2, conf, scale=scale, reduction="none")
    assert per_frame.shape == (b,)
    ref = _reference(kp3, cam, kp2, conf, scale)
    assert torch.allclose(per_frame, ref, rtol=1e-10, atol=1e-12)
    assert torch.allclose(keypoint_reprojection_loss(kp3, cam, kp2, conf, scale=scale), ref.mean())


def test_per_frame_scale_tensor():
    kp3, cam, kp2, conf = _data(3)
    scale = torch.tensor([32.0, 64.0, 128.0], dtype=torch.float64)
    got = keypoint_reprojection_loss(kp3, cam, kp2, conf, scale=scale, reduction="none")
    ref = torch.stack([_reference(kp3[i : i + 1], cam.index(slice(i, i + 1)), kp2[i : i + 1], conf[i : i + 1], float(scale[i]))[0]
                       for i in range(3)])
    assert torch.allclose(got, ref)


def test_resolution_independent_with_scale():
    """Doubling the image (focal, principal point, targets) with scale = image side changes nothing."""
    kp3, cam, kp2, conf = _data(2)
    big = cam.replace(focal=2 * cam.focal, principal=2 * cam.principal)
    small = keypoint_reprojection_loss(kp3, cam, kp2, conf, scale=64.0)
    assert torch.allclose(keypoint_reprojection_loss(kp3, big, 2 * kp2, conf, scale=128.0), small)


def test_zero_confidence_frames_and_nan_targets():
    kp3, cam, kp2, conf = _data(3)
    conf[1] = 0  # a frame without detections
    kp2[1] = float("nan")
    kp2[0, conf[0] == 0] = float("nan")  # undetected keypoints may hold NaN
    kp3.requires_grad_(True)
    per_frame = keypoint_reprojection_loss(kp3, cam, kp2, conf, reduction="none")
    assert per_frame[1] == 0
    loss = keypoint_reprojection_loss(kp3, cam, kp2, conf)
    assert torch.isfinite(loss) and torch.allclose(loss, per_frame[[0, 2]].mean())
    loss.backward()
    assert torch.isfinite(kp3.grad).all() and (kp3.grad[1] == 0).all()


def test_no_confidence_at_all_is_zero_and_differentiable():
    kp3, cam, kp2, _ = _data(2)
    kp3.requires_grad_(True)
    loss = keypoint_reprojection_loss(kp3, cam, kp2, torch.zeros(2, 7, dtype=torch.float64))
    assert loss.item() == 0
    loss.backward()
    assert (kp3.grad == 0).all()


def test_gradcheck():
    kp3, cam, kp2, conf = _data(2, k=4)
    focal = cam.focal.clone().requires_grad_(True)
    trans = cam.trans.clone().requires_grad_(True)
    kp3.requires_grad_(True)

    def f(kp3, focal, trans):
        c = Camera(focal=focal, rotation=cam.rotation, trans=trans, depth=cam.depth, principal=cam.principal)
        return keypoint_reprojection_loss(kp3, c, kp2, conf, scale=64.0)

    assert torch.autograd.gradcheck(f, (kp3, focal, trans))


def test_module_matches_function():
    kp3, cam, kp2, conf = _data(2)
    module = KeypointReprojectionLoss(reduction="none")
    assert torch.equal(module(kp3, cam, kp2, conf, scale=2.0),
                       keypoint_reprojection_loss(kp3, cam, kp2, conf, scale=2.0, reduction="none"))


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda kp3, kp2, conf: (kp3[..., :2], kp2, conf), "keypoints3d"),
        (lambda kp3, kp2, conf: (kp3, torch.cat([kp2, kp2[..., :1]], -1), conf), "keypoints2d"),
        (lambda kp3, kp2, conf: (kp3, kp2[:, :3], conf), "keypoints2d"),
        (lambda kp3, kp2, conf: (kp3, kp2, conf[:, :3]), "confidence"),
        (lambda kp3, kp2, conf: (kp3, kp2, -conf), "non-negative"),
        (lambda kp3, kp2, conf: (kp3[:1], kp2[:1], conf[:1]), "keypoints3d"),
    ],
)
def test_shape_errors(change, match):
    kp3, cam, kp2, conf = _data(2)
    conf = conf + 0.1
    with pytest.raises(ValueError, match=match):
        keypoint_reprojection_loss(*change(kp3, kp2, conf)[:1], cam, *change(kp3, kp2, conf)[1:])


def test_bad_scale_and_reduction():
    kp3, cam, kp2, conf = _data(2)
    with pytest.raises(ValueError, match="scale"):
        keypoint_reprojection_loss(kp3, cam, kp2, conf, scale=0.0)
    with pytest.raises(ValueError, match="scale"):
        keypoint_reprojection_loss(kp3, cam, kp2, conf, scale=torch.ones(3))
    with pytest.raises(ValueError, match="reduction"):
        keypoint_reprojection_loss(kp3, cam, kp2, conf, reduction="sum")
