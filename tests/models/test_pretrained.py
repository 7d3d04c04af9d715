import dataclasses

import pytest
import torch

from selfmocap.data.config import FrameConfig
from selfmocap.models import pretrained as pretrained_module
from selfmocap.models.network import MocapNet
from selfmocap.models.config import NetworkConfig
from selfmocap.models.pretrained import CheckpointError, ModelCard, export_pretrained, load_pretrained, write_torch_file


def _card(cfg: NetworkConfig) -> ModelCard:
    from selfmocap.config import to_dict

    return ModelCard(network=to_dict(cfg), frames=to_dict(FrameConfig()), recipe={"lr": 3e-4}, data={"seeds": [0]},
                     metrics={"test": {"mpjpe": 123.4}}, step=10, images_seen=640, versions={"torch": str(torch.__version__)},
                     created="2024-01-01T00:00:00+00:00")


def test_export_and_load_round_trip(tmp_path):
    torch.manual_seed(0)
    cfg = NetworkConfig(width=4, depth=3.5)
    net = MocapNet(cfg).eval()
    path = export_pretrained(net, _card(cfg), tmp_path / "m.pt")
    raw = torch.load(path, weights_only=True)
    assert all(v.dtype == torch.float16 for v in raw["state_dict"].values() if v.is_floating_point())
    loaded = load_pretrained(path)
    assert loaded.card == _card(cfg) and loaded.card.network_config == cfg and not loaded.model.training
    x, c = torch.randn(2, 26, 128, 128), torch.full((2, 2), 64.0)
    with torch.no_grad():
        a, b = net(x, c), loaded.model(x, c)
    assert torch.allclose(a.pose, b.pose, atol=2e-3) and torch.allclose(a.camera.focal, b.camera.focal, rtol=2e-3)


def test_corrupt_and_foreign_files_name_the_file(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="bad.pt is corrupt"):
        load_pretrained(bad)
    good = tmp_path / "good.pt"
    export_pretrained(MocapNet(NetworkConfig(width=4)), _card(NetworkConfig(width=4)), good)
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:2000])
    with pytest.raises(CheckpointError, match="truncated.pt is corrupt"):
        load_pretrained(truncated)
    foreign = tmp_path / "foreign.pt"
    write_torch_file({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(CheckpointError, match="foreign.pt is incompatible"):
        load_pretrained(foreign)


def test_missing_default_checkpoint_is_explained(tmp_path, monkeypatch):
    monkeypatch.setattr(pretrained_module, "DEFAULT_CHECKPOINT", tmp_path / "checkpoints" / "mocapnet.pt")
    with pytest.raises(CheckpointError, match="no pretrained checkpoint is shipped.*selfmocap pretrain"):
        load_pretrained()


def test_cards_record_the_body_model_and_old_cards_mean_anny(tmp_path):
    from selfmocap.models.network import BodyOutputSpec

    spec = BodyOutputSpec("smpl", 23, 10, None)
    cfg = NetworkConfig(width=4, fc_factor=4)
    card = dataclasses.replace(_card(cfg), body=dataclasses.asdict(spec))
    path = export_pretrained(MocapNet(cfg, spec), card, tmp_path / "smpl.pt")
    loaded = load_pretrained(path)
    assert loaded.card.outputs == spec and loaded.card.body_model == "smpl"
    assert loaded.model.outputs == spec and loaded.model.head[-1].out_features == spec.num_outputs
    # the shipped checkpoint's card predates the field: it loads as Anny
    shipped = load_pretrained()
    assert shipped.card.body_model == "anny" and shipped.model.outputs.pose_joints == 19


def test_checkpoint_body_refuses_other_body_models(tmp_path):
    from selfmocap.body import BodyModelConfig
    from selfmocap.errors import UserError
    from selfmocap.models.pretrained import checkpoint_body

    with pytest.raises(UserError, match="does not match"):
        checkpoint_body(_card(NetworkConfig()), BodyModelConfig(body_model="smpl"), "checkpoint c.pt")


class _NotATensor:
    pass


def test_checkpoint_with_custom_class_is_one_line_error(tmp_path):
    import torch
    from selfmocap.models.pretrained import CheckpointError, read_torch_file

    path = tmp_path / "ckpt.pt"
    torch.save({"state": _NotATensor()}, path)
    with pytest.raises(CheckpointError) as err:
        read_torch_file(path, "checkpoint", ("state",))
    message = str(err.value)
    assert str(path) in message and "not loaded" in message and "\n" not in message and "weights_only" not in message
