import numpy as np
import pytest
import torch
import roma
from torch.utils.data import DataLoader

from selfmocap.body.mirror import flip_pose
from selfmocap.data.clip import list_clips
from selfmocap.data.frames import (
    FrameDataset,
    TrainOrder,
    collate_frames,
    flip_camera,
    flip_keypoints,
    flip_world,
    keypoint_heatmaps,
    network_input,
)
from selfmocap.data.config import FrameConfig
from selfmocap.body.names import KEYPOINT_NAMES
from selfmocap.geometry.camera import Camera, project
from selfmocap.geometry.crop import CropBox

NO_AUG = FrameConfig(augment=False)


def _batch(dataset, keys):
    return collate_frames([dataset[k] for k in keys])


def test_targets_are_the_crop_camera_of_the_labels(fake_data, body):
    dataset = FrameDataset([fake_data / "train"], 128, NO_AUG)
    assert len(dataset) == 8
    batch = _batch(dataset, range(len(dataset)))
    assert batch.rgb.shape == (8, 3, 128, 128) and batch.rgb.dtype == torch.uint8
    with torch.no_grad():
        kp3d = body(batch.pose, batch.shape).keypoints
    assert torch.allclose(project(kp3d, batch.camera), batch.keypoints2d[..., :2], atol=1e-2)
    # Without augmentation the input keypoints are the visible true ones.
    assert torch.allclose(batch.keypoints[..., :2], batch.keypoints2d[..., :2])
    assert torch.equal(batch.keypoints[..., 2], (batch.keypoints2d[..., 2] > 0).float())
    # The crop box maps the frame labels onto the crop labels.
    clip = list_clips(fake_data / "train")[0]
    frame_kp = torch.tensor(clip.labels.keypoints2d[:, :, :2])
    first = CropBox(batch.box.offset[:4], batch.box.scale[:4])
    assert torch.allclose(first.frame_to_crop(frame_kp), batch.keypoints2d[:4, :, :2], atol=1e-3)


def test_crop_pixels_follow_the_box(fake_data):
    dataset = FrameDataset([fake_data / "train"], 128, NO_AUG)
    sample = dataset[0]
    clip = list_clips(fake_data / "train")[0]
    frame = clip.rgb(0).astype(np.float32)
    # Crop pixel centre q -> frame point p = q / s + offset; compare with bilinear sampling of the frame.
    s, (ox, oy) = float(sample.box.scale), sample.box.offset[0].tolist()
    for qi, qj in [(40, 50), (64, 64), (90, 70)]:
        px, py = (qj + 0.5) / s + ox - 0.5, (qi + 0.5) / s + oy - 0.5
        x0, y0 = int(np.floor(px)), int(np.floor(py))
        ax, ay = px - x0, py - y0
        ref = ((1 - ax) * (1 - ay) * frame[y0, x0] + ax * (1 - ay) * frame[y0, x0 + 1]
               + (1 - ax) * ay * frame[y0 + 1, x0] + ax * ay * frame[y0 + 1, x0 + 1])
        assert np.abs(sample.rgb[:, qi, qj].numpy() - ref).max() <= 2.0


def test_augmented_samples_are_consistent_and_reproducible(fake_data, body):
    dataset = FrameDataset([fake_data / "train"], 128, FrameConfig(keypoint_dropout=0.3))
    keys = [(i, 1000 + i) for i in range(8)]
    batch = _batch(dataset, keys)
    again = _batch(dataset, keys)
    assert torch.equal(batch.rgb, again.rgb) and torch.equal(batch.keypoints, again.keypoints)
    other = _batch(dataset, [(i, 7 + i) for i in range(8)])
    assert not torch.equal(batch.rgb, other.rgb)
    with torch.no_grad():
        kp3d = body(batch.pose, batch.shape).keypoints
    # Flipped samples included: Anny's left/right asymmetry (~4 mm) is well under a pixel here.
    assert (project(kp3d, batch.camera) - batch.keypoints2d[..., :2]).norm(dim=-1).max() < 1.0
    assert (batch.keypoints[..., 2] <= (batch.keypoints2d[..., 2] > 0).float()).all()


def test_flips_are_involutions():
    torch.manual_seed(0)
    from selfmocap.geometry.camera import Camera, euler_to_rotmat

    pose = euler_to_rotmat(torch.randn(2, 19, 3))
    assert torch.allclose(flip_pose(flip_pose(pose)), pose, atol=1e-6)
    cam = Camera(torch.ones(2), euler_to_rotmat(torch.randn(2, 3)), torch.randn(2, 2), torch.ones(2), torch.randn(2, 2))
    twice = flip_camera(flip_camera(cam, 128), 128)
    assert torch.allclose(twice.rotation, cam.rotation, atol=1e-6) and torch.allclose(twice.principal, cam.principal, atol=1e-4)
    kp = torch.rand(2, 23, 3) * 128
    assert torch.allclose(flip_keypoints(flip_keypoints(kp, 128), 128), kp, atol=1e-4)


def test_heatmaps_match_double_loop():
    kp = torch.tensor([[[10.2, 20.7, 1.0], [0.0, 0.0, 0.0], [15.5, 3.5, 0.5]]])
    got = keypoint_heatmaps(kp, 24, 2.0)
    ref = torch.zeros(1, 3, 24, 24)
    for k in range(3):
        u, v, c = kp[0, k].tolist()
        for i in range(24):
            for j in range(24):
                ref[0, k, i, j] = c * np.exp(-((j + 0.5 - u) ** 2 + (i + 0.5 - v) ** 2) / 8.0)
    assert torch.allclose(got, ref, atol=1e-6)
    assert got[0, 2].max() == pytest.approx(0.5) and got[0, 2].argmax() == 3 * 24 + 15
    x = network_input(torch.zeros(1, 3, 24, 24, dtype=torch.uint8), kp, 2.0)
    assert x.shape == (1, 6, 24, 24) and torch.allclose(x[:, 3:], got)


