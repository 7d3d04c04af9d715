"""selfmocap.video: frame selection arithmetic, streaming, a one-line error for every bad input, and the
one video writer (H.264 MP4: decoded back by the reader with its frame count, rate and content).

The bad files are made in ``tmp_path``:

* not a video: a text file named ``x.mp4``;
* a codec OpenCV cannot decode, two ways that really happen: an AVI whose stream's FourCC names a
  codec FFmpeg has no decoder for (OpenCV refuses to open it; the container is recognised from its
  first bytes), and an MJPG AVI whose frame data is destroyed (OpenCV opens it, sees 5 frames in the
  index, and decodes none);
* empty videos: an MPEG-4 file written with no frame (an ``mdat`` box with no payload, which
  OpenCV refuses to open), and an MJPG AVI with no frame (OpenCV opens it, grabs nothing).
"""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest

from selfmocap.video import (
    VideoWriter,
    container_name,
    mp4_boxes,
    mp4_media_bytes,
    mp4_truncated,
    natural_key,
    open_video,
    resized_size,
    select_frames,
    write_video,
)
from selfmocap.errors import UserError

W, H, FPS = 64, 48, 25.0


def frame_value(i: int) -> int:
    """Grey level of frame i of the test videos: far apart, so lossy coding cannot mix them up."""
    return (20 * i + 10) % 250


