"""Frames in and out, for every stage (cues, export, eval, capture): a video file or a folder of
images streamed as RGB uint8 arrays, and the one video writer (:class:`VideoWriter`, :func:`write_video`).

:func:`open_video` checks the input once (it exists, OpenCV decodes it, the frames are counted
exactly, the time window is inside it) and returns a :class:`VideoReader`, which re-opens the
source at each iteration and decodes one frame at a time, so a long video never sits in memory.

Frame selection, all in source frames of rate ``F`` (frame ``i`` is shown at ``i / F`` seconds):

* ``start``/``end`` (seconds) keep the frames with ``start <= i / F < end``; an ``end`` past the
  last frame is clipped to it, a ``start`` at or past it is an error.
* ``fps`` below ``F`` keeps, for each time of a regular grid at that rate starting at the first
  kept frame, the frame nearest to it; ``fps >= F`` keeps every frame (never upsamples).
* ``max_size`` shrinks the frames (``cv2.INTER_AREA``) so the longer side is at most that many
  pixels; it never enlarges them.

Video frames are counted with ``grab()`` at open time (``CAP_PROP_FRAME_COUNT`` is an estimate
from the container, wrong for some files), which decodes the file once; each iteration decodes it
again up to the last selected frame, reading sequentially rather than seeking (seeking is not
frame-exact for every codec).
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import av
import cv2
import numpy as np

from selfmocap.errors import UserError
from selfmocap.io import atomic_path

# FFmpeg's own decoder messages ("[mjpeg @ 0x...] No JPEG data found") bypass OpenCV's log level;
# this variable silences them, but OpenCV reads it once, at its first use of FFmpeg in the process.
# Set it yourself (e.g. to 16, FFmpeg's error level) to see them.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

#: Image files accepted in a folder of frames (case-insensitive).
IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp", ".webp")

#: Frame rate assumed for a folder of images without ``fps``, or a video whose container has none.
DEFAULT_FPS = 30.0

#: Container frame rates outside (0, this] are treated as missing.
MAX_PLAUSIBLE_FPS = 1000.0

#: Container signatures: (offset, bytes, name). Used only to word the error for a file that
#: OpenCV cannot open: a known container means an unsupported codec, anything else "not a video".
_CONTAINER_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (4, b"ftyp", "MP4/MOV"),
    (4, b"moov", "MOV"),
    (4, b"mdat", "MOV"),
    (0, b"\x1a\x45\xdf\xa3", "Matroska/WebM"),
    (8, b"AVI ", "AVI"),
    (0, b"OggS", "Ogg"),
    (0, b"FLV", "FLV"),
    (0, b"\x00\x00\x01\xba", "MPEG-PS"),
    (0, b"\x30\x26\xb2\x75", "ASF/WMV"),
)

_REENCODE = "re-encode it, e.g. ffmpeg -i IN -c:v libx264 -pix_fmt yuv420p OUT.mp4"


@dataclass(frozen=True, eq=False)
class VideoInfo:
    """What iterating a :class:`VideoReader` yields.

    Attributes:
        source: the file or folder given.
        kind: ``"video"`` (a file) or ``"images"`` (a folder).
        source_fps: the container's frame rate (images: the ``fps`` given, or 30).
        fps: rate of the yielded frames, after ``fps`` subsampling.
        num_frames: exact number of frames one iteration yields.
        size: (W, H) of the yielded frames, after ``max_size``.
        source_size: (W, H) in the file.
        source_indices: (num_frames,) int64 index in the file of each yielded frame.
        source_num_frames: frames in the whole file or folder (counted, not the container's claim).
        fps_assumed: True when the container had no usable frame rate and ``DEFAULT_FPS`` was
            used (images: when no ``fps`` was given).
    """

    source: Path
    kind: Literal["video", "images"]
    source_fps: float
    fps: float
    num_frames: int
    size: tuple[int, int]
    source_size: tuple[int, int]
    source_indices: np.ndarray
    source_num_frames: int = 0
    fps_assumed: bool = False

    @property
    def scale(self) -> float:
        """size / source_size along the longer side (frame pixels = scale * source pixels).

        Both sides are rounded to whole pixels, so the exact per-axis factors
        (:attr:`scale_xy`) can differ from this by at most half a pixel over the shorter side."""
        axis = 0 if self.source_size[0] >= self.source_size[1] else 1
        return self.size[axis] / self.source_size[axis]

    @property
    def scale_xy(self) -> tuple[float, float]:
        """Exact (W / W_source, H / H_source) of the resize (OpenCV maps continuous pixel
        coordinates by these factors)."""
        return self.size[0] / self.source_size[0], self.size[1] / self.source_size[1]

    @property
    def times(self) -> np.ndarray:
        """(num_frames,) time of each yielded frame in the source, seconds."""
        return self.source_indices / self.source_fps


def natural_key(name: str) -> tuple:
    """Sort key that orders embedded numbers by value: ``frame2 < frame10``."""
    return tuple(int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name))


def resized_size(size: tuple[int, int], max_size: int | None) -> tuple[int, int]:
    """(W, H) after shrinking so the longer side is at most ``max_size`` (never enlarging)."""
    w, h = size
    longest = max(w, h)
    if max_size is None or longest <= max_size:
        return w, h
    factor = max_size / longest
    return max(1, round(w * factor)), max(1, round(h * factor))


def select_frames(num_frames: int, source_fps: float, start: float | None = None, end: float | None = None,
                  fps: float | None = None) -> np.ndarray:
    """Indices of the source frames to keep (see the module docstring for the rules).

    Raises ``UserError`` when the window is empty or starts past the last frame."""
    duration = num_frames / source_fps
    start_s = 0.0 if start is None else float(start)
    end_s = duration if end is None else min(float(end), duration)
    if start is not None and start_s >= duration:
        raise UserError(f"--start {start:g} s is at or past the end of the video ({duration:.3f} s, {num_frames} frames "
                        f"at {source_fps:g} fps); choose a smaller --start")
    if start_s >= end_s:
        raise UserError(f"--start {start_s:g} s is not before --end {end_s:g} s; choose --start < --end")
    tol = 1e-6  # frames: times given in seconds rarely land exactly on a frame
    first = max(0, math.ceil(start_s * source_fps - tol))
    stop = min(num_frames, math.ceil(end_s * source_fps - tol))  # exclusive
    if stop <= first:
        raise UserError(f"no frame between --start {start_s:g} s and --end {end_s:g} s at {source_fps:g} fps; "
                        "widen the window")
    if fps is None or fps >= source_fps:
        return np.arange(first, stop, dtype=np.int64)
    step = source_fps / fps  # source frames per kept frame, > 1
    grid = first + step * np.arange(math.ceil((stop - first) / step) + 1)
    indices = np.floor(grid + 0.5).astype(np.int64)  # nearest frame, halves rounded up
    return indices[indices < stop]


def _validate_options(start: float | None, end: float | None, fps: float | None, max_size: int | None) -> None:
    if start is not None and (not math.isfinite(start) or start < 0):
        raise UserError(f"--start must be a time in seconds >= 0, got {start}; give e.g. --start 1.5")
    if end is not None and (not math.isfinite(end) or end <= 0):
        raise UserError(f"--end must be a time in seconds > 0, got {end}; give e.g. --end 10")
    if fps is not None and (not math.isfinite(fps) or fps <= 0):
        raise UserError(f"--fps must be a positive frame rate, got {fps}; give e.g. --fps 15, or leave it out")
    if max_size is not None and max_size < 16:
        raise UserError(f"--max-size must be at least 16 pixels, got {max_size}; give e.g. --max-size 480")


def container_name(header: bytes) -> str | None:
    """Name of the video container that the first bytes of a file announce, or None."""
    for offset, magic, name in _CONTAINER_SIGNATURES:
        if header[offset:offset + len(magic)] == magic:
            return name
    return None


def _read_header(path: Path, count: int = 16) -> bytes:
    with open(path, "rb") as f:
        return f.read(count)


def _fourcc(capture: cv2.VideoCapture) -> str:
    code = int(capture.get(cv2.CAP_PROP_FOURCC))
    text = "".join(chr((code >> (8 * k)) & 0xFF) for k in range(4))
    return text if code and text.isprintable() and text.strip() else "unknown"


@dataclass(frozen=True)
class Mp4Box:
    """A top-level box of an MP4/MOV file: its type, where it starts, its declared size (header
    included; it may run past the end of a truncated file) and its header's length (8, or 16 with
    a 64-bit size)."""

    kind: bytes
    offset: int
    size: int
    header: int


@dataclass(frozen=True)
class Mp4Boxes:
    """The top-level boxes of an MP4/MOV file, in order, and why the walk stopped: ``end`` (the
    file ran out of box headers), ``cut_header`` (a 64-bit size header cut by the end of the file)
    or ``not_boxes`` (a size smaller than its header: not a box sequence)."""

    boxes: tuple[Mp4Box, ...]
    file_size: int
    stop: Literal["end", "cut_header", "not_boxes"]


def mp4_boxes(path: Path) -> Mp4Boxes:
    """Walk the top-level boxes of an MP4/MOV file, reading only their headers."""
    size_on_disk = path.stat().st_size
    boxes: list[Mp4Box] = []
    stop: Literal["end", "cut_header", "not_boxes"] = "end"
    with open(path, "rb") as f:
        offset = 0
        while offset + 8 <= size_on_disk:
            f.seek(offset)
            head = f.read(16)
            size, kind = int.from_bytes(head[:4], "big"), head[4:8]
            header = 8
            if size == 1:  # 64-bit size
                if len(head) < 16:
                    stop = "cut_header"
                    break
                size, header = int.from_bytes(head[8:16], "big"), 16
            elif size == 0:  # box runs to the end of the file
                size = size_on_disk - offset
            if size < header:
                stop = "not_boxes"
                break
            boxes.append(Mp4Box(kind=kind, offset=offset, size=size, header=header))
            offset += size
    return Mp4Boxes(boxes=tuple(boxes), file_size=size_on_disk, stop=stop)


def mp4_media_bytes(path: Path) -> int | None:
    """Total payload of the top-level ``mdat`` boxes of an MP4/MOV file (0: no frame data at all),
    or None when the file is not a readable box sequence or has no ``mdat``."""
    walk = mp4_boxes(path)
    media = [box.size - box.header for box in walk.boxes if box.kind == b"mdat"]
    return sum(media) if walk.stop == "end" and media else None


def mp4_truncated(path: Path) -> bool:
    """Whether an MP4/MOV file ends before its boxes do: a top-level box runs past the end of the
    file, or frame data (``mdat``) has no index (``moov``); the marks of an interrupted copy,
    download or recording."""
    walk = mp4_boxes(path)
    if walk.stop != "end":
        return walk.stop == "cut_header"  # not a box sequence: damaged, not evidently truncated
    if any(box.offset + box.size > walk.file_size for box in walk.boxes):
        return True
    kinds = {box.kind for box in walk.boxes}
    return b"mdat" in kinds and b"moov" not in kinds


_TRUNCATED_FIX = "copy, download or record it again in full, or give another video"


@contextmanager
def quiet_opencv() -> Iterator[None]:
    """Silence OpenCV's and FFmpeg's own log lines (OpenCV routes FFmpeg's through its logger)
    while a block runs; this module reports problems itself, as one-line ``UserError``s."""
    logging = cv2.utils.logging
    old = logging.getLogLevel()
    logging.setLogLevel(logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        logging.setLogLevel(old)


def _open_capture(path: Path) -> cv2.VideoCapture:
    backend = cv2.CAP_FFMPEG if cv2.videoio_registry.hasBackend(cv2.CAP_FFMPEG) else cv2.CAP_ANY
    with quiet_opencv():
        return cv2.VideoCapture(str(path), backend)


def _grab(capture: cv2.VideoCapture) -> bool:
    with quiet_opencv():
        return bool(capture.grab())


def _retrieve(capture: cv2.VideoCapture) -> np.ndarray | None:
    with quiet_opencv():
        ok, frame = capture.retrieve()
    return frame if ok else None


def _probe_video(path: Path) -> tuple[int, float, bool, tuple[int, int]]:
    """Open, count frames with grab(), read the frame rate and size. Returns
    (frames, fps, fps_assumed, (W, H)); raises UserError for every unreadable case."""
    if path.stat().st_size == 0:
        raise UserError(f"{path} is an empty file (0 bytes); give a video file or a folder of images")
    capture = _open_capture(path)
    try:
        if not capture.isOpened():
            container = container_name(_read_header(path))
            if container in ("MP4/MOV", "MOV") and mp4_media_bytes(path) == 0:
                raise UserError(f"{path} holds no video frame (an empty {container} file); "
                                "give a video with at least one frame")
            if container in ("MP4/MOV", "MOV") and mp4_truncated(path):
                raise UserError(f"{path} is truncated or damaged: the {container} file ends before its data does "
                                f"and OpenCV cannot open it (0 frames decoded); {_TRUNCATED_FIX}")
            if container is None:
                raise UserError(f"{path} is not a video OpenCV can read (no known container); "
                                "give a video file (mp4, avi, mov, webm, mkv) or a folder of images")
            raise UserError(f"{path}: {container} file whose video stream OpenCV cannot open "
                            f"(unsupported codec, or no video stream); {_REENCODE}")
        claimed = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        codec = _fourcc(capture)
        fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
        if not _grab(capture):
            if claimed > 0:
                raise UserError(f"{path}: OpenCV opens the file but cannot decode a single frame of its "
                                f"'{codec}' video (unsupported codec or damaged stream); {_REENCODE}")
            raise UserError(f"{path} holds no video frame (an empty video); give a video with at least one frame")
        frame = _retrieve(capture)
        if frame is None:
            raise UserError(f"{path}: OpenCV reads but cannot convert the frames of its '{codec}' video; {_REENCODE}")
        h, w = frame.shape[:2]
        count = 1
        while _grab(capture):
            count += 1
    finally:
        capture.release()
    if count < claimed:
        # The declared count of MP4/MOV is exact (its index lists every frame); other containers
        # may estimate it from the duration, so only a clear shortfall counts there.
        container = container_name(_read_header(path))
        mp4 = container in ("MP4/MOV", "MOV")
        if mp4 or claimed - count > max(1, 0.1 * claimed):
            why = "the file ends before its data does" if mp4 and mp4_truncated(path) else "the stream ends early"
            raise UserError(f"{path} is truncated or damaged ({why}): only {count} of the {claimed} frames its "
                            f"{container or 'video'} container declares decoded; {_TRUNCATED_FIX}")
    assumed = not (math.isfinite(fps) and 0 < fps <= MAX_PLAUSIBLE_FPS)
    return count, (DEFAULT_FPS if assumed else fps), assumed, (w, h)


def list_images(folder: Path) -> list[Path]:
    """Image files of a folder (:data:`IMAGE_SUFFIXES`), in natural order of their names."""
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
             and not p.name.startswith(".")]
    return sorted(files, key=lambda p: natural_key(p.name))


def image_size(path: Path) -> tuple[int, int]:
    """(W, H) of an image as ``cv2.imread`` returns it (EXIF rotation applied), from its header."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            w, h = image.size
            orientation = image.getexif().get(0x0112, 1)
    except (OSError, UnidentifiedImageError, SyntaxError) as err:
        raise UserError(f"{path} is not a readable image ({err}); remove it from the folder or replace it") from None
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)


