"""cues.keypoint_files: OpenPose (BODY_25, COCO-18) and COCO JSON keypoints, PNG masks."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from selfmocap.body.names import KEYPOINT_NAMES
from selfmocap.cues.keypoint_files import (
    COCO_WHOLEBODY_23,
    OPENPOSE_BODY_25,
    OPENPOSE_COCO_18,
    read_keypoints,
    read_masks,
)
from selfmocap.errors import UserError

K = len(KEYPOINT_NAMES)

# Copied by hand from OpenPose's doc/02_output.md (POSE_BODY_25_BODY_PARTS, POSE_COCO_BODY_PARTS), in its
# spelling; "Neck" and "MidHip" have no counterpart in our keypoints.
BODY_25_DOC = {0: "Nose", 1: "Neck", 2: "RShoulder", 3: "RElbow", 4: "RWrist", 5: "LShoulder", 6: "LElbow",
               7: "LWrist", 8: "MidHip", 9: "RHip", 10: "RKnee", 11: "RAnkle", 12: "LHip", 13: "LKnee",
               14: "LAnkle", 15: "REye", 16: "LEye", 17: "REar", 18: "LEar", 19: "LBigToe", 20: "LSmallToe",
               21: "LHeel", 22: "RBigToe", 23: "RSmallToe", 24: "RHeel"}
COCO_18_DOC = {0: "Nose", 1: "Neck", 2: "RShoulder", 3: "RElbow", 4: "RWrist", 5: "LShoulder", 6: "LElbow",
               7: "LWrist", 8: "RHip", 9: "RKnee", 10: "RAnkle", 11: "LHip", 12: "LKnee", 13: "LAnkle",
               14: "REye", 15: "LEye", 16: "REar", 17: "LEar"}


def our_name(openpose_name: str) -> str | None:
    """"LBigToe" -> "left_big_toe"; None for parts we do not have."""
    side = {"L": "left_", "R": "right_"}.get(openpose_name[0]) if openpose_name[1].isupper() else None
    stem = openpose_name[1:] if side else openpose_name
    snake = "".join("_" + c.lower() if c.isupper() else c for c in stem).lstrip("_")
    name = (side or "") + snake
    return name if name in KEYPOINT_NAMES else None


BODY_25_BY_HAND = {i: our_name(n) for i, n in BODY_25_DOC.items() if our_name(n)}
COCO_18_BY_HAND = {i: our_name(n) for i, n in COCO_18_DOC.items() if our_name(n)}


def layout_points(count: int, seed: int, confidence: float = 0.9) -> np.ndarray:
    """(count, 3) distinct pixel positions with a confidence."""
    rng = np.random.default_rng(seed)
    points = np.column_stack([rng.uniform(0, 600, count), rng.uniform(0, 400, count), np.full(count, confidence)])
    return points


def openpose_json(people: list[np.ndarray]) -> dict:
    return {"version": 1.3, "people": [{"person_id": [-1], "pose_keypoints_2d": p.reshape(-1).tolist(),
                                        "face_keypoints_2d": []} for p in people]}


def write_openpose_folder(folder, frames: list[list[np.ndarray]], names: list[str]):
    folder.mkdir()
    for name, people in zip(names, frames):
        (folder / name).write_text(json.dumps(openpose_json(people)))
    return folder


def expected(points: np.ndarray, by_hand: dict[int, str], scale: float) -> np.ndarray:
    """The obvious mapping: for each hand-listed part seen (confidence > 0), its point shifted to pixel
    centres and scaled; all zero otherwise."""
    out = np.zeros((K, 3), np.float32)
    for index, name in by_hand.items():
        k = KEYPOINT_NAMES.index(name)
        if points[index, 2] > 0:
            out[k] = [(points[index, 0] + 0.5) * scale, (points[index, 1] + 0.5) * scale, points[index, 2]]
    return out


def one_line_error(call, *words):
    with pytest.raises(UserError) as err:
        call()
    text = str(err.value)
    assert "\n" not in text and ";" in text
    for word in words:
        assert word in text, text
    return text


def test_layout_tables_match_the_documentation():
    for index, name in BODY_25_BY_HAND.items():
        assert OPENPOSE_BODY_25[index] == name
    for index, name in COCO_18_BY_HAND.items():
        assert OPENPOSE_COCO_18[index] == name
    assert len(OPENPOSE_BODY_25) == 25 and len(OPENPOSE_COCO_18) == 18 and len(COCO_WHOLEBODY_23) == 23


def test_openpose_body25_folder(tmp_path):
    a, b, weak, strong = (layout_points(25, s) for s in range(4))
    weak[:, 2] = 0.2
    strong[:, 2] = 0.8
    strong[3, 2] = 0.0  # a missing point: OpenPose writes 0, 0, 0
    strong[3, :2] = 0.0
    names = ["clip_000000000010_keypoints.json", "clip_000000000002_keypoints.json", "clip_000000000001_keypoints.json",
             "clip_000000000003_keypoints.json"]
    # written frame order: 10, 2, 1, 3 -> read order 1, 2, 3, 10
    folder = write_openpose_folder(tmp_path / "op", [[a], [b], [weak, strong], []], names)
    (folder / "notes.txt").write_text("ignored")
    got = read_keypoints(folder, 4, scale=0.5)
    assert got.shape == (4, K, 3) and got.dtype == np.float32
    np.testing.assert_allclose(got[0], expected(strong, BODY_25_BY_HAND, 0.5), atol=1e-4)  # the most confident person
    np.testing.assert_allclose(got[1], expected(b, BODY_25_BY_HAND, 0.5), atol=1e-4)
    assert np.all(got[2] == 0)  # frame 3: nobody
    np.testing.assert_allclose(got[3], expected(a, BODY_25_BY_HAND, 0.5), atol=1e-4)


def test_openpose_coco18_single_file(tmp_path):
    points = layout_points(18, 5, confidence=1.7)  # some detectors write scores above 1
    path = tmp_path / "frame_keypoints.json"
    path.write_text(json.dumps(openpose_json([points])))
    got = read_keypoints(path, 1)
    points[:, 2] = 1.0
    np.testing.assert_allclose(got[0], expected(points, COCO_18_BY_HAND, 1.0), atol=1e-4)
    feet = [KEYPOINT_NAMES.index(n) for n in ("left_big_toe", "right_heel")]
    assert np.all(got[0, feet] == 0)


def test_openpose_errors(tmp_path):
    folder = write_openpose_folder(tmp_path / "bad", [[layout_points(19, 0)]], ["a_keypoints.json"])
    text = one_line_error(lambda: read_keypoints(folder, 1), "19 points", "BODY_25 (25 points)", "COCO-18 (18 points)")
    assert "a_keypoints.json" in text
    odd = tmp_path / "odd_keypoints.json"
    odd.write_text(json.dumps({"people": [{"pose_keypoints_2d": [1.0] * 74}]}))
    one_line_error(lambda: read_keypoints(odd, 1), "74 numbers")
    good = write_openpose_folder(tmp_path / "good", [[layout_points(25, k)] for k in range(3)],
                                 [f"f{k}_keypoints.json" for k in range(3)])
    one_line_error(lambda: read_keypoints(good, 5), "3 JSON files", "5 frames")
    broken = tmp_path / "broken.json"
    broken.write_text('{"people": [')
    one_line_error(lambda: read_keypoints(broken, 1), "not valid JSON", "line 1")
    one_line_error(lambda: read_keypoints(tmp_path / "missing", 1), "does not exist")
    neither = tmp_path / "neither.json"
    neither.write_text(json.dumps({"frames": []}))
    one_line_error(lambda: read_keypoints(neither, 1), "neither OpenPose")
    empty = tmp_path / "empty"
    empty.mkdir()
    one_line_error(lambda: read_keypoints(empty, 1), "no OpenPose JSON")


def test_whole_video_file_with_source_indices(tmp_path):
    frames = [[layout_points(25, k)] for k in range(6)]
    folder = write_openpose_folder(tmp_path / "op", frames, [f"f{k}_keypoints.json" for k in range(6)])
    got = read_keypoints(folder, 2, source_indices=np.array([1, 4]), source_num_frames=6)
    np.testing.assert_allclose(got[1], expected(frames[4][0], BODY_25_BY_HAND, 1.0), atol=1e-4)
    one_line_error(lambda: read_keypoints(folder, 2, source_indices=np.array([1, 4]), source_num_frames=7),
                   "6 JSON files", "or 7")


def coco_file(path, images, annotations):
    path.write_text(json.dumps({"images": images, "annotations": annotations, "categories": [{"id": 1}]}))
    return path


def test_coco_json(tmp_path):
    images = [{"id": 7, "file_name": "frame10.jpg"}, {"id": 3, "file_name": "frame2.jpg"},
              {"id": 5, "file_name": "frame1.jpg"}, {"id": 9, "file_name": "frame3.jpg"}]
    body = layout_points(17, 1)
    body[:, 2] = 2  # COCO visibility flags: 2 visible, 1 labelled but hidden, 0 not labelled
    body[4, 2] = 1
    body[6] = 0
    other = layout_points(17, 2)
    wholebody = layout_points(133, 3)
    feet = layout_points(6, 4)
    annotations = [
        {"image_id": 5, "keypoints": other.reshape(-1).tolist(), "score": 0.3},
        {"image_id": 5, "keypoints": body.reshape(-1).tolist(), "score": 0.9},  # frame1: the higher score
        {"image_id": 3, "keypoints": wholebody.reshape(-1).tolist()},  # frame2: COCO-WholeBody (133)
        {"image_id": 7, "keypoints": other.reshape(-1).tolist(), "foot_kpts": feet.reshape(-1).tolist()},  # frame10
    ]  # frame3 (id 9): nobody
    got = read_keypoints(coco_file(tmp_path / "coco.json", images, annotations), 4, scale=2.0)
    want = body.copy()
    want[:, 2] = np.minimum(want[:, 2], 1)
    np.testing.assert_allclose(got[0], expected(want, dict(enumerate(KEYPOINT_NAMES[:17])), 2.0), atol=1e-3)
    assert np.all(got[0, 6] == 0)
    np.testing.assert_allclose(got[1], expected(wholebody[:23], dict(enumerate(COCO_WHOLEBODY_23)), 2.0), atol=1e-3)
    assert np.all(got[2] == 0)
    with_feet = np.concatenate([other, feet])
    np.testing.assert_allclose(got[3], expected(with_feet, dict(enumerate(COCO_WHOLEBODY_23)), 2.0), atol=1e-3)
    assert got[3, KEYPOINT_NAMES.index("right_small_toe"), 0] == pytest.approx((feet[4, 0] + 0.5) * 2, abs=1e-3)


def test_coco_errors(tmp_path):
    images = [{"id": 1, "file_name": "a.jpg"}]
    bad = coco_file(tmp_path / "bad.json", images, [{"image_id": 1, "keypoints": [1.0] * 60}])
    one_line_error(lambda: read_keypoints(bad, 1), "20 points", "COCO (17 points)")
    stray = coco_file(tmp_path / "stray.json", images, [{"image_id": 2, "keypoints": [1.0] * 51}])
    one_line_error(lambda: read_keypoints(stray, 1), "image_id 2")
    good = coco_file(tmp_path / "good.json", images, [])
    one_line_error(lambda: read_keypoints(good, 3), "1 images", "3 frames")


# --- masks -----------------------------------------------------------------------------------

def test_masks_natural_order_resized_nearest(tmp_path):
    folder = tmp_path / "masks"
    folder.mkdir()
    masks = {}
    for k, name in enumerate(["m10.png", "m2.png", "m1.png"]):
        mask = np.zeros((80, 120), np.uint8)
        mask[10 * k:10 * k + 20, 30:60] = 255 if k != 1 else 1  # any nonzero value is a person
        masks[name] = mask
        assert cv2.imwrite(str(folder / name), mask)
    rgba = np.zeros((80, 120, 4), np.uint8)
    rgba[..., :3] = 200  # colour everywhere, the alpha says where the person is
    rgba[40:60, 0:20, 3] = 255
    cv2.imwrite(str(folder / "m11.png"), rgba)
    (folder / "readme.txt").write_text("ignored")
    got = read_masks(folder, 4, (60, 40))
    assert len(got) == 4
    order = ["m1.png", "m2.png", "m10.png"]
    for t, name in enumerate(order):
        want = masks[name][::2, ::2] > 0  # nearest neighbour at half size
        np.testing.assert_array_equal(got[t], want)
        assert got[t].dtype == bool and got[t].shape == (40, 60)
    assert got[3].sum() == 10 * 10 and got[3][20:30, 0:10].all()
    with pytest.raises(IndexError):
        got[4]


def test_mask_errors(tmp_path):
    folder = tmp_path / "masks"
    folder.mkdir()
    for k in range(3):
        cv2.imwrite(str(folder / f"{k}.png"), np.zeros((40, 60), np.uint8))
    one_line_error(lambda: read_masks(folder, 5, (60, 40)), "3 PNG masks", "5 frames")
    one_line_error(lambda: read_masks(folder, 3, (40, 40)), "60x40", "40x40")
    one_line_error(lambda: read_masks(tmp_path / "none", 3, (60, 40)), "does not exist")
    empty = tmp_path / "empty"
    empty.mkdir()
    one_line_error(lambda: read_masks(empty, 3, (60, 40)), "no PNG")


def test_non_finite_keypoints_name_the_file_and_frame(tmp_path):
    # json.dumps writes NaN / Infinity, and json.loads reads them back; 1e999 is read as inf
    frames = [[layout_points(25, k)] for k in range(3)]
    frames[1][0][4, 0] = np.nan
    folder = write_openpose_folder(tmp_path / "op", frames, [f"f{k}_keypoints.json" for k in range(3)])
    text = one_line_error(lambda: read_keypoints(folder, 3), "f1_keypoints.json", "frame 1", "non-finite x", "point 4")
    assert "f0_" not in text
    single = tmp_path / "one_keypoints.json"
    points = layout_points(18, 0)
    points[2, 2] = np.inf
    single.write_text(json.dumps(openpose_json([points])))
    one_line_error(lambda: read_keypoints(single, 1), "one_keypoints.json", "frame 0", "non-finite confidence")
    images = [{"id": 1, "file_name": "b.jpg"}, {"id": 2, "file_name": "a.jpg"}]
    body = layout_points(17, 1).reshape(-1).tolist()
    text = json.dumps({"images": images, "annotations": [{"image_id": 1, "keypoints": body}]})
    text = text.replace(json.dumps(body[4]), "1e999", 1)  # body[4]: point 1's y
    (tmp_path / "coco.json").write_text(text)
    one_line_error(lambda: read_keypoints(tmp_path / "coco.json", 2), "coco.json", "frame 1 (b.jpg)", "non-finite y")


def test_every_mask_is_size_checked(tmp_path):
    folder = tmp_path / "masks"
    folder.mkdir()
    for k in range(4):
        shape = (40, 40) if k == 2 else (40, 60)  # a middle mask of another shape
        cv2.imwrite(str(folder / f"{k}.png"), np.zeros(shape, np.uint8))
    one_line_error(lambda: read_masks(folder, 4, (60, 40)), "2.png", "40x40", "60x40")
