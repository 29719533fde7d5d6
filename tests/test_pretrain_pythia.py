"""The larger Pythia pretraining (issue 17 item 1): cached generation, mode-``all`` training that
resumes where it stopped, and the result JSON with its losses per epoch."""

from __future__ import annotations

import json

import pytest

from omnilearn.config import ModelConfig
from omnilearn.workflows.pretrain_pythia import CHECKPOINT, JETCLASS_CLASSES, RESULT, PretrainConfig, run


def test_the_ten_jetclass_classes():
    assert len(JETCLASS_CLASSES) == 10 and JETCLASS_CLASSES[:5] == ("qcd", "top", "wqq", "zqq", "hbb")
    assert {"hlvqq", "tblv", "hcc", "hgg", "h4q"} <= set(JETCLASS_CLASSES)


@pytest.mark.slow
def test_pretraining_resumes_and_writes_its_result(tmp_path):
    pytest.importorskip("pythia8mc")
    tiny = ModelConfig(projection_dim=16, num_layers=1, num_heads=2, K=3, num_class_layers=1, num_gen_layers=1)
    cfg = PretrainConfig(
        data_dir=str(tmp_path / "data"),
        runs_dir=str(tmp_path / "runs"),
        plot_dir=str(tmp_path / "plots"),
        classes=("qcd", "tblv"),
        jets_per_class=20,
        workers=1,
        epochs=1,
        batch=8,
        num_particles=16,
        model=tiny,
    )
    first = run(cfg, progress=False)
    assert first["epochs_done"] == 1 and not first["generation_cached"]
    assert first["jets"] == {"train": 32, "val": 4, "test": 4}
    assert first["generation_seconds"] > 0 and set(first["generation_stats"]) == {"qcd", "tblv"}
    assert all(s["jets"] == 20 and s["cpu_seconds"] > 0 for s in first["generation_stats"].values())
    assert (tmp_path / "runs" / "pretrain" / "best").is_dir()
    cfg.epochs = 2  # the same command with more epochs continues from the last checkpoint
    second = run(cfg, progress=False)
    assert second["generation_cached"] and second["generation_seconds"] == first["generation_seconds"]
    assert second["epochs_done"] == 2 and second["history"]["loss"][0] == first["history"]["loss"][0]
    assert second["training_seconds"] > first["training_seconds"]
    saved = json.loads((tmp_path / "plots" / RESULT).read_text())
    assert saved["epochs_done"] == 2 and set(saved["history"]) >= {"loss", "gen_loss", "class_loss", "val_loss"}
    assert (tmp_path / "plots" / "pretrain_pythia_losses.png").stat().st_size > 0
    # the published copy is the best checkpoint, loadable as a pretrained body, without optimizer state
    from omnilearn.training import checkpoint

    published, best = tmp_path / "plots" / CHECKPOINT, tmp_path / "runs" / "pretrain" / "best"
    assert sorted(p.name for p in published.iterdir()) == sorted(p.name for p in best.iterdir())
    assert not (published / "optimizer.npz").exists()
    model = checkpoint.load(published)
    assert model.model_config.projection_dim == 16 and checkpoint.read_meta(published) == checkpoint.read_meta(best)
