import pytest
import torch

from selfmocap.body.names import JOINT_NAMES, KEYPOINT_NAMES


def test_output_shapes_and_frame(body):
    out = body(torch.zeros(2, 19, 3), torch.full((2, 6), 0.5))
    assert out.vertices.shape == (2, 13718, 3)
    assert out.joints.shape == (2, len(JOINT_NAMES), 3)
    assert out.keypoints.shape == (2, len(KEYPOINT_NAMES), 3)
    assert torch.allclose(out.joints[:, 0], torch.zeros(2, 3), atol=1e-6)  # root at origin
    kp = dict(zip(KEYPOINT_NAMES, out.keypoints[0]))
    assert kp["nose"][1] < kp["left_hip"][1] < kp["left_ankle"][1]  # y down
    assert kp["left_shoulder"][0] > 0 > kp["right_shoulder"][0]  # x to the subject's left
    assert kp["nose"][2] < kp["left_ear"][2]  # subject faces -z
    height = out.vertices[0, :, 1].max() - out.vertices[0, :, 1].min()
    assert 1.4 < height < 2.0  # metres


def test_axis_angle_and_matrices_agree(body):
    import roma

    pose = torch.randn(3, 19, 3) * 0.3
    a = body(pose, torch.full((1, 6), 0.5))
    b = body(roma.rotvec_to_rotmat(pose), torch.full((1, 6), 0.5))
    assert torch.allclose(a.vertices, b.vertices, atol=1e-5)


def test_bad_inputs(body):
    with pytest.raises(ValueError, match=r"pose must have shape"):
        body(torch.zeros(2, 18, 3), torch.full((2, 6), 0.5))
    with pytest.raises(ValueError, match=r"shape must have shape"):
        body(torch.zeros(2, 19, 3), torch.full((2, 5), 0.5))


def test_keypoints_are_linear_in_vertices(body):
    # Eq. 2: X_kpt = A X, with A's rows summing to one (translation equivariance).
    A = body._regressor.regression_weights
    assert torch.allclose(A.sum(1), torch.ones(A.shape[0], dtype=A.dtype), atol=1e-3)
    out = body(torch.randn(1, 19, 3) * 0.2, torch.full((1, 6), 0.5))
    assert torch.allclose(out.keypoints[0], (A @ out.vertices[0].to(A.dtype)).to(out.keypoints.dtype), atol=1e-5)


def test_gradcheck_pose_and_shape(body64):
    # The body layer is differentiable in pose and shape (float64 on a few outputs).
    pose = (torch.randn(1, 19, 3, dtype=torch.float64) * 0.2).requires_grad_(True)
    shape = torch.full((1, 6), 0.45, dtype=torch.float64).requires_grad_(True)

    def fn(pose, shape):
        out = body64(pose, shape)
        return out.keypoints[:, :5], out.vertices[:, ::2000]

    assert torch.autograd.gradcheck(fn, (pose, shape), eps=1e-6, atol=1e-5)


@pytest.mark.anny
def test_loading_anny_prints_no_warp_cuda_warning():
    """Warp's native "Could not find or load the NVIDIA CUDA driver" line is not shown on CPU machines."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", "from selfmocap.body import load_body_model; load_body_model()"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "NVIDIA CUDA driver" not in done.stderr + done.stdout
