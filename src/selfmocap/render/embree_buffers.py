"""Fill an embreex scene's triangle mesh with numpy copies instead of per-element Python indexing.

embreex's ``TriangleMesh(scene, vertices, faces)`` copies its numpy inputs into Embree's buffers
one element at a time through Python-level indexing (``vertices[i, 0]`` on an untyped
``np.ndarray``): for Anny's 13,718 vertices and 27,420 faces that is about 37 ms of the 48 ms a
``RayCaster`` took to build, against 11 ms for Embree's BVH build itself (one core, measured with
``benchmarks/bench_render.py``). :func:`attach_triangle_mesh` makes the very Embree calls
``TriangleMesh`` makes (``rtcNewGeometry``, ``rtcSetNewGeometryBuffer`` for the vertex and index
buffers, ``rtcCommitGeometry``, ``rtcAttachGeometry``, ``rtcReleaseGeometry``) through ctypes on
the same loaded Embree library, and fills the buffers with one numpy copy each. The scene, its
flags, the BVH build (on the scene's first query) and the ray casting stay embreex's, so hits
are identical (``tests/render/test_render_raycast.py`` checks it against ``TriangleMesh``).

embreex exposes no scene handle to Python, so this reads it from the ``EmbreeScene`` object's
memory (a Cython ``cdef`` field right after the object header). :func:`available` checks that
layout first on a throwaway scene (the neighbouring fields hold known values: ``is_committed``,
set from Python, and the device object), and the library is the one the process already mapped;
when anything does not match, :func:`available` is false and ``RayCaster`` falls back to
``TriangleMesh``.
"""

from __future__ import annotations

import ctypes
import functools

import numpy as np
from embreex import rtcore_scene

# Embree 4 API constants (embree4/rtcore_geometry.h, rtcore_buffer.h, rtcore_common.h).
_RTC_GEOMETRY_TYPE_TRIANGLE = 0
_RTC_BUFFER_TYPE_INDEX = 0
_RTC_BUFFER_TYPE_VERTEX = 1
_RTC_FORMAT_UINT3 = 0x5003
_RTC_FORMAT_FLOAT3 = 0x9003
#: TriangleMesh's vertex stride: embreex's ``Vertex`` struct is x, y, z and one float of padding.
_VERTEX_STRIDE = 16
_INDEX_STRIDE = 12

#: Byte offsets in a Cython ``cdef class EmbreeScene`` (no vtable): the object header, then
#: ``RTCScene scene_i``, ``int is_committed`` (padded to 8), ``EmbreeDevice device``.
_HEADER = object.__basicsize__
_SCENE_OFFSET = _HEADER
_COMMITTED_OFFSET = _HEADER + 8
_DEVICE_OFFSET = _HEADER + 16


def _loaded_embree_path() -> str | None:
    """Path of the Embree 4 library this process has mapped (embreex's), or None."""
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                if "libembree4" in path.rsplit("/", 1)[-1]:
                    return path
    except OSError:
        return None
    return None


@functools.cache
def _library() -> ctypes.CDLL | None:
    """The already-loaded Embree library with the argument types of the calls used here."""
    path = _loaded_embree_path()
    if path is None:
        return None
    try:
        lib = ctypes.CDLL(path)
    except OSError:
        return None
    p, u, s = ctypes.c_void_p, ctypes.c_uint, ctypes.c_size_t
    signatures = {
        "rtcGetSceneDevice": (p, [p]),
        "rtcReleaseDevice": (None, [p]),
        "rtcNewGeometry": (p, [p, ctypes.c_int]),
        "rtcSetNewGeometryBuffer": (p, [p, ctypes.c_int, u, ctypes.c_int, s, s]),
        "rtcCommitGeometry": (None, [p]),
        "rtcAttachGeometry": (u, [p, p]),
        "rtcReleaseGeometry": (None, [p]),
    }
    for name, (restype, argtypes) in signatures.items():
        fn = getattr(lib, name, None)
        if fn is None:
            return None
        fn.restype, fn.argtypes = restype, argtypes
    return lib


def _scene_handle(scene: rtcore_scene.EmbreeScene) -> int:
    """The ``RTCScene`` pointer inside an embreex scene (layout checked by :func:`available`)."""
    return ctypes.c_void_p.from_address(id(scene) + _SCENE_OFFSET).value or 0


@functools.cache
def available(device) -> bool:
    """Whether :func:`attach_triangle_mesh` can be used with scenes on ``device``: the library is
    loaded and an ``EmbreeScene``'s fields sit where this module reads them."""
    if _library() is None:
        return False
    scene = rtcore_scene.EmbreeScene(device, robust=True)
    if type(scene).__basicsize__ != _DEVICE_OFFSET + 8:
        return False
    marker = 0x5E1F_3A7C
    scene.is_committed = marker
    committed = ctypes.c_int.from_address(id(scene) + _COMMITTED_OFFSET).value
    scene.is_committed = 0
    device_ptr = ctypes.c_void_p.from_address(id(scene) + _DEVICE_OFFSET).value
    if committed != marker or device_ptr != id(device) or not _scene_handle(scene):
        return False
    lib = _library()
    handle = lib.rtcGetSceneDevice(_scene_handle(scene))
    if not handle:
        return False
    lib.rtcReleaseDevice(handle)
    return True


def attach_triangle_mesh(
    scene: rtcore_scene.EmbreeScene, vertices: np.ndarray, faces: np.ndarray
) -> None:
    """What ``TriangleMesh(scene, vertices, faces)`` does, with numpy copies.

    Args:
        scene: an uncommitted embreex scene whose device passed :func:`available`.
        vertices: (V, 3) float32 vertex positions, V >= 1.
        faces: (F, 3) uint32 vertex indices, F >= 1.
    """
    lib = _library()
    handle = _scene_handle(scene)
    device = lib.rtcGetSceneDevice(handle)
    try:
        geometry = lib.rtcNewGeometry(device, _RTC_GEOMETRY_TYPE_TRIANGLE)
    finally:
        lib.rtcReleaseDevice(device)
    if not geometry:
        raise RuntimeError("Embree could not create a triangle geometry")
    n_v, n_f = len(vertices), len(faces)
    v_ptr = lib.rtcSetNewGeometryBuffer(
        geometry, _RTC_BUFFER_TYPE_VERTEX, 0, _RTC_FORMAT_FLOAT3, _VERTEX_STRIDE, n_v
    )
    f_ptr = lib.rtcSetNewGeometryBuffer(
        geometry, _RTC_BUFFER_TYPE_INDEX, 0, _RTC_FORMAT_UINT3, _INDEX_STRIDE, n_f
    )
    if not (v_ptr and f_ptr):
        lib.rtcReleaseGeometry(geometry)
        raise RuntimeError("Embree could not allocate the mesh buffers")
    v_buf = np.ctypeslib.as_array((ctypes.c_float * (4 * n_v)).from_address(v_ptr)).reshape(n_v, 4)
    v_buf[:, :3] = vertices
    v_buf[:, 3] = 0.0
    f_buf = np.ctypeslib.as_array((ctypes.c_uint32 * (3 * n_f)).from_address(f_ptr)).reshape(n_f, 3)
    f_buf[:] = faces
    lib.rtcCommitGeometry(geometry)
    lib.rtcAttachGeometry(handle, geometry)
    lib.rtcReleaseGeometry(geometry)
