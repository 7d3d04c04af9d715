import numpy as np
import pytest
import trimesh

from selfmocap.export.meshes import mesh_file_name, write_meshes
from export_helpers import NUM_FRAMES


@pytest.mark.parametrize("fmt", ["obj", "ply"])
def test_one_world_frame_mesh_per_frame(body, motion, world_reference, tmp_path, fmt):
    paths = write_meshes(tmp_path / "meshes", motion, body, fmt=fmt)
    assert [p.name for p in paths] == [f"frame_{t:06d}.{fmt}" for t in range(NUM_FRAMES)]
    assert sorted(p.name for p in (tmp_path / "meshes").iterdir()) == [p.name for p in paths]  # no temporaries
    _, vertices_world = world_reference
    for t in (0, NUM_FRAMES - 1):
        mesh = trimesh.load(str(paths[t]), process=False)
        assert np.array_equal(mesh.faces, body.faces.numpy())
        assert np.abs(mesh.vertices - vertices_world[t]).max() < 1e-5


def test_mesh_names_and_format_check(body, motion, tmp_path):
    assert mesh_file_name(7, 10, "obj") == "frame_000007.obj"
    assert mesh_file_name(7, 12_345_678, "ply") == "frame_00000007.ply"
    with pytest.raises(ValueError, match="'obj' or 'ply'"):
        write_meshes(tmp_path, motion, body, fmt="stl")