def opencv_video(path, count: int, fourcc: str = "mp4v", size=(W, H), fps=FPS):
    """A video as other programs write them (OpenCV's mp4v or MJPG): what the reader is given, and
    what the damaged-file tests cut up. selfmocap's own writer is tested at the end."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
    assert writer.isOpened()
    for i in range(count):
        writer.write(np.full((size[1], size[0], 3), frame_value(i), np.uint8))
    writer.release()
    return path


def decoded_ids(frames) -> list[int]:
    """Which source frame each decoded frame is, from its grey level."""
    levels = np.array([frame_value(i) for i in range(12)])
    return [int(np.argmin(np.abs(levels - f.mean()))) for f in frames]


@pytest.fixture(scope="module")
def ten(tmp_path_factory):
    return opencv_video(tmp_path_factory.mktemp("video") / "ten.mp4", 10)


def one_line_error(call, *words):
    with pytest.raises(UserError) as err:
        call()
    text = str(err.value)
    assert "\n" not in text and ";" in text  # one line: the problem; the fix
    for word in words:
        assert word in text, text
    return text


# --- frame selection ------------------------------------------------------------------------

def reference_selection(n: int, fps: float, start: float, end: float, rate: float | None) -> list[int]:
    """The obvious version: frames in [start, end), then the nearest frame to each grid time."""
    window = [i for i in range(n) if start - 1e-9 <= i / fps < min(end, n / fps) - 1e-9]
    if rate is None or rate >= fps:
        return window
    chosen, k = [], 0
    candidates = range(window[-1] + int(fps / rate) + 3)  # frame numbers, also past the window
    while True:
        t = window[0] + k * fps / rate  # grid time in source frames
        nearest = min(candidates, key=lambda i: (abs(i - t), -i))  # ties: the later frame
        if nearest > window[-1]:
            return chosen
        chosen.append(nearest)
        k += 1


@pytest.mark.parametrize("n, fps, start, end, rate", [
    (10, 25.0, 0.0, 99.0, 10.0),
    (100, 30.0, 0.5, 2.0, 7.0),
    (100, 29.97, 0.0, 99.0, 12.5),
    (61, 60.0, 0.2, 0.9, 24.0),
    (50, 25.0, 0.13, 1.7, None),
    (50, 25.0, 0.0, 99.0, 25.0),
    (50, 25.0, 0.0, 99.0, 100.0),
])
def test_select_frames_matches_the_obvious_reference(n, fps, start, end, rate):
    got = select_frames(n, fps, start, end, rate)
    assert got.tolist() == reference_selection(n, fps, start, end, rate)
    assert len(np.unique(got)) == len(got)


def test_select_frames_by_hand():
    assert select_frames(10, 25.0, fps=10.0).tolist() == [0, 3, 5, 8]  # grid 0, 2.5, 5, 7.5 frames
    assert select_frames(10, 25.0, start=0.1, end=0.3).tolist() == [3, 4, 5, 6, 7]  # 2.5 <= i < 7.5
    assert select_frames(10, 25.0, end=100.0).tolist() == list(range(10))  # end clipped
    assert select_frames(1, 30.0).tolist() == [0]


@pytest.mark.parametrize("kwargs, words", [
    (dict(start=0.4), ["--start", "past the end"]),
    (dict(start=0.2, end=0.1), ["--start", "--end"]),
    (dict(start=0.01, end=0.02), ["no frame"]),
])
def test_select_frames_bad_windows(kwargs, words):
    one_line_error(lambda: select_frames(10, 25.0, **kwargs), *words)


def test_resized_size_and_natural_key():
    assert resized_size((1920, 1080), 480) == (480, 270)
    assert resized_size((1080, 1920), 480) == (270, 480)
    assert resized_size((640, 480), 1000) == (640, 480)  # never enlarges
    assert resized_size((640, 480), None) == (640, 480)
    names = ["f10.png", "f2.png", "F1.png", "f1b.png"]
    assert sorted(names, key=natural_key) == ["F1.png", "f1b.png", "f2.png", "f10.png"]


# --- videos ------------------------------------------------------------------------------------

def test_video_info_and_frames(ten):
    reader = open_video(ten)
    info = reader.info
    assert (info.kind, info.num_frames, info.source_num_frames, len(reader)) == ("video", 10, 10, 10)
    assert (info.source_fps, info.fps, info.fps_assumed) == (FPS, FPS, False)
    assert info.size == info.source_size == (W, H) and info.scale == 1.0
    frames = list(reader)
    assert len(frames) == 10 and all(f.shape == (H, W, 3) and f.dtype == np.uint8 for f in frames)
    assert decoded_ids(frames) == list(range(10))
    assert decoded_ids(reader) == list(range(10))  # re-iterable
    np.testing.assert_allclose(info.times, np.arange(10) / FPS)


def test_video_fps_start_end_max_size(ten):
    sub = open_video(ten, fps=10.0)
    assert sub.info.source_indices.tolist() == [0, 3, 5, 8] and sub.info.fps == 10.0
    assert decoded_ids(sub) == [0, 3, 5, 8]
    assert open_video(ten, fps=60.0).info.fps == FPS  # never upsamples
    window = open_video(ten, start=0.1, end=0.3)
    assert decoded_ids(window) == [3, 4, 5, 6, 7] and window.info.num_frames == 5
    both = open_video(ten, start=0.1, fps=10.0)
    assert both.info.source_indices.tolist() == [3, 6, 8]  # grid 2.5 (-> 3), 5 (-> 6 from 3), 7.5
    small = open_video(ten, max_size=32)
    assert small.info.size == (32, 24) and small.info.source_size == (W, H) and small.info.scale == 0.5
    assert small.info.scale_xy == (0.5, 0.5)
    assert all(f.shape == (24, 32, 3) for f in small)
    assert open_video(ten, max_size=1000).info.size == (W, H)  # never upscales


def test_streaming_reads_one_frame_at_a_time(ten):
    iterator = iter(open_video(ten))
    first = next(iterator)
    assert first.shape == (H, W, 3)  # a generator: nothing else decoded yet
    assert decoded_ids([first]) == [0]
    iterator.close()


def test_one_frame_video(tmp_path):
    reader = open_video(opencv_video(tmp_path / "one.mp4", 1))
    assert reader.info.num_frames == 1 and decoded_ids(reader) == [0]


def test_window_errors_name_the_video_length(ten):
    text = one_line_error(lambda: open_video(ten, start=5.0), "--start", "0.400 s")
    assert "10 frames" in text
    one_line_error(lambda: open_video(ten, start=0.3, end=0.2), "--end")
    one_line_error(lambda: open_video(ten, fps=0.0), "--fps")
    one_line_error(lambda: open_video(ten, max_size=4), "--max-size")
    one_line_error(lambda: open_video(ten, start=-1.0), "--start")


def test_missing_and_not_a_video(tmp_path):
    one_line_error(lambda: open_video(tmp_path / "nope.mp4"), "does not exist")
    text_file = tmp_path / "x.mp4"
    text_file.write_text("this is not a video\n")
    one_line_error(lambda: open_video(text_file), "not a video")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    one_line_error(lambda: open_video(empty), "0 bytes")


def test_empty_videos(tmp_path):
    mp4 = opencv_video(tmp_path / "zero.mp4", 0)
    assert mp4_media_bytes(mp4) == 0
    one_line_error(lambda: open_video(mp4), "no video frame")
    avi = opencv_video(tmp_path / "zero.avi", 0, fourcc="MJPG")
    one_line_error(lambda: open_video(avi), "no video frame")


def test_codec_opencv_cannot_open(tmp_path):
    data = bytearray(opencv_video(tmp_path / "mjpg.avi", 5, fourcc="MJPG").read_bytes())
    for tag in (b"MJPG", b"mjpg"):  # FourCC in the stream header and the codec field
        data = data.replace(tag, b"QQQQ")
    path = tmp_path / "unknown-codec.avi"
    path.write_bytes(bytes(data))
    assert container_name(bytes(data[:16])) == "AVI"
    one_line_error(lambda: open_video(path), "AVI", "unsupported codec", "ffmpeg")


def test_codec_opened_but_nothing_decodes(tmp_path):
    data = bytearray(opencv_video(tmp_path / "mjpg.avi", 5, fourcc="MJPG").read_bytes())
    start, damaged = 0, 0
    while (start := data.find(b"\xff\xd8", start)) >= 0:  # every JPEG, start to end of image
        end = data.find(b"\xff\xd9", start) + 2
        data[start:end] = bytes(end - start)
        damaged += 1
    assert damaged == 5
    path = tmp_path / "damaged.avi"
    path.write_bytes(bytes(data))
    one_line_error(lambda: open_video(path), "cannot decode", "MJPG", "ffmpeg")


def top_level_boxes(data: bytes) -> dict[bytes, bytes]:
    boxes, offset = {}, 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset:offset + 4], "big")
        boxes[data[offset + 4:offset + 8]] = data[offset:offset + size]
        offset += size
    return boxes


def index_first(data: bytes) -> bytes:
    """An MP4 written by cv2.VideoWriter (ftyp, free, mdat, moov) with its index moved to the front
    ("faststart"): ftyp, moov, free, mdat, the chunk offsets in moov's stco shifted to match."""
    boxes = top_level_boxes(data)
    assert list(boxes) == [b"ftyp", b"free", b"mdat", b"moov"]
    moov = bytearray(boxes[b"moov"])
    at = moov.find(b"stco")
    for e in range(int.from_bytes(moov[at + 8:at + 12], "big")):
        p = at + 12 + 4 * e
        moov[p:p + 4] = (int.from_bytes(moov[p:p + 4], "big") + len(moov)).to_bytes(4, "big")
    return boxes[b"ftyp"] + bytes(moov) + boxes[b"free"] + boxes[b"mdat"]