def _probe_images(folder: Path) -> tuple[list[Path], tuple[int, int]]:
    files = list_images(folder)
    if not files:
        raise UserError(f"{folder} holds no image ({', '.join(s[1:] for s in IMAGE_SUFFIXES)}); "
                        "give a folder of frames or a video file")
    size = image_size(files[0])
    for path in files[1:]:
        other = image_size(path)
        if other != size:
            raise UserError(f"images of {folder} differ in size: {files[0].name} is {size[0]}x{size[1]}, "
                            f"{path.name} is {other[0]}x{other[1]}; resize them to one size")
    return files, size


class VideoReader:
    """The selected frames of a video or image folder; iterate for RGB uint8 (H, W, 3) frames
    at ``info.size``, one decoded at a time. Each iteration re-opens the source."""

    def __init__(self, info: VideoInfo, files: list[Path] | None = None):
        self.info = info
        self._files = files

    def __len__(self) -> int:
        return self.info.num_frames

    def _prepare(self, bgr: np.ndarray, where: str) -> np.ndarray:
        h, w = bgr.shape[:2]
        if (w, h) != self.info.source_size:
            raise UserError(f"{where} is {w}x{h}, not {self.info.source_size[0]}x{self.info.source_size[1]} like "
                            "the first frame; give frames of one size")
        if bgr.ndim == 2:
            bgr = cv2.cvtColor(bgr, cv2.COLOR_GRAY2BGR)
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        if self.info.size != self.info.source_size:
            rgb = cv2.resize(rgb, self.info.size, interpolation=cv2.INTER_AREA)
        return np.ascontiguousarray(rgb)

    def __iter__(self) -> Iterator[np.ndarray]:
        if self.info.kind == "images":
            yield from self._iter_images()
        else:
            yield from self._iter_video()

    def _iter_images(self) -> Iterator[np.ndarray]:
        assert self._files is not None
        for index in self.info.source_indices:
            path = self._files[int(index)]
            bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if bgr is None:
                raise UserError(f"{path} could not be read (removed or damaged since the folder was opened)")
            yield self._prepare(bgr, str(path))

    def _iter_video(self) -> Iterator[np.ndarray]:
        wanted = self.info.source_indices
        capture = _open_capture(self.info.source)
        try:
            position, k = 0, 0
            while k < len(wanted):
                if not _grab(capture):
                    raise UserError(f"{self.info.source}: frame {position} could not be decoded (the file changed "
                                    f"since it was opened, or the stream is damaged); {_REENCODE}")
                if position == wanted[k]:
                    frame = _retrieve(capture)
                    if frame is None:
                        raise UserError(f"{self.info.source}: frame {position} could not be decoded; {_REENCODE}")
                    yield self._prepare(frame, f"frame {position} of {self.info.source}")
                    k += 1
                position += 1
        finally:
            capture.release()