@pytest.mark.parametrize("world", [2, 4])
def test_train_order_is_the_same_global_stream_for_any_world_size_and_restart(world):
    def take(order, n):
        it = iter(order)
        return [next(it) for _ in range(n)]

    single = take(TrainOrder(10, 8, seed=3), 32)  # 4 steps, crosses epochs
    ranks = [take(TrainOrder(10, 8, seed=3, rank=r, world_size=world), 32 // world) for r in range(world)]
    per = 8 // world
    rebuilt = [k for step in range(4) for r in range(world) for k in ranks[r][step * per : (step + 1) * per]]
    assert rebuilt == single
    assert take(TrainOrder(10, 8, seed=3, start_step=2), 16) == single[16:]
    assert sorted(i for i, _ in single[:10]) == list(range(10))  # an epoch is a permutation
    assert len({s for _, s in single}) == 32  # a fresh augmentation seed per position


def test_loader_with_workers_equals_in_process(fake_data):
    dataset = FrameDataset([fake_data / "train"], 128)
    order = TrainOrder(len(dataset), 4, seed=0)
    a = next(iter(DataLoader(dataset, batch_size=4, sampler=order, collate_fn=collate_frames, num_workers=0)))
    b = next(iter(DataLoader(dataset, batch_size=4, sampler=order, collate_fn=collate_frames, num_workers=2)))
    assert torch.equal(a.rgb, b.rgb) and torch.equal(a.camera.rotation, b.camera.rotation)


def test_smpl_flip_swaps_sides_and_mirrors_the_body(smpl_body):
    """Flipping an SMPL pose mirrors its joints (x -> -x) with left and right swapped."""
    from selfmocap.body.names import SMPL_JOINT_NAMES, pose_flip_index

    flip = pose_flip_index("smpl")
    names = SMPL_JOINT_NAMES[1:]
    assert all(names[flip[i]] == n.replace("left", "@").replace("right", "left").replace("@", "right") for i, n in enumerate(names))
    torch.manual_seed(0)
    pose = roma.rotvec_to_rotmat(torch.randn(3, 23, 3) * 0.4)
    assert torch.allclose(flip_pose(flip_pose(pose, flip), flip), pose, atol=1e-6)
    joints = smpl_body(pose, torch.zeros(1, 10)).joints
    mirrored = smpl_body(flip_pose(pose, flip), torch.zeros(1, 10)).joints
    swap = [0] + [i + 1 for i in flip]
    assert torch.allclose(mirrored, joints[:, swap] * torch.tensor([-1.0, 1.0, 1.0]), atol=1e-5)


def _true_world(clip) -> np.ndarray:
    """(T, K, 4) the clip's true camera-space keypoints as world landmarks (confidence 1)."""
    from selfmocap.geometry.camera import to_camera_space

    labels = clip.labels
    cam = Camera.from_array(torch.from_numpy(labels.camera).float())
    points = to_camera_space(torch.from_numpy(labels.keypoints3d).float(), cam).numpy()
    return np.concatenate([points, np.ones_like(points[..., :1])], axis=-1)


def test_world_landmarks_follow_the_crop_through_flips_and_dropout(fake_data, body, tmp_path):
    import shutil

    from selfmocap.data.clip import list_clips
    from selfmocap.geometry.camera import to_camera_space

    root = tmp_path / "train"
    shutil.copytree(fake_data / "train", root)
    plain = FrameDataset([root], 128)
    assert (plain[0].world == 0).all()  # no world_landmarks.npz: all zero
    for clip in list_clips(root):
        clip.write_world_landmarks(_true_world(clip))
    dataset = FrameDataset([root], 128, FrameConfig(world_dropout=0.3))
    batch = _batch(dataset, [(i, 50 + i) for i in range(len(dataset))] * 3)
    kept = batch.world[..., 3].sum(-1) > 0
    assert 0 < int(kept.sum()) < len(kept)  # some frames withheld, most kept
    with torch.no_grad():
        true = to_camera_space(body(batch.pose, batch.shape).keypoints, batch.camera)
    hips = [KEYPOINT_NAMES.index("left_hip"), KEYPOINT_NAMES.index("right_hip")]
    centred = lambda p: p - p[:, hips].mean(dim=1, keepdim=True)  # noqa: E731
    # flipped samples included: the landmarks are mirrored and swapped with the crop and the body
    error = (centred(batch.world[kept, :, :3]) - centred(true[kept])).norm(dim=-1)
    assert error.max() < 0.02
    assert torch.equal(flip_world(flip_world(batch.world)), batch.world)
    # without augmentation nothing is withheld and nothing flipped
    assert (dataset[0].world[:, 3] == 1).all()


def test_world_landmarks_file_round_trip_and_bad_shape(fake_data, tmp_path):
    import shutil

    from selfmocap.data.clip import Clip, list_clips

    shutil.copytree(fake_data / "val", tmp_path / "val")
    clip = list_clips(tmp_path / "val")[0]
    assert clip.world_landmarks() is None
    world = np.random.default_rng(0).normal(size=(len(clip), 23, 4)).astype(np.float32)
    clip.write_world_landmarks(world)
    assert np.array_equal(Clip(clip.path).world_landmarks(), world)
    with pytest.raises(ValueError, match="world landmarks"):
        clip.write_world_landmarks(world[1:])
