import math

import pytest
import torch

from selfmocap.geometry.camera import Camera, euler_to_rotmat, project
from selfmocap.models.network import (
    NUM_OUTPUTS,
    OUTPUT_LAYOUT,
    MocapNet,
    count_parameters,
    decode,
    fixed_depth_camera,
)
from selfmocap.models.config import NetworkConfig
from selfmocap.training.losses import root_projection

TINY = NetworkConfig(width=4)


@pytest.mark.parametrize("batch", [1, 3])
def test_forward_shapes_and_valid_outputs(batch):
    torch.manual_seed(0)
    net = MocapNet(TINY)
    principal = torch.rand(batch, 2) * 300 - 100
    pred = net(torch.randn(batch, 26, 128, 128), principal)
    assert pred.pose.shape == (batch, 19, 3, 3) and pred.shape.shape == (batch, 6)
    assert pred.camera.rotation.shape == (batch, 3, 3) and pred.camera.trans.shape == (batch, 2)
    eye = torch.eye(3).expand(batch, 19, 3, 3)
    assert torch.allclose(pred.pose @ pred.pose.transpose(-1, -2), eye, atol=1e-5)
    assert torch.allclose(torch.linalg.det(pred.pose), torch.ones(batch, 19), atol=1e-5)
    assert ((pred.shape > 0) & (pred.shape < 1)).all()
    assert torch.equal(pred.camera.principal, principal)
    assert torch.allclose(pred.camera.depth, torch.full((batch,), TINY.depth))
    # The small initial head starts near the rest pose, prior focal and a centred root.
    assert (pred.pose - eye).abs().max() < 0.2
    assert torch.allclose(pred.camera.focal, torch.full((batch,), TINY.prior_focal), rtol=0.2)
    assert torch.allclose(root_projection(pred.camera), torch.full((batch, 2), 64.0), atol=8)


def test_decode_by_hand():
    cfg = NetworkConfig(width=4, depth=4.0, prior_height=1.6, prior_fill=0.75, root_scale=0.25)
    raw = torch.zeros(2, NUM_OUTPUTS)
    sl = {}
    start = 0
    for name, size in OUTPUT_LAYOUT.items():
        sl[name] = slice(start, start + size)
        start += size
    raw[1, sl["focal"]] = math.log(2.0)
    raw[1, sl["root"]] = torch.tensor([1.0, -2.0])
    raw[1, sl["shape"]] = torch.tensor([0.0, 100, -100, 0, 0, 0])
    principal = torch.tensor([[64.0, 64.0], [10.0, 200.0]])
    pred = decode(raw, principal, cfg)
    prior = 0.75 * 128 * 4.0 / 1.6  # = 240 px
    assert cfg.prior_focal == pytest.approx(prior)
    assert torch.allclose(pred.camera.focal, torch.tensor([prior, 2 * prior]))
    assert torch.allclose(pred.pose, torch.eye(3).expand(2, 19, 3, 3))
    assert torch.allclose(pred.camera.rotation, torch.eye(3).expand(2, 3, 3))
    assert torch.allclose(pred.shape[1], torch.tensor([0.5, 1, 0, 0.5, 0.5, 0.5]))
    # Row 0: root at the crop centre = principal point -> T = 0.
    assert torch.allclose(pred.camera.trans[0], torch.zeros(2))
    # Row 1: root pixel (64 + 32, 64 - 64) = (96, 0); T = (pixel - c) D0 / f.
    assert torch.allclose(pred.camera.trans[1], torch.tensor([(96 - 10) * 4 / 480, (0 - 200) * 4 / 480]))
    root = project(torch.zeros(2, 1, 3), pred.camera)[:, 0]
    assert torch.allclose(root, torch.tensor([[64.0, 64.0], [96.0, 0.0]]), atol=1e-4)


def test_decode_rotation_from_6d():
    rot = euler_to_rotmat(torch.tensor([[0.3, 1.5707963, -0.4]], dtype=torch.float64))  # a side view
    raw = torch.zeros(1, NUM_OUTPUTS, dtype=torch.float64)
    start = sum(list(OUTPUT_LAYOUT.values())[:2])
    raw[0, start : start + 6] = (rot[0, :, :2] - torch.eye(3, dtype=torch.float64)[:, :2]).reshape(6)
    pred = decode(raw, torch.zeros(1, 2, dtype=torch.float64), TINY)
    assert torch.allclose(pred.camera.rotation, rot, atol=1e-12)


def test_decode_gradcheck():
    torch.manual_seed(0)
    raw = (torch.randn(2, NUM_OUTPUTS, dtype=torch.float64) * 0.3).requires_grad_()
    principal = torch.tensor([[60.0, 70.0], [-20.0, 140.0]], dtype=torch.float64)

    def fn(r):
        p = decode(r, principal, TINY)
        return p.pose, p.shape, p.camera.rotation, p.camera.focal, p.camera.trans

    assert torch.autograd.gradcheck(fn, (raw,))


def test_shape_errors():
    net = MocapNet(TINY)
    with pytest.raises(ValueError, match="inputs must be"):
        net(torch.zeros(2, 3, 128, 128), torch.zeros(2, 2))
    with pytest.raises(ValueError, match="principal must be"):
        net(torch.zeros(2, 26, 128, 128), torch.zeros(3, 2))
    with pytest.raises(ValueError, match="multiple of 32"):
        NetworkConfig(input_size=100)


def test_paper_width_has_about_48m_parameters():
    assert 47e6 < count_parameters(MocapNet(NetworkConfig(width=64))) < 49e6


