"""A miniature SURREAL download, written the way SURREAL's files are made and documented
(``gulvarol/surreal``: ``datageneration/main_part1.py``, ``misc/3Dto2D``, ``misc/smpl_relations``),
independently of selfmocap's reader:

* the body is smplx's own ``SMPL`` class posed in SURREAL's world with the global orientation
  ``R90 Rz(zrot) R(pose[0:3])`` and a translation putting the pelvis at ``joints3D[:, 0]``;
* it is projected with SURREAL's intrinsics (f = 600 px, principal point (160, 120)) and
  ``getExtrinsicBlender``'s world-to-camera matrix built from ``camLoc``; ``joints2D`` are rounded;
* frames are ray cast (selfmocap's Embree ray caster, a generic tool): ``segm`` holds body-part ids,
  ``depth`` metres with 1e10 on the background, ``gtflow`` Blender Cycles' vector pass (R, G): for
  each pixel of frame k the motion to frame k-1, ``pre - centre`` in raster units with y up;
* ``<clip>.mp4`` through ``cv2.VideoWriter`` (mp4v), the ``.mat`` files through ``scipy.io.savemat``.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
from scipy.io import savemat

from selfmocap.render import rasterize
from selfmocap.synth.generator import correspondence_flow

FOCAL, WIDTH, HEIGHT = 600.0, 320, 240
PRINCIPAL = np.array([WIDTH / 2, HEIGHT / 2])


def blender_extrinsic(cam_loc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """SURREAL's ``getExtrinsicBlender``: world -> computer-vision camera (R, T)."""
    r_world2bcam = np.array([[0, 0, 1], [0, -1, 0], [-1, 0, 0]], float).T
    t_world2bcam = -r_world2bcam @ cam_loc
    r_bcam2cv = np.diag([1.0, -1.0, -1.0])
    return r_bcam2cv @ r_world2bcam, r_bcam2cv @ t_world2bcam


