"""Data-parallel training with Horovod: two real workers on one machine (``horovodrun --gloo``).

Horovod is optional (``scripts/install_horovod.sh`` builds it); without it the Horovod tests
skip and only the single-process fallback is checked.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from omnilearn.data.format import UnifiedWriter, inspect_file
from omnilearn.training import distributed

ROOT = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).resolve().parent / "distributed_worker.py"
BATCH = 16
NUM_TRAIN = 128  # 2 ranks x 64 jets = 4 full batches each: every jet is used every epoch
PT_OFFSET = 500.0  # training jet i has pT = 500 + i, so a batch's pT identifies its jets


def _horovodrun() -> str | None:
    local = Path(sys.executable).parent / "horovodrun"
    return str(local) if local.exists() else shutil.which("horovodrun")


requires_horovod = pytest.mark.skipif(
    not distributed.horovod_available() or _horovodrun() is None,
    reason="horovod.tensorflow is not importable (build it with scripts/install_horovod.sh)",
)


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(ROOT), **extra)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def _write(path: Path, n: int, seed: int, ids: bool) -> None:
    rng = np.random.default_rng(seed)
    p = 8
    mult = rng.integers(2, p + 1, n)
    mask = np.arange(p)[None] < mult[:, None]
    data = (rng.normal(size=(n, p, 13)) * mask[..., None]).astype("float32")
    pt = PT_OFFSET + np.arange(n) if ids else rng.uniform(500, 1000, n)
    jet = np.stack([pt, rng.normal(size=n), rng.uniform(10, 200, n), mult], -1).astype("float32")
    with UnifiedWriter(path, p, ["qcd", "top"]) as w:
        w.append(data, jet, rng.integers(0, 2, n))


def test_single_process_fallback():
    """Without horovodrun (or with Horovod switched off) a script is rank 0 of 1."""
    code = "from omnilearn.training import distributed as d; c = d.init(); print(c.rank, c.size, c.local_rank)"
    for extra in ({}, {"OMNILEARN_NO_HOROVOD": "1"}):
        out = subprocess.run(
            [sys.executable, "-c", code], env=_env(**extra), capture_output=True, text=True, timeout=300, cwd=ROOT
        )
        assert out.returncode == 0, out.stderr[-2000:]
        assert out.stdout.split()[-3:] == ["0", "1", "0"]


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory) -> dict:
    """Runs tests/distributed_worker.py on 2 Horovod workers once; returns paths and probes."""
    tmp = tmp_path_factory.mktemp("hvd")
    data = tmp / "data"
    _write(data / "toptag_pythia" / "train.h5", NUM_TRAIN, seed=0, ids=True)
    _write(data / "toptag_pythia" / "val.h5", 48, seed=1, ids=False)
    out, probe = tmp / "run", tmp / "probe"
    cmd = [
        _horovodrun(),
        "-np",
        "2",
        "-H",
        "localhost:2",
        "--gloo",
        sys.executable,
        str(WORKER),
        "--data",
        str(data),
        "--out",
        str(out),
        "--probe",
        str(probe),
        "--batch",
        str(BATCH),
    ]
    result = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-3000:])
    return {"data": data, "out": out, "probe": probe, "stdout": result.stdout}


@requires_horovod
@pytest.mark.slow
def test_workers_see_two_ranks(two_workers):
    ranks = sorted((two_workers["probe"] / f"context_rank{r}.txt").read_text().split() for r in (0, 1))
    assert ranks == [["0", "2", "0"], ["1", "2", "1"]]


@requires_horovod
@pytest.mark.slow
def test_two_workers_step_equals_one_big_batch(two_workers):
    """One step on 2 ranks x b jets is one single-process step on those 2b jets (SGD)."""
    import keras

    from omnilearn.config import ModelConfig
    from omnilearn.models.omnilearn import OmniLearn

    sys.path.insert(0, str(WORKER.parent))
    from distributed_worker import SGD_LR, TINY

    r0, r1 = (np.load(two_workers["probe"] / f"sgd_rank{r}.npz") for r in (0, 1))
    np.testing.assert_array_equal(r0["initial"], r1["initial"])  # broadcast from rank 0
    np.testing.assert_array_equal(r0["after"], r1["after"])
    keys = [k for k in r0.files if k.startswith("batch_")]
    assert not np.array_equal(r0["batch_jet"], r1["batch_jet"])  # the ranks had different jets
    batch = {k[len("batch_") :]: np.concatenate([r0[k], r1[k]]) for k in keys}

    model = OmniLearn(ModelConfig(num_classes=2, num_feat=13, **TINY), mode="classifier")
    sizes = [int(np.prod(v.shape)) for v in model.weights]
    for v, a in zip(model.weights, np.split(r0["initial"], np.cumsum(sizes)[:-1])):
        v.assign(a.reshape(v.shape))
    model.compile(optimizer=keras.optimizers.SGD(SGD_LR), jit_compile=False)
    model.train_step(batch)
    single = np.concatenate([np.asarray(v).ravel() for v in model.weights])

    assert np.abs(r0["after"] - r0["initial"]).max() > 1e-3  # the step moved the weights
    # float32 resolution: weights of order 30 (e.g. a normalisation variance) differ in the 7th digit
    np.testing.assert_allclose(r0["after"], single, rtol=1e-6, atol=1e-5)


@requires_horovod
@pytest.mark.slow
def test_training_keeps_ranks_identical_and_shards_the_data(two_workers):
    r0, r1 = (np.load(two_workers["probe"] / f"train_rank{r}.npz") for r in (0, 1))
    steps_per_epoch = NUM_TRAIN // 2 // BATCH
    # initial state + one entry per step of 2 epochs, bit-identical on both ranks throughout
    assert len(r0["weights"]) == len(r1["weights"]) == 1 + 2 * steps_per_epoch
    np.testing.assert_array_equal(r0["weights"], r1["weights"])
    assert not np.array_equal(r0["weights"][0], r0["weights"][-1])

    norm = inspect_file(two_workers["data"] / "toptag_pythia" / "train.h5").normalization
    for epoch in (0, 1):
        seen = []
        for r in (r0, r1):
            pt = r["pt"][r["epochs"] == epoch]
            assert pt.shape == (steps_per_epoch, BATCH)
            ids = np.rint(pt * norm.jet_std[0] + norm.jet_mean[0] - PT_OFFSET).astype(int).ravel()
            seen.append(ids)
        # every training jet exactly once per epoch, each rank on its own contiguous shard
        np.testing.assert_array_equal(np.sort(np.concatenate(seen)), np.arange(NUM_TRAIN))
        assert set(seen[0]) == set(range(NUM_TRAIN // 2))


@requires_horovod
@pytest.mark.slow
def test_only_rank_zero_writes(two_workers):
    out, probe = two_workers["out"], two_workers["probe"]
    assert (probe / "writes_rank1.txt").read_text() == ""
    assert (probe / "writes_rank0.txt").read_text() != ""
    assert sorted(p.name for p in out.iterdir()) == ["best", "history.csv", "last"]
    rows = (out / "history.csv").read_text().strip().splitlines()
    assert len(rows) == 3 and "val_loss" in rows[0]  # header + 2 epochs, written once
