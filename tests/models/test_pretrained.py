import pytest
import torch

from selfmocap.data.frames import FrameConfig
from selfmocap.models import pretrained as pretrained_module
from selfmocap.models.network import MocapNet, NetworkConfig
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