def test_fixed_depth_camera_keeps_root_and_image_size():
    torch.manual_seed(0)
    b = 4
    cam = Camera(
        focal=torch.full((b,), 300.0, dtype=torch.float64),
        rotation=euler_to_rotmat(torch.randn(b, 3, dtype=torch.float64)),
        trans=torch.randn(b, 2, dtype=torch.float64) * 0.5,
        depth=torch.tensor([2.5, 3.0, 4.0, 6.0], dtype=torch.float64),
        principal=torch.randn(b, 2, dtype=torch.float64) * 50 + 64,
    )
    target = fixed_depth_camera(cam, 4.0)
    assert torch.allclose(target.focal, 300 * 4.0 / cam.depth)
    assert torch.allclose(target.depth, torch.full((b,), 4.0, dtype=torch.float64))
    origin = torch.zeros(b, 1, 3, dtype=torch.float64)
    assert torch.allclose(project(origin, target), project(origin, cam), atol=1e-9)
    # Body points (|z| <= 0.2 m off the root) move by at most the documented perspective bound.
    pts = (torch.rand(b, 50, 3, dtype=torch.float64) - 0.5) * 0.4
    true, approx = project(pts, cam), project(pts, target)
    z = (pts @ cam.rotation.transpose(1, 2))[..., 2]
    bound = (z.abs() * (1 / cam.depth[:, None] - 1 / 4.0).abs() / (1 - z.abs() / 4.0)) * (true - cam.principal[:, None]).norm(dim=-1)
    assert ((approx - true).norm(dim=-1) <= bound + 1e-9).all()


def test_smpl_outputs_have_smpl_sizes_and_unbounded_betas():
    from selfmocap.models.network import BodyOutputSpec

    spec = BodyOutputSpec("smpl", 23, 10, None)
    net = MocapNet(NetworkConfig(width=4, fc_factor=4), spec)
    assert net.head[-1].out_features == spec.num_outputs == 23 * 6 + 10 + 6 + 1 + 2
    raw = torch.zeros(2, spec.num_outputs)
    start = 23 * 6
    raw[:, start : start + 10] = torch.linspace(-3, 3, 10)
    pred = decode(raw, torch.full((2, 2), 64.0), NetworkConfig(), spec)
    assert pred.pose.shape == (2, 23, 3, 3) and torch.allclose(pred.pose, torch.eye(3).expand(2, 23, 3, 3))
    assert torch.equal(pred.shape, raw[:, start : start + 10])  # betas: the raw outputs, 0 = mean shape
    bounded = decode(raw, torch.full((2, 2), 64.0), NetworkConfig(), BodyOutputSpec("x", 23, 10, (-2.0, 2.0)))
    assert torch.allclose(bounded.shape, -2.0 + 4.0 * torch.sigmoid(raw[:, start : start + 10]))
    with pytest.raises(ValueError, match=f"\\(B, {spec.num_outputs}\\)"):
        decode(torch.zeros(2, NUM_OUTPUTS), torch.zeros(2, 2), NetworkConfig(), spec)


def test_world_features_ignore_origin_and_size_and_mark_missing_frames():
    from selfmocap.models.network import WORLD_FEATURES, world_features

    torch.manual_seed(0)
    world = torch.cat([torch.randn(3, 23, 3), torch.ones(3, 23, 1)], dim=-1)
    world[1, 5, 3] = 0  # one missing keypoint
    world[2, :, 3] = 0  # nobody found
    moved = world.clone()
    moved[..., :3] = 2.5 * world[..., :3] + torch.tensor([1.0, -2.0, 3.0])
    f, g = world_features(world), world_features(moved)
    assert f.shape == (3, WORLD_FEATURES)
    assert torch.allclose(f, g, atol=1e-5)
    assert f[:2, -1].tolist() == [1.0, 1.0] and (f[2] == 0).all()
    assert (f[1, 15:18] == 0).all()
    # slow reference: centre on the hips, divide by the RMS distance of the present keypoints
    from selfmocap.body.names import KEYPOINT_NAMES

    p = world[0, :, :3]
    hips = p[[KEYPOINT_NAMES.index("left_hip"), KEYPOINT_NAMES.index("right_hip")]].mean(0)
    c = p - hips
    rms = math.sqrt(sum(float(v @ v) for v in c) / len(c))
    assert torch.allclose(f[0, :-1], (c / rms).flatten(), atol=1e-5)


def test_world_input_network_starts_as_the_network_without_it():
    torch.manual_seed(0)
    plain = MocapNet(TINY).eval()
    with_world = MocapNet(NetworkConfig(width=4, world_input=True)).eval()
    missing, unexpected = with_world.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and sorted(missing) == ["world.bias", "world.weight"]
    x, principal = torch.randn(2, 26, 128, 128), torch.full((2, 2), 64.0)
    world = torch.cat([torch.randn(2, 23, 3), torch.ones(2, 23, 1)], dim=-1)
    a, b, c = plain(x, principal), with_world(x, principal, world), with_world(x, principal)
    assert torch.allclose(a.pose, b.pose, atol=1e-6) and torch.allclose(a.pose, c.pose, atol=1e-6)
    # the new layer learns: its weight gets a gradient, and then the landmarks change the output
    with_world.train()
    with_world(x, principal, world).pose.sum().backward()
    assert with_world.world.weight.grad.abs().sum() > 0
    with torch.no_grad():
        with_world.world.weight.normal_()
    with_world.eval()
    assert not torch.allclose(with_world(x, principal, world).pose, with_world(x, principal).pose)
    with pytest.raises(ValueError, match="world"):
        with_world(x, principal, world[:1])
