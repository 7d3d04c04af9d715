import torch

from selfmocap.geometry.camera import Camera, euler_to_rotmat
from selfmocap.losses import keypoint_reprojection_loss
from selfmocap.models.network import Prediction, fixed_depth_camera
from selfmocap.training.losses import (
    LossTerms,
    LossWeights,
    point_distance_loss,
    root_projection,
    rotation_loss,
    supervised_losses,
)


def _camera(b: int, dtype=torch.float64) -> Camera:
    torch.manual_seed(0)
    return Camera(
        focal=torch.full((b,), 400.0, dtype=dtype),
        rotation=euler_to_rotmat(torch.randn(b, 3, dtype=dtype)),
        trans=torch.randn(b, 2, dtype=dtype) * 0.2,
        depth=torch.full((b,), 3.0, dtype=dtype),
        principal=torch.full((b, 2), 64.0, dtype=dtype),
    )


def test_reprojection_and_root_by_hand():
    cam = Camera(torch.tensor([100.0]), torch.eye(3)[None], torch.tensor([[0.5, -0.25]]), torch.tensor([2.0]), torch.tensor([[64.0, 60.0]]))
    assert torch.allclose(root_projection(cam), torch.tensor([[64 + 25.0, 60 - 12.5]]))
    pts = torch.tensor([[[0.0, 0.0, 0.0], [0.5, 0.0, 2.0]]])  # -> (89, 47.5) and (64 + 100 * 1 / 4, 60 - 100 * 0.25 / 4)
    target = torch.tensor([[[89.0, 47.5], [89.0 + 12.8, 53.75]]])
    assert torch.allclose(keypoint_reprojection_loss(pts, cam, target, scale=128), torch.tensor((12.8 / 128) ** 2 / 2))


def test_losses_vanish_at_the_truth(body):
    b = 3
    torch.manual_seed(1)
    pose, shape = euler_to_rotmat(torch.randn(b, 19, 3) * 0.3), torch.rand(b, 6)
    cam = _camera(b, torch.float32)
    target = fixed_depth_camera(cam.replace(depth=torch.full((b,), 4.0)), 4.0)
    with torch.no_grad():
        out = body(pose, shape)
    from selfmocap.geometry.camera import project

    terms = supervised_losses(Prediction(pose, shape, target), out, pose, shape, target, out, project(out.keypoints, target), 128)
    assert all(abs(float(v)) < 1e-8 for v in terms.stacked())
    assert float(terms.total(LossWeights())) < 1e-8 and len(LossTerms.names()) == 8


def test_loss_gradcheck():
    torch.manual_seed(0)
    cam = _camera(2)
    pts = torch.randn(2, 5, 3, dtype=torch.float64, requires_grad=True)
    focal = cam.focal.clone().requires_grad_()
    target = torch.randn(2, 5, 2, dtype=torch.float64) * 10 + 64
    assert torch.autograd.gradcheck(lambda p, f: keypoint_reprojection_loss(p, cam.replace(focal=f), target, scale=128), (pts, focal))
    a = torch.randn(2, 7, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: point_distance_loss(x, torch.zeros_like(x) + 0.3), (a,))
    r = euler_to_rotmat(torch.randn(2, 4, 3, dtype=torch.float64)).requires_grad_()
    assert torch.autograd.gradcheck(lambda x: rotation_loss(x, torch.eye(3, dtype=torch.float64).expand(2, 4, 3, 3)), (r,))
