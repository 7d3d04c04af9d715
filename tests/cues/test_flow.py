"""OpenCV DIS optical flow on synthetic textures with known motion."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from selfmocap.cues import estimate_flow, flow_consistency, pair_flow
from selfmocap.cues.config import FlowConfig


def _texture(h, w, seed, scales=(2, 4, 8, 16)):
    """Multi-scale smooth noise, 0..255 float32."""
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w), np.float32)
    for s in scales:
        n = rng.standard_normal((h // s + 2, w // s + 2)).astype(np.float32)
        img += cv2.resize(n, (w + 2 * s, h + 2 * s), interpolation=cv2.INTER_CUBIC)[s : s + h, s : s + w] * s**0.5
    return (img - img.min()) / (img.max() - img.min()) * 255


def _translate(img, dx, dy):
    """I_{t+1}(p + d) = I_t(p): content moves by +d."""
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(img, m, (img.shape[1], img.shape[0]), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)


def _rgb(grey):
    g = np.clip(grey, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(np.stack([g, (g * 0.8).astype(np.uint8), 255 - g], -1))


def _translated_pair(size, d, seed=0, pad=32):
    big = _texture(size + 2 * pad, size + 2 * pad, seed)
    a, b = big, _translate(big, *d)
    return _rgb(a[pad:-pad, pad:-pad]), _rgb(b[pad:-pad, pad:-pad])


def _blob_pair(size, d, seed=0):
    """A textured ellipse moving by d over a static textured background."""
    bg = _texture(size, size, seed, (4, 8, 16, 32)) * 0.6 + 40
    fg = _texture(size, size, seed + 1, (2, 4, 8))
    yy, xx = np.mgrid[0:size, 0:size] + 0.5

    def frame(off):
        m = ((xx - size / 2 - off[0]) / (size * 0.18)) ** 2 + ((yy - size / 2 - off[1]) / (size * 0.35)) ** 2 < 1
        return _rgb(np.where(m, _translate(fg, *off), bg)), m

    (a, mask_a), (b, _) = frame((0.0, 0.0)), frame(d)
    return a, b, mask_a


@pytest.mark.parametrize("size, d", [(128, (2.3, -1.6)), (128, (-5.5, 3.2)), (256, (8.8, -6.2))])
def test_translation_is_recovered(size, d):
    a, b = _translated_pair(size, d)
    flow = estimate_flow(a, b)
    assert flow.shape == (size, size, 2) and flow.dtype == np.float32
    epe = np.linalg.norm(flow - np.array(d, np.float32), axis=-1)[8:-8, 8:-8]
    assert epe.mean() < 0.15


def test_direction_convention_warps_t_plus_1_back_onto_t():
    """I_t(p) ~ I_{t+1}(p + flow(p)) (the synthetic ground truth's convention)."""
    a, b = _translated_pair(128, (4.0, 2.5))
    flow = estimate_flow(a, b)
    assert flow[..., 0].mean() > 3.5 and flow[..., 1].mean() > 2.0  # content moved right and down
    rows, cols = np.mgrid[0:128, 0:128].astype(np.float32)
    warped = cv2.remap(b, cols + flow[..., 0], rows + flow[..., 1], cv2.INTER_LINEAR)
    inner = (slice(8, -8), slice(8, -8))
    err = np.abs(warped.astype(np.float32) - a)[inner].mean()
    assert err < 2.0 and err < 0.2 * np.abs(b.astype(np.float32) - a)[inner].mean()


def test_moving_person_like_blob_over_static_background():
    d = (3.4, -2.1)
    a, b, mask = _blob_pair(128, d)
    flow = estimate_flow(a, b)
    kernel = np.ones((7, 7), np.uint8)
    inner = cv2.erode(mask.astype(np.uint8), kernel).astype(bool)
    outer = ~cv2.dilate(mask.astype(np.uint8), kernel).astype(bool)
    assert np.linalg.norm(flow - np.array(d), axis=-1)[inner].mean() < 0.2
    assert np.linalg.norm(flow, axis=-1)[outer].mean() < 0.2


def test_clip_flow_and_consistency():
    d = (4.0, 0.0)
    a, b, mask = _blob_pair(128, d, seed=3)
    c = _blob_pair(128, (8.0, 0.0), seed=3)[1]
    flow, valid = pair_flow(np.stack([a, b, c]))
    assert flow.shape == (2, 128, 128, 2) and valid.shape == (2, 128, 128) and valid.dtype == bool
    assert np.array_equal(flow[0], estimate_flow(a, b))
    assert valid[0].mean() > 0.9
    # background just right of the blob is covered at t+1: occluded, so inconsistent
    yy, xx = np.mgrid[0:128, 0:128] + 0.5
    covered = ~mask & np.roll(mask, 3, axis=1) & (np.abs(yy - 64) < 30) & (xx > 64)
    assert covered.sum() > 50
    assert valid[0][covered].mean() < 0.5
    flow_off, valid_off = pair_flow(np.stack([a, b]), config=FlowConfig(consistency_check=False))
    assert valid_off.all() and np.array_equal(flow_off[0], flow[0])


@pytest.mark.parametrize("threads", [2, 3, 8])
def test_pair_flow_with_threads_and_a_gap_is_the_pairs_one_by_one(threads):
    """Threads split the pairs between DIS instances: the same flow and validity as one DIS, pair by pair."""
    rng = np.random.default_rng(0)
    frames = [_blob_pair(64, tuple(rng.uniform(-3, 3, 2)), seed=s)[1] for s in range(6)]
    flow, valid = pair_flow(frames, gap=2, threads=threads)
    assert flow.shape == (4, 64, 64, 2) and valid.shape == (4, 64, 64)
    for t in range(4):
        forward = estimate_flow(frames[t], frames[t + 2])
        assert np.array_equal(flow[t], forward)
        assert np.array_equal(valid[t], flow_consistency(forward, estimate_flow(frames[t + 2], frames[t])))
    assert pair_flow(frames[:2], gap=2)[0].shape == (0, 64, 64, 2)


def test_flow_consistency_by_hand():
    forward = np.zeros((6, 8, 2), np.float32)
    forward[..., 0] = 2.0
    backward = -forward.copy()
    valid = flow_consistency(forward, backward)
    assert valid[:, :6].all() and not valid[:, 7].any()  # x + 2 leaves the 8 px frame at x = 7.5
    backward[:, :, 1] = 3.0  # now the round trip misses by 3 px
    assert not flow_consistency(forward, backward).any()


def test_grey_input_and_errors():
    a, b = _translated_pair(64, (1.0, 1.0))
    grey = estimate_flow(cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), cv2.cvtColor(b, cv2.COLOR_RGB2GRAY))
    assert np.array_equal(grey, estimate_flow(a, b))
    with pytest.raises(ValueError, match="uint8"):
        estimate_flow(a.astype(np.float32), b)
    with pytest.raises(ValueError, match="size"):
        estimate_flow(a, b[:32])
    with pytest.raises(ValueError, match="RGB"):
        estimate_flow(a[..., :2], b[..., :2])
    with pytest.raises(ValueError, match="frames"):
        pair_flow(np.zeros((0, 8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match="gap"):
        pair_flow([a, b], gap=0)
    with pytest.raises(ValueError, match="preset"):
        FlowConfig(preset="slow")