def rot(axis: str, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    i, j = {"x": (1, 2), "y": (2, 0), "z": (0, 1)}[axis]
    m = np.eye(3)
    m[i, i], m[i, j], m[j, i], m[j, j] = c, -s, s, c
    return m


def smplx_model(path: Path):
    import smplx
    from smplx.utils import Struct

    keys = ["nose", "reye", "leye", "rear", "lear", "LBigToe", "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel"]
    keys += [h + t for h in "lr" for t in ("thumb", "index", "middle", "ring", "pinky")]
    return smplx.SMPL(model_path=str(path), data_struct=Struct(**dict(np.load(path))), vertex_ids=dict.fromkeys(keys, 0),
                      create_transl=False, create_betas=False, create_body_pose=False, create_global_orient=False)


def write_clip(folder: Path, name: str, model_file: Path, gender: int, seed: int, frames: int = 5) -> dict:
    """Write ``folder/name.mp4`` and ``name_{info,segm,depth,gtflow}.mat``; return what was used."""
    import roma

    rng = np.random.default_rng(seed)
    model = smplx_model(model_file)
    betas = rng.normal(0, 1.0, 10)
    key_a, key_b = rng.normal(0, 0.25, (2, 23, 3))
    zrot = rng.uniform(0, 2 * np.pi)
    pose = np.zeros((frames, 72))
    pelvis_world = np.zeros((frames, 3))
    for t in range(frames):
        s = t / max(frames - 1, 1)
        pose[t, 3:] = ((1 - s) * key_a + s * key_b).ravel()
        lean = rot("x", np.pi / 2) @ rot("y", 0.05 * s) @ rot("x", 0.1 * s)  # CMU/MoSh: z-up world
        pose[t, :3] = roma.rotmat_to_rotvec(torch.from_numpy(lean)).numpy()
        pelvis_world[t] = [0.03 * t, 0.02 * t - 0.1, 0.05 * s]
    cam_loc = np.array([7.0, -0.2, 0.1])
    r_cv, t_cv = blender_extrinsic(cam_loc)
    verts_cam, joints3d, frags = [], [], []
    b = torch.tensor(betas[None], dtype=torch.float32)
    rest = model(betas=b, body_pose=torch.zeros(1, 69), global_orient=torch.zeros(1, 3))
    for t in range(frames):
        rz = rot("z", zrot)
        pelvis = roma.rotvec_to_rotmat(torch.from_numpy(pose[t, :3])).numpy()
        glob = rot("x", np.pi / 2) @ rz @ pelvis  # smpl_relations.rotateBody
        out = model(betas=b, body_pose=torch.tensor(pose[t : t + 1, 3:], dtype=torch.float32),
                    global_orient=roma.rotmat_to_rotvec(torch.tensor(glob[None], dtype=torch.float32)))
        shift = pelvis_world[t] - rest.joints[0, 0].double().numpy()
        v_world = out.vertices[0].double().numpy() + shift
        joints3d.append(out.joints[0, :24].double().numpy() + shift)
        verts_cam.append(v_world @ r_cv.T + t_cv)
    faces = np.asarray(model.faces, dtype=np.int64)
    part = np.asarray(model.lbs_weights.argmax(1)) + 1  # SMPL part id per vertex, 1..24
    bg = rng.integers(40, 90, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    palette = rng.integers(100, 255, (25, 3))
    segm, depth, gtflow, images = {}, {}, {}, []
    for t in range(frames):
        frag = rasterize(verts_cam[t].astype(np.float32), faces, FOCAL, PRINCIPAL.astype(np.float32), HEIGHT, WIDTH)
        frags.append(frag)
        labels = np.where(frag.mask, part[faces[frag.face_id, 0]], 0).astype(np.uint8)
        segm[f"segm_{t + 1}"] = labels
        depth[f"depth_{t + 1}"] = np.where(frag.mask, frag.depth, 1e10).astype(np.float32)
        images.append(np.where(frag.mask[..., None], palette[labels], bg).astype(np.uint8))
    for t in range(frames):
        if t == 0:
            gtflow["gtflow_1"] = np.zeros((HEIGHT, WIDTH, 2), np.float32)
            continue
        back, _ = correspondence_flow(frags[t], faces, verts_cam[t - 1].astype(np.float32), frags[t - 1].depth,
                                      FOCAL, PRINCIPAL.astype(np.float32))
        gtflow[f"gtflow_{t + 1}"] = np.stack([back[..., 0], -back[..., 1]], -1).astype(np.float32)  # raster y up
    joints3d = np.stack(joints3d)
    proj = joints3d @ r_cv.T + t_cv
    joints2d = np.round(FOCAL * proj[..., :2] / proj[..., 2:] + PRINCIPAL)
    folder.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(folder / f"{name}.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 30, (WIDTH, HEIGHT))
    for image in images:
        writer.write(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    writer.release()
    info = {
        "pose": pose.T.astype(np.float32), "shape": np.repeat(betas[:, None], frames, 1).astype(np.float32),
        "joints2D": joints2d.transpose(2, 1, 0).astype(np.float32), "joints3D": joints3d.transpose(2, 1, 0).astype(np.float32),
        "camLoc": cam_loc[:, None].astype(np.float32), "zrot": np.full((frames, 1), zrot, np.float32),
        "gender": np.full((frames, 1), gender, np.uint8), "sequence": name, "clipNo": float(name[-4:]),
        "source": "cmu", "stride": np.uint8(50), "camDist": np.float32(7.0),
        "bg": np.array(["bg.jpg"] * frames, dtype=object), "cloth": np.array(["cloth.jpg"] * frames, dtype=object),
        "light": np.zeros((9, frames), np.float32),
    }
    savemat(folder / f"{name}_info.mat", info, do_compression=True)
    savemat(folder / f"{name}_segm.mat", segm, do_compression=True)
    savemat(folder / f"{name}_depth.mat", depth, do_compression=True)
    savemat(folder / f"{name}_gtflow.mat", gtflow, do_compression=True)
    return {"images": np.stack(images), "verts_cam": np.stack(verts_cam), "faces": faces, "frags": frags,
            "joints2d": joints2d, "betas": betas, "pose": pose}


def write_miniature(root: Path, smpl_folder: Path, frames: int = 5) -> tuple[Path, dict]:
    """Two clips of sequence ``01_01`` under ``root/cmu/test/run0`` (a female and a male subject)."""
    run = root / "cmu" / "test" / "run0"
    female = smpl_folder / "SMPL_NEUTRAL.npz"  # no female file: SURREAL's female ground truth falls back to it
    male = smpl_folder / "SMPL_MALE.npz"
    written = {
        "01_01_c0001": write_clip(run / "01_01", "01_01_c0001", female, 0, seed=1, frames=frames),
        "01_01_c0002": write_clip(run / "01_01", "01_01_c0002", male, 1, seed=2, frames=frames),
    }
    return run, written