def write_noise_video(path, count: int):
    """Frames of noise, so every frame takes many bytes and a cut lands between frames."""
    rng = np.random.default_rng(0)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (W, H))
    for _ in range(count):
        writer.write(rng.integers(0, 256, (H, W, 3), dtype=np.uint8))
    writer.release()
    return path


def test_truncated_mp4_says_truncated_and_how_many_frames_decoded(tmp_path):
    data = write_noise_video(tmp_path / "whole.mp4", 40).read_bytes()
    fast = index_first(data)
    (tmp_path / "fast.mp4").write_bytes(fast)
    assert open_video(tmp_path / "fast.mp4").info.num_frames == 40  # the rewritten file is sound
    cut = tmp_path / "fast-cut.mp4"
    cut.write_bytes(fast[: len(fast) // 2])  # index first: OpenCV opens it and decodes the first half
    text = one_line_error(lambda: open_video(cut), "truncated or damaged", "of the 40 frames", "again in full")
    decoded = int(text.split("only ")[1].split(" of")[0])
    assert 0 < decoded < 40
    cut = tmp_path / "slow-cut.mp4"
    cut.write_bytes(data[: len(data) // 2])  # index last: cut off, nothing can be opened
    text = one_line_error(lambda: open_video(cut), "truncated or damaged", "0 frames decoded", "again in full")
    assert "codec" not in text


# --- image folders -------------------------------------------------------------------------

def write_images(folder, names, size=(W, H)):
    folder.mkdir()
    for i, name in enumerate(names):
        assert cv2.imwrite(str(folder / name), np.full((size[1], size[0], 3), frame_value(i), np.uint8))
    return folder


def test_image_folder_natural_order_and_options(tmp_path):
    # written in this order, so the grey level tells which file a frame came from
    folder = write_images(tmp_path / "frames", ["f1.png", "f2.jpg", "f10.png", "f3.bmp"])
    (folder / "notes.txt").write_text("ignored")
    reader = open_video(folder)
    info = reader.info
    assert (info.kind, info.num_frames, info.source_fps, info.fps_assumed) == ("images", 4, 30.0, True)
    assert decoded_ids(reader) == [0, 1, 3, 2]  # f1, f2, f3, f10
    timed = open_video(folder, fps=10.0, start=0.1, max_size=32)
    assert timed.info.source_indices.tolist() == [1, 2, 3] and timed.info.fps == 10.0
    assert timed.info.size == (32, 24) and all(f.shape == (24, 32, 3) for f in timed)


def test_image_folder_errors(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("no images here")
    one_line_error(lambda: open_video(empty), "no image")
    mixed = write_images(tmp_path / "mixed", ["a.png"])
    cv2.imwrite(str(mixed / "b.png"), np.zeros((30, 60, 3), np.uint8))
    one_line_error(lambda: open_video(mixed), "differ in size", "64x48", "60x30")
    broken = write_images(tmp_path / "broken", ["a.png"])
    (broken / "b.png").write_bytes(b"not a png")
    one_line_error(lambda: open_video(broken), "b.png", "not a readable image")


def box(kind: bytes, payload: bytes = b"", size: int | None = None) -> bytes:
    """A top-level MP4 box with a 32-bit size (``size`` overrides the true one)."""
    return (8 + len(payload) if size is None else size).to_bytes(4, "big") + kind + payload


def box64(kind: bytes, payload: bytes = b"") -> bytes:
    """A top-level MP4 box with a 64-bit size (size field 1, then 8 bytes of size)."""
    return (1).to_bytes(4, "big") + kind + (16 + len(payload)).to_bytes(8, "big") + payload


@pytest.mark.parametrize(
    "data, media, truncated, stop",
    [
        (box(b"ftyp", bytes(4)) + box(b"mdat", bytes(100)) + box(b"moov", bytes(20)), 100, False, "end"),
        (box(b"ftyp", bytes(4)) + box(b"moov", bytes(20)), None, False, "end"),  # no mdat
        (box(b"ftyp", bytes(4)) + box(b"mdat", bytes(30)), 30, True, "end"),  # no index
        (box(b"moov", bytes(4)) + box(b"mdat", bytes(30), size=200), 192, True, "end"),  # runs past the end
        (box(b"moov", bytes(4)) + box64(b"mdat", bytes(50)), 50, False, "end"),
        (box(b"moov", bytes(4)) + box(b"mdat", bytes(50), size=0), 50, False, "end"),  # size 0: to the end
        (box(b"ftyp", bytes(4)) + (1).to_bytes(4, "big") + b"mdat" + bytes(2), None, True, "cut_header"),
        (box(b"ftyp", bytes(4)) + box(b"mdat", bytes(30), size=4) + bytes(8), None, False, "not_boxes"),
        (b"", None, False, "end"),
    ],
    ids=["whole", "no-mdat", "no-moov", "past-end", "64-bit", "size-0", "cut-64-bit-header", "size-under-header", "empty"],
)
def test_mp4_box_walk_on_hand_made_files(tmp_path, data, media, truncated, stop):
    path = tmp_path / "boxes.mp4"
    path.write_bytes(data)
    assert mp4_boxes(path).stop == stop
    assert mp4_media_bytes(path) == media
    assert mp4_truncated(path) is truncated


# --- the one video writer (H.264 MP4 through PyAV) ------------------------------------------

def grey_frames(count: int, size=(W, H)):
    for i in range(count):
        yield np.full((size[1], size[0], 3), frame_value(i), np.uint8)


@pytest.mark.parametrize("size, fps", [((W, H), FPS), ((W, H), 24000 / 1001), ((65, 47), 12.0)])
def test_written_video_decodes_with_our_reader(tmp_path, size, fps):
    path = write_video(grey_frames(9, size), tmp_path / "clip.mp4", fps)
    reader = open_video(path)
    even = (size[0] + size[0] % 2, size[1] + size[1] % 2)  # odd sides padded to even (H.264 4:2:0)
    assert reader.info.num_frames == 9 and reader.info.size == even
    assert reader.info.fps == pytest.approx(fps, rel=1e-6) and not reader.info.fps_assumed
    frames = list(reader)
    assert decoded_ids(frames) == list(range(9))
    assert max(np.abs(f[: size[1], : size[0]].astype(int) - frame_value(i)).max() for i, f in enumerate(frames)) <= 3
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
        assert stream.average_rate == pytest.approx(fps, rel=1e-6)


def test_writer_streams_and_colours_survive(tmp_path):
    # RGB order kept (a BGR mix-up would swap red and blue)
    red = np.zeros((H, W, 3), np.uint8)
    red[..., 0] = 220
    with VideoWriter(tmp_path / "red.mp4", FPS) as writer:
        for _ in range(3):
            writer.write(red)
        assert writer.frames == 3
        assert not (tmp_path / "red.mp4").exists()  # appears only when complete
    first = next(iter(open_video(tmp_path / "red.mp4")))
    assert first[..., 0].mean() > 200 and first[..., 2].mean() < 30


def test_writer_bad_input_leaves_nothing(tmp_path):
    with pytest.raises(ValueError, match="at least one"):
        write_video([], tmp_path / "none.mp4", FPS)
    with pytest.raises(ValueError, match="first frame's size"):
        write_video([np.zeros((H, W, 3), np.uint8), np.zeros((H, W + 2, 3), np.uint8)], tmp_path / "sizes.mp4", FPS)
    with pytest.raises(ValueError, match="uint8 RGB"):
        write_video([np.zeros((H, W), np.uint8)], tmp_path / "grey.mp4", FPS)
    with pytest.raises(ValueError, match=r"\.mp4"):
        VideoWriter(tmp_path / "clip.avi", FPS)
    with pytest.raises(ValueError, match="fps"):
        VideoWriter(tmp_path / "clip.mp4", 0.0)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("error", [RuntimeError("frame source failed"), KeyboardInterrupt()])
def test_interrupted_write_keeps_the_old_video_and_no_temp_file(tmp_path, error):
    path = write_video(grey_frames(3), tmp_path / "clip.mp4", FPS)
    before = path.read_bytes()

    def failing():
        yield from grey_frames(2)
        raise error

    with pytest.raises(type(error)):
        write_video(failing(), path, FPS)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]


def test_written_video_follows_the_umask(tmp_path):
    import os
    import stat

    old = os.umask(0o077)
    try:
        path = write_video(grey_frames(2), tmp_path / "clip.mp4", FPS)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
