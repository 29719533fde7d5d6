"""The classification tasks: transcribed paper numbers, the registry, and the scripts end to end."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY_FLAGS

from omnilearn import report as tables
from omnilearn.data.format import UnifiedWriter, inspect_file
from omnilearn.datasets import registry
from omnilearn.evaluation import tasks

ROOT = Path(__file__).resolve().parents[1]


def test_tasks_point_to_their_paper_tables():
    top = tasks.get_task("top")
    assert top.paper.name == "Table I" and top.paper_row_for("omnilearn").model == "OmniLearn"
    assert top.paper.text(top.paper_row_for("omnilearn"), "rejection@0.3") == "2647 ± 192"
    assert top.paper_row_for("scratch").model == "PET Classifier"  # Table I capitalises it
    atlas_small = tasks.get_task("atlas_small")
    assert atlas_small.paper.entry("OmniLearn (4M)", "auc").value == 0.961  # Table IV, 4M
    assert tasks.get_task("atlas").paper_row_for("scratch").model == "PET classifier (40M)"
    h1 = tasks.get_task("h1")  # Table V quotes εS = 0.1 and 0.5, AUC first
    assert h1.efficiencies == (0.1, 0.5) and h1.columns[:2] == ("auc", "accuracy")
    assert tasks.get_task("toptag_pythia").columns == ("accuracy", "auc", "rejection@0.5", "rejection@0.3")


def test_every_task_is_consistent_with_the_registry():
    for name, task in tasks.TASKS.items():
        assert name == task.dataset and task.dataset in registry.DATASETS
        assert 0 <= task.signal < registry.get(task.dataset).num_classes
        assert [c for c in task.columns if c.startswith("rejection@")] == [
            f"rejection@{e:g}" for e in task.efficiencies
        ]
        if task.paper:  # our two runs have a published counterpart
            assert task.paper_row_for("omnilearn") and task.paper_row_for("scratch"), name


def test_table_keeps_the_paper_layout():
    cms = tasks.get_task("cms")
    result = {
        "auc": 0.87712,
        "auc_std": 0.00031,
        "accuracy": 0.7968,
        "accuracy_std": 0.0004,
        "rejection": {"0.5": 24.31, "0.8": 4.8312},
        "rejection_std": {"0.5": 0.21, "0.8": 0.012},
        "n": 1000,
        "bootstrap": 10,
    }
    text = tables.markdown_table(cms, {"omnilearn": result})
    header = next(line for line in text.splitlines() if line.startswith("| Model"))
    assert header.index("AUC") < header.index("Acc")  # Table III prints AUC first
    assert "| OmniLearn | paper, Table III | 0.877 | 0.797 | 24.36 ± 0.01 | 4.836 ± 0.004 |" in text
    assert "0.8771 ± 0.0003" in text and "24.3 ± 0.2" in text


def test_finetune_flags_default_to_the_task_recipe():
    from omnilearn.cli import build_parser

    def parse(*argv):
        parser, _ = build_parser(["finetune", *argv])
        return parser.parse_args(["finetune", *argv])

    args = parse("--dataset", "atlas", "--small", "--fine_tune")
    assert args.dataset == "atlas" and args.small and args.mode == "classifier"  # atlas_small: the recipe
    assert (args.epoch, args.warm_epoch, args.stop_epoch, args.body_lr_factor) == (40, 1, 5, 0.2)
    args = parse("--dataset", "top", "--epoch", "2")  # explicit flags win
    assert (args.epoch, args.wd, args.batch) == (2, 0.1, 256)


def _write(path: Path, n=96, p=10, seed=0, normalization=None):
    rng = np.random.default_rng(seed)
    mult = rng.integers(2, p + 1, n)
    mask = np.arange(p)[None] < mult[:, None]
    pid = np.arange(n) % 2  # both classes in every split
    data = (rng.normal(size=(n, p, 13)) * mask[..., None]).astype("float32")
    data[..., 0] += pid[:, None] * mask  # a little separation, so the ROC is not degenerate
    jet = np.stack([rng.uniform(500, 1000, n), rng.normal(size=n), rng.uniform(10, 200, n), mult], -1).astype("float32")
    with UnifiedWriter(path, p, ["qcd", "top"], normalization=normalization) as w:
        w.append(data, jet, pid)
    return w.normalization


def _run(*args, cwd):
    out = subprocess.run([sys.executable, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


@pytest.mark.slow
def test_finetune_evaluate_and_plot(tmp_path):
    from omnilearn.config import ModelConfig
    from omnilearn.models.omnilearn import OmniLearn
    from omnilearn.training import checkpoint

    norm = _write(tmp_path / "data" / "top" / "train.h5")
    for seed, split in enumerate(("val", "test"), start=1):
        _write(tmp_path / "data" / "top" / f"{split}.h5", seed=seed, normalization=norm)
    pretrained = checkpoint.save(
        OmniLearn(
            ModelConfig(
                num_classes=5, projection_dim=16, num_layers=1, num_heads=2, K=3, num_class_layers=1, num_gen_layers=1
            )
        ),
        tmp_path / "pretrained",
        normalization=inspect_file(tmp_path / "data" / "top" / "train.h5").normalization,
    )

    # cwd = tmp_path: the default runs/ and plots/ folders are used
    common = ["--data_dir", "data", "--epoch", "1", "--warm_epoch", "0", "--batch", "32", "--no_jit", *TINY_FLAGS]
    _run(ROOT / "scripts" / "train_top.py", "--fine_tune", "--pretrained", pretrained, *common, cwd=tmp_path)
    _run(ROOT / "scripts" / "train_top.py", *common, cwd=tmp_path)
    runs = tmp_path / "runs"
    meta = checkpoint.read_meta(runs / "top_omnilearn" / "best")
    assert meta["model"]["num_classes"] == 2
    assert meta["train"]["wd"] == 0.1 and meta["train"]["body_lr_factor"] == 0.1  # the top recipe
    assert meta["data"]["dataset"] == "top"

    _run(
        ROOT / "scripts" / "evaluate_classifiers.py",
        "--dataset",
        "top",
        "--data_dir",
        "data",
        "--bootstrap",
        "5",
        cwd=tmp_path,
    )
    for run in ("omnilearn", "scratch"):
        result = json.loads((runs / f"top_{run}" / "results.json").read_text())
        assert result["n"] == 96 and set(result["rejection"]) == {"0.5", "0.3"}
        assert 0 <= result["auc"] <= 1 and result["auc_std"] >= 0 and result["roc"]["tpr"]
        assert Path(tmp_path / result["history"]).exists()

    out = _run(ROOT / "scripts" / "plot_results.py", cwd=tmp_path)
    assert "qg: no results.json" in out  # tasks without results are skipped
    plots = tmp_path / "plots"
    assert (plots / "top_roc.png").stat().st_size > 0 and (plots / "top_losses.png").stat().st_size > 0
    table = (plots / "top_table.md").read_text()
    assert "paper, Table I" in table and "0.9872" in table  # the published rows
    assert "**OmniLearn (fine-tuned)** | measured here" in table and "**PET classifier (scratch)**" in table
