"""The command-line entry points, run as a user runs them."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY_FLAGS

from omnilearn.data.format import UnifiedWriter
from omnilearn.training import checkpoint

ROOT = Path(__file__).resolve().parents[1]


def _run(*args, cwd=ROOT):
    out = subprocess.run([sys.executable, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_summary_prints_paper_counts():
    lines = _run("-m", "omnilearn", "summary").strip().splitlines()
    counts = dict(line.split() for line in lines)
    assert set(counts) == {"body", "classifier", "generator"}
    assert abs(int(counts["body"]) / 1.3e6 - 1) < 0.05
    small = dict(
        line.split() for line in _run("-m", "omnilearn", "summary", "--projection_dim", "64").split("\n") if line
    )
    assert int(small["body"]) < int(counts["body"])


def _write(path: Path, classes, n=96, p=10, seed=0):
    rng = np.random.default_rng(seed)
    mult = rng.integers(2, p + 1, n)
    mask = np.arange(p)[None] < mult[:, None]
    data = (rng.normal(size=(n, p, 13)) * mask[..., None]).astype("float32")
    jet = np.stack([rng.uniform(500, 1000, n), rng.normal(size=n), rng.uniform(10, 200, n), mult], -1).astype("float32")
    with UnifiedWriter(path, p, classes) as w:
        w.append(data, jet, rng.integers(0, len(classes), n))


@pytest.mark.slow
def test_train_script_pretrain_then_fine_tune(tmp_path):
    for split in ("train", "val"):
        _write(tmp_path / "data" / "pythia" / f"{split}.h5", ["qcd", "top", "wqq", "zqq", "hbb"])
        _write(tmp_path / "data" / "toptag_pythia" / f"{split}.h5", ["qcd", "top"], seed=1)
    common = [
        "--data_dir",
        tmp_path / "data",
        "--batch",
        "32",
        "--epoch",
        "1",
        "--warm_epoch",
        "0",
        "--no-jit",
        *TINY_FLAGS,
    ]
    _run(ROOT / "scripts" / "train.py", "--dataset", "pythia", "--mode", "all", "--outdir", tmp_path / "pre", *common)
    assert checkpoint.read_meta(tmp_path / "pre" / "last")["mode"] == "all"
    _run(
        ROOT / "scripts" / "train.py",
        "--dataset",
        "toptag_pythia",
        "--mode",
        "classifier",
        "--fine_tune",
        "--pretrained",
        tmp_path / "pre" / "best",
        "--outdir",
        tmp_path / "fine",
        *common,
    )
    meta = checkpoint.read_meta(tmp_path / "fine" / "best")
    assert meta["classes"] == ["qcd", "top"] and meta["model"]["num_classes"] == 2