def open_video(path: str | Path, start: float | None = None, end: float | None = None, fps: float | None = None,
               max_size: int | None = None) -> VideoReader:
    """Check a video file or image folder and return a reader of its selected frames.

    Args:
        path: a video file (whatever OpenCV's FFmpeg decodes: mp4, avi, mov, webm, mkv, ...) or a
            folder of images (:data:`IMAGE_SUFFIXES`, natural order of names, all one size).
        start, end: time window in seconds (``start <= t < end``).
        fps: subsample to this rate (never upsamples). For an image folder, it is the folder's
            frame rate instead (default 30), used for ``start``/``end``.
        max_size: longest side of the yielded frames, at most (never enlarges).

    Raises:
        UserError: one line naming the problem and the fix, for every bad input.
    """
    _validate_options(start, end, fps, max_size)
    source = Path(path).expanduser()
    if not source.exists():
        raise UserError(f"{source} does not exist; give a video file or a folder of images")
    if source.is_dir():
        files, source_size = _probe_images(source)
        source_fps = DEFAULT_FPS if fps is None else float(fps)
        indices = select_frames(len(files), source_fps, start, end, None)
        kind: Literal["video", "images"] = "images"
        count, assumed, out_fps = len(files), fps is None, source_fps
    else:
        count, source_fps, assumed, source_size = _probe_video(source)
        files = None
        indices = select_frames(count, source_fps, start, end, fps)
        kind = "video"
        out_fps = source_fps if fps is None or fps >= source_fps else float(fps)
    info = VideoInfo(
        source=source,
        kind=kind,
        source_fps=source_fps,
        fps=out_fps,
        num_frames=len(indices),
        size=resized_size(source_size, max_size),
        source_size=source_size,
        source_indices=indices,
        source_num_frames=count,
        fps_assumed=assumed,
    )
    return VideoReader(info, files)


