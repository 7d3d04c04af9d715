import math

import numpy as np
import pytest
import torch

from selfmocap.geometry.camera import (
    Camera,
    back_project,
    camera_oriented,
    euler_to_rotmat,
    pinhole_project,
    project,
    rotmat_to_euler,
    to_camera_space,
)


def _rx(t):
    c, s = math.cos(t), math.sin(t)
    return torch.tensor([[1, 0, 0], [0, c, -s], [0, s, c]], dtype=torch.float64)


def _ry(t):
    c, s = math.cos(t), math.sin(t)
    return torch.tensor([[c, 0, s], [0, 1, 0], [-s, 0, c]], dtype=torch.float64)


def _rz(t):
    c, s = math.cos(t), math.sin(t)
    return torch.tensor([[c, -s, 0], [s, c, 0], [0, 0, 1]], dtype=torch.float64)


def _camera(b, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    euler = (torch.rand(b, 3, generator=g, dtype=dtype) - 0.5) * 2
    return Camera(
        focal=300 + 100 * torch.rand(b, generator=g, dtype=dtype),
        rotation=euler_to_rotmat(euler),
        trans=(torch.rand(b, 2, generator=g, dtype=dtype) - 0.5) * 0.4,
        depth=4 + torch.rand(b, generator=g, dtype=dtype),
        principal=torch.full((b, 2), 64.0, dtype=dtype),
    )


def test_euler_is_rx_ry_rz():
    a, b, g = 0.3, -0.5, 0.7
    expected = _rx(a) @ _ry(b) @ _rz(g)
    assert torch.allclose(euler_to_rotmat(torch.tensor([a, b, g], dtype=torch.float64)), expected)


@pytest.mark.parametrize("batch", [(), (1,), (5, 6)])
def test_euler_round_trip(batch):
    euler = (torch.rand(*batch, 3, dtype=torch.float64) - 0.5) * torch.tensor([3.0, 3.0, 3.0], dtype=torch.float64)
    euler[..., 1] = euler[..., 1].clamp(-1.4, 1.4)
    assert torch.allclose(rotmat_to_euler(euler_to_rotmat(euler)), euler, atol=1e-9)


def test_projection_by_hand():
    cam = Camera(
        focal=torch.tensor([100.0]),
        rotation=torch.eye(3)[None],
        trans=torch.tensor([[0.1, -0.2]]),
        depth=torch.tensor([5.0]),
        principal=torch.tensor([[64.0, 32.0]]),
    )
    pts = torch.tensor([[[0.0, 0.0, 0.0], [0.4, 0.2, 1.0]]])
    uv = project(pts, cam)
    # (0.1, -0.2, 5) -> 100 * (0.02, -0.04) + c ; (0.5, 0, 6) -> 100 * (0.08333, 0) + c
    expected = torch.tensor([[[66.0, 28.0], [64 + 100 * 0.5 / 6, 32.0]]])
    assert torch.allclose(uv, expected, atol=1e-5)


def test_rotation_about_y_turns_subject():
    # A point on the subject's left (+x) comes towards the camera (-z) after +90 degrees about y? R maps x to -z.
    cam = _camera(1)
    cam = cam.replace(rotation=euler_to_rotmat(torch.tensor([[0.0, math.pi / 2, 0.0]], dtype=torch.float64)))
    p = to_camera_space(torch.tensor([[[1.0, 0.0, 0.0]]], dtype=torch.float64), cam)
    assert torch.allclose(p[0, 0] - cam.translation()[0], torch.tensor([0.0, 0.0, -1.0], dtype=torch.float64), atol=1e-12)


def test_array_round_trip_and_index():
    cam = _camera(4)
    back = Camera.from_array(cam.as_array())
    for name in ("focal", "rotation", "trans", "depth", "principal"):
        assert torch.allclose(getattr(back, name), getattr(cam, name), atol=1e-10)
    assert cam.index(slice(1, 3)).batch_size == 2
    assert Camera.cat([cam, cam]).batch_size == 8


def test_bad_shapes_raise_clear_errors():
    cam = _camera(2)
    with pytest.raises(ValueError, match=r"\(B, N, 3\)"):
        project(torch.zeros(3, 5, 3, dtype=torch.float64), cam)
    with pytest.raises(ValueError, match="Camera fields"):
        Camera(torch.ones(2), torch.eye(3)[None], torch.zeros(2, 2), torch.ones(2), torch.zeros(2, 2))


def test_gradcheck_projection():
    cam = _camera(2)
    euler = rotmat_to_euler(cam.rotation).clone().requires_grad_(True)
    pts = torch.randn(2, 5, 3, dtype=torch.float64, requires_grad=True)
    focal = cam.focal.clone().requires_grad_(True)
    trans = cam.trans.clone().requires_grad_(True)

    def fn(pts, euler, focal, trans):
        c = cam.replace(rotation=euler_to_rotmat(euler), focal=focal, trans=trans)
        return project(pts, c)

    assert torch.autograd.gradcheck(fn, (pts, euler, focal, trans))


def test_numpy_and_torch_paths_agree():
    """The array functions give numpy callers (exports, rendering) the torch camera's numbers, from
    the (B, 9) file layout."""
    cam = _camera(5)
    points = torch.randn(5, 7, 3, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    array = cam.as_array().numpy()
    rotation = Camera.from_array(torch.from_numpy(array)).rotation.numpy()
    cam_np = camera_oriented(points.numpy(), rotation) + array[:, None, [4, 5, 6]]
    np.testing.assert_allclose(cam_np, to_camera_space(points, cam).numpy(), rtol=0, atol=1e-12)
    uv = pinhole_project(cam_np, array[:, None, None, 0], array[:, None, 7:9])
    np.testing.assert_allclose(uv, project(points, cam).numpy(), rtol=0, atol=1e-9)
    torch.testing.assert_close(camera_oriented(points, cam.rotation), torch.from_numpy(camera_oriented(points.numpy(), rotation)))


def test_camera_oriented_by_hand():
    """``R X`` point by point, on batch shapes () and (2, 3)."""
    rot = _ry(0.4).numpy()
    x = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 0.5]])
    np.testing.assert_allclose(camera_oriented(x, rot), np.stack([rot @ p for p in x]))
    rots = np.stack([_rx(0.1 * i).numpy() for i in range(6)]).reshape(2, 3, 3, 3)
    pts = np.arange(2 * 3 * 4 * 3, dtype=np.float64).reshape(2, 3, 4, 3)
    want = np.stack([[[rots[a, b] @ p for p in pts[a, b]] for b in range(3)] for a in range(2)])
    np.testing.assert_allclose(camera_oriented(pts, rots), want)


def test_back_project_inverts_pinhole_project():
    pts = np.array([[0.3, -0.2, 4.0], [-1.0, 0.5, 2.5]])
    uv = pinhole_project(pts, 500.0, np.array([320.0, 240.0]))
    np.testing.assert_allclose(uv, [[357.5, 215.0], [120.0, 340.0]])  # by hand: f x / z + c
    np.testing.assert_allclose(back_project(uv, pts[:, 2:3], 500.0, np.array([320.0, 240.0])), pts[:, :2])
    ray = back_project(torch.tensor([[320.0, 240.0]]), 1.0, 500.0, torch.tensor([320.0, 240.0]))
    assert ray.tolist() == [[0.0, 0.0]]  # the principal point's ray is the optical axis
