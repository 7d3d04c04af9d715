import numpy as np
import torch

from selfmocap.geometry.camera import Camera, euler_to_rotmat, project
from selfmocap.geometry.crop import CropBox, crop_box_from_square, crop_image, square_box


def test_projecting_into_crop_equals_cropping_the_projection():
    b = 3
    cam = Camera(
        focal=torch.tensor([300.0, 500.0, 420.0], dtype=torch.float64),
        rotation=euler_to_rotmat(torch.randn(b, 3, dtype=torch.float64) * 0.3),
        trans=torch.randn(b, 2, dtype=torch.float64) * 0.2,
        depth=torch.tensor([3.0, 4.0, 5.0], dtype=torch.float64),
        principal=torch.full((b, 2), 128.0, dtype=torch.float64),
    )
    box = crop_box_from_square(torch.tensor([[100.0, 140.0], [128, 128], [90, 60]], dtype=torch.float64),
                               torch.tensor([150.0, 200.0, 80.0], dtype=torch.float64), 128)
    pts = torch.randn(b, 10, 3, dtype=torch.float64) * 0.5
    frame_uv = project(pts, cam)
    crop_uv = project(pts, box.camera_to_crop(cam))
    assert torch.allclose(box.frame_to_crop(frame_uv), crop_uv, atol=1e-9)
    assert torch.allclose(box.crop_to_frame(crop_uv), frame_uv, atol=1e-9)
    back = box.camera_to_frame(box.camera_to_crop(cam))
    assert torch.allclose(back.focal, cam.focal) and torch.allclose(back.principal, cam.principal)


def test_square_box_margin():
    centre, side = square_box(np.array([[10, 20], [30, 60]]), margin=0.25)
    assert np.allclose(centre, [20, 40]) and side == 60.0
    centre, side = square_box(np.array([[10, 20], [30, 60], [500, 500]]), valid=np.array([1, 1, 0]), margin=0.0)
    assert side == 40.0


def test_crop_image_matches_continuous_convention():
    # A single bright pixel at frame (row 40, col 50) has centre (50.5, 40.5); an integer-scale crop
    # must put its centre where CropBox says.
    image = np.zeros((100, 100), np.float32)
    image[40, 50] = 1.0
    box = CropBox(offset=torch.tensor([[30.0, 20.0]]), scale=torch.tensor([2.0]))
    crop = crop_image(image, box.offset[0].numpy(), 2.0, 128)
    q = box.frame_to_crop(torch.tensor([[[50.5, 40.5]]]))[0, 0].numpy()
    rows, cols = np.nonzero(crop > 0)
    weights = crop[rows, cols]
    centroid = np.array([(cols + 0.5) @ weights, (rows + 0.5) @ weights]) / weights.sum()
    assert np.allclose(centroid, q, atol=0.05)