# --- the one video writer -------------------------------------------------------------------

#: Encoder of every video selfmocap writes: H.264 by libx264, which PyAV's wheels ship. H.264 in
#: MP4 with 4:2:0 chroma is what browsers and ordinary players play (MPEG-4 Part 2, OpenCV's
#: ``mp4v``, is not); ``docs/exports.md``.
VIDEO_CODEC = "libx264"
#: libx264's constant rate factor (0 lossless .. 51; 18 looks like the input) and speed preset.
VIDEO_CRF = 18
VIDEO_PRESET = "veryfast"


def _rate(fps: float):
    """The frame rate as the fraction FFmpeg stores: 23.976... -> 24000/1001, 25.0 -> 25."""
    from fractions import Fraction

    if not (math.isfinite(fps) and 0 < fps <= MAX_PLAUSIBLE_FPS):
        raise ValueError(f"fps must be in (0, {MAX_PLAUSIBLE_FPS:g}], got {fps}")
    return Fraction(fps).limit_denominator(1001)


class VideoWriter:
    """Streams RGB uint8 frames into an H.264 MP4 file through PyAV, atomically.

    Use as a context manager: the file is written under a temporary name beside ``path``
    (:func:`selfmocap.io.atomic_path`) and appears at ``path`` only when the block ends without
    an error; on any error, Ctrl-C included, nothing is left behind. The frame size is the first
    frame's; every frame must have it. H.264's 4:2:0 chroma needs even sides, so a frame with an
    odd width or height is padded by repeating its last column or row (the file is then one
    pixel wider or taller than the frames).

    Args:
        path: the ``.mp4`` file to write.
        fps: frame rate, stored as a fraction (:func:`_rate`).
        crf: libx264's constant rate factor (quality; lower is better and larger).
    """

    def __init__(self, path: str | Path, fps: float, *, crf: int = VIDEO_CRF):
        self.path = Path(path)
        if self.path.suffix.lower() != ".mp4":
            raise ValueError(f"videos are written as H.264 .mp4, got {self.path.name}")
        self.rate = _rate(float(fps))
        self.crf = int(crf)
        self.frames = 0
        self._stack = None
        self._container = None
        self._stream = None
        self._size: tuple[int, int] | None = None

    def __enter__(self) -> "VideoWriter":
        self._stack = ExitStack()
        tmp = self._stack.enter_context(atomic_path(self.path))
        self._container = av.open(str(tmp), mode="w", format="mp4", options={"movflags": "+faststart"})
        self._stack.callback(self._container.close)
        return self

    def write(self, frame: np.ndarray) -> None:
        """Encode one (H, W, 3) uint8 RGB frame."""
        if self._container is None:
            raise RuntimeError("VideoWriter.write outside its with-block")
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(f"frames must be (H, W, 3) uint8 RGB, got {frame.shape} {frame.dtype}")
        h, w = frame.shape[:2]
        if self._size is None:
            self._size = (w, h)
            self._stream = self._container.add_stream(VIDEO_CODEC, rate=self.rate,
                                                      options={"crf": str(self.crf), "preset": VIDEO_PRESET})
            self._stream.width, self._stream.height = w + w % 2, h + h % 2
            self._stream.pix_fmt = "yuv420p"
        elif (w, h) != self._size:
            raise ValueError(f"frame {self.frames} is {w}x{h}, the video {self._size[0]}x{self._size[1]}: "
                             "every frame must have the first frame's size")
        if w % 2 or h % 2:
            frame = np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        packets = self._stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24"))
        self._container.mux(packets)
        self.frames += 1

    def __exit__(self, kind, value, traceback) -> bool:
        stack, self._stack = self._stack, None
        if kind is None:
            try:
                if self.frames == 0:
                    raise ValueError(f"no frame was written to {self.path}: a video needs at least one")
                self._container.mux(self._stream.encode(None))  # flush the encoder's delayed frames
            except BaseException:
                stack.__exit__(*sys.exc_info())  # closes the container, removes the temporary file
                raise
        return bool(stack.__exit__(kind, value, traceback))


def write_video(frames: Iterable[np.ndarray], path: str | Path, fps: float, *, crf: int = VIDEO_CRF) -> Path:
    """Stream ``frames`` ((H, W, 3) uint8 RGB, one at a time) into an H.264 MP4 at ``path``,
    atomically (:class:`VideoWriter`); returns ``path``."""
    with VideoWriter(path, fps, crf=crf) as writer:
        for frame in frames:
            writer.write(frame)
    return Path(path)
