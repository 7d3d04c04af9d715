import av
import numpy as np
import pytest
import torch

from selfmocap.video import open_video
from selfmocap.export import overlay as overlay_module
from selfmocap.export.overlay import NO_PERSON_RGB, overlay_frame, write_overlay_video
from selfmocap.geometry.camera import Camera, to_camera_space
from selfmocap.render.raycast import rasterize
from export_helpers import FPS, IMAGE_SIZE, NUM_FRAMES


def _frames(count: int = NUM_FRAMES):
    """Plain grey input frames, made one at a time."""
    for t in range(count):
        yield np.full((IMAGE_SIZE[1], IMAGE_SIZE[0], 3), 90 + 10 * t, np.uint8)


def _read_video(path):
    """Every frame, decoded by the project's own reader."""
    return list(open_video(path))


def test_overlay_frame_draws_the_mesh_where_it_projects(body, motion):
    with torch.no_grad():
        vertices = body(torch.from_numpy(motion.pose[:1]), torch.from_numpy(motion.shape)[None]).vertices
    cam = Camera.from_array(torch.from_numpy(motion.camera[:1]).double())
    silhouette = rasterize(
        to_camera_space(vertices.double(), cam)[0].numpy(), body.faces.numpy(), float(cam.focal[0]),
        tuple(cam.principal[0].tolist()), IMAGE_SIZE[1], IMAGE_SIZE[0],
    ).mask
    image = next(_frames())
    out = overlay_frame(image, vertices[0].numpy(), body.faces.numpy(), motion.camera[0])
    w = IMAGE_SIZE[0]
    assert out.shape == (IMAGE_SIZE[1], 2 * w, 3) and out.dtype == np.uint8
    changed = (out[:, :w] != image).any(-1)
    assert silhouette.sum() > 20 and np.array_equal(changed, silhouette)  # the mesh sits where it projects
    side = out[:, w:]
    assert (side != side[-1, -1]).any(-1).sum() > 20  # the side view shows the body on a plain background


def test_overlay_frame_without_detection(body, motion):
    image = next(_frames())
    out = overlay_frame(image, None, body.faces.numpy(), motion.camera[0], detected=False)
    red = (out[..., 0] > 180) & (out[..., 1] < 90) & (out[..., 2] < 90)
    w = IMAGE_SIZE[0]
    assert red[:, :w].any() and red[:, w:].any()
    assert NO_PERSON_RGB[0] > 200
    with pytest.raises(ValueError, match="uint8 RGB"):
        overlay_frame(image.astype(np.float32), None, body.faces.numpy(), motion.camera[0])


def test_overlay_video_streams_every_frame(body, motion, tmp_path):
    path = write_overlay_video(tmp_path / "overlay.mp4", motion, body, _frames(), FPS)
    assert path == tmp_path / "overlay.mp4"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["overlay.mp4"]
    reader = open_video(path)
    assert reader.info.num_frames == NUM_FRAMES and reader.info.fps == pytest.approx(FPS)
    assert reader.info.size == (2 * IMAGE_SIZE[0], IMAGE_SIZE[1])
    with av.open(str(path)) as container:  # H.264, 4:2:0: what browsers play (not mp4v)
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
    frames = _read_video(path)
    assert len(frames) == NUM_FRAMES
    # the encoded frames are the overlay frames, up to the codec's loss
    with torch.no_grad():
        vertices = body(torch.from_numpy(motion.pose[:1]), torch.from_numpy(motion.shape)[None]).vertices
    first = overlay_frame(next(_frames()), vertices[0].numpy(), body.faces.numpy(), motion.camera[0])
    assert np.abs(frames[0].astype(int) - first).mean() < 4


def test_overlay_video_frame_count_must_match(body, motion, tmp_path):
    for count in (NUM_FRAMES - 1, NUM_FRAMES + 1):
        with pytest.raises(ValueError, match="one frame per motion frame"):
            write_overlay_video(tmp_path / "overlay.mp4", motion, body, _frames(count), FPS)
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_overlay_video_is_mp4_only(body, motion, tmp_path):
    with pytest.raises(ValueError, match=r"\.mp4"):
        write_overlay_video(tmp_path / "overlay.avi", motion, body, _frames(), FPS)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("shift", [(0.0, 0.0, 0.0), (0.45, -0.3, 0.0), (5.0, 0.0, 0.0), (0.0, 0.0, -3.9)])
def test_box_render_matches_the_full_ray_cast(body, motion, shift):
    # inside the frame, cut by its border, entirely outside it, and partly behind the camera
    from selfmocap.render.overlay import render_overlay

    with torch.no_grad():
        vertices = body(torch.from_numpy(motion.pose[:1]), torch.from_numpy(motion.shape)[None]).vertices[0].numpy()
    vertices_cam = (vertices + np.array([0.0, 0.0, 4.0]) + np.array(shift)).astype(np.float32)
    image = next(_frames())
    full, mask = render_overlay(image, vertices_cam, body.faces.numpy(), 40.0, (32.0, 24.0), alpha=0.75)
    boxed = overlay_module._render_in_box(image, vertices_cam, body.faces.numpy(), 40.0, (32.0, 24.0), 0.75)
    assert np.array_equal((boxed != image).any(-1), mask)
    assert np.abs(boxed.astype(int) - full).max() <= 1


def test_side_view_ground_line_sits_under_the_feet(body):
    """A level camera (the world's up is -y in OpenCV axes) and the root at the height of its lowest
    vertex: the ground line is the horizontal row the mesh's soles stand on in the side view."""
    from selfmocap.export.overlay import GROUND_RGB, Ground, SideView

    h, w = 120, 160
    with torch.no_grad():
        vertices = body(torch.zeros(1, body.num_pose_joints, 3), body.default_shape[None]).vertices[0].numpy()
    root_height = float(vertices[:, 1].max())  # y down: the soles are the largest y
    camera = np.array([150.0, 0.0, 0.0, 0.0, 0.0, 0.0, 4.0, w / 2, h / 2], np.float32)
    world_from_camera = np.diag([1.0, -1.0, -1.0, 1.0])  # x right, y up, z back: a level camera
    ground = Ground.of(world_from_camera, root_height)
    assert np.allclose(ground.up, [0.0, -1.0, 0.0])
    image = np.full((h, w, 3), 90, np.uint8)
    plain = overlay_frame(image, vertices, body.faces.numpy(), camera)[:, w:]
    lined = overlay_frame(image, vertices, body.faces.numpy(), camera, ground=ground)[:, w:]
    line = (np.abs(lined.astype(int) - GROUND_RGB).sum(-1) < 60) & (lined != plain).any(-1)
    rows = np.nonzero(line.any(1))[0]
    side = SideView()
    expected = (h * side.distance / side.field_height) * root_height / side.distance + h / 2  # f y / d + cy
    assert line.any(1).sum() <= 3 and abs(rows.mean() - expected) <= 1.5  # one level line, where the ground is
    assert line.sum(1).max() > 0.8 * w  # across the view, but not through the mesh:
    body_rows = (plain != plain[0, 0]).any(-1)
    assert body_rows.any(1).nonzero()[0].max() <= expected + 1.5  # the soles rest on it
    tilted = overlay_frame(image, vertices, body.faces.numpy(), camera,
                           ground=Ground(up=np.array([0.0, -np.cos(0.3), np.sin(0.3)]), height=root_height))[:, w:]
    assert not np.array_equal(tilted, lined)  # a pitched camera tilts the line
