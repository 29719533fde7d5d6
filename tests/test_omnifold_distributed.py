"""OmniFold on 2 real Horovod workers (``horovodrun --gloo``): the weight normalisation and the
whole loop do not depend on the number of workers, and only rank 0 writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_distributed import ROOT, _env, _horovodrun, requires_horovod

from omnilearn.workflows import omnifold as of

WORKER = Path(__file__).resolve().parent / "omnifold_worker.py"


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("of_hvd")
    cmd = [_horovodrun(), "-np", "2", "-H", "localhost:2", "--gloo", sys.executable, str(WORKER)]
    cmd += ["--out", str(tmp / "run"), "--probe", str(tmp / "probe")]
    result = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-3000:])
    return tmp


@requires_horovod
@pytest.mark.slow
def test_normalisation_uses_the_global_sum_over_workers(two_workers):
    r0, r1 = (np.load(two_workers / "probe" / f"rank{r}.npz") for r in (0, 1))
    assert int(r0["size"]) == 2
    both = np.concatenate([r0["normalized"], r1["normalized"]])
    np.testing.assert_allclose(both, of.normalize(np.array([1.0, 1, 1, 1, 4])))  # one process, all events
    np.testing.assert_allclose(both, [5 / 8] * 4 + [20 / 8])  # not (1 + 4) / 2 per worker mean
    np.testing.assert_array_equal(r0["gathered"], [0.0, 1.0, 1.0])  # rank order
    np.testing.assert_array_equal(r1["gathered"], r0["gathered"])


@requires_horovod
@pytest.mark.slow
def test_two_workers_unfold_exactly_as_one_process(two_workers, tmp_path):
    sys.path.insert(0, str(WORKER.parent))
    from omnifold_worker import N_DATA, N_MC

    arrays = of.gaussian_toy(N_MC, seed=5)
    data_sim = of.GaussianToy().sample(N_DATA, of.GaussianToy().mu_data, 9)[1]
    single = of.omnifold(
        arrays["mc_gen"],
        arrays["mc_sim"],
        data_sim,
        of.LogisticSteps(),
        tmp_path,
        of.OmniFoldConfig(num_iter=2),
        log=None,
    )
    r0, r1 = (np.load(two_workers / "probe" / f"rank{r}.npz") for r in (0, 1))
    for key in ("pull_0", "push_0", "pull_1", "push_1"):
        np.testing.assert_array_equal(r0[key], r1[key])  # every worker holds all weights
        np.testing.assert_allclose(r0[key], single[key], rtol=1e-9)


@requires_horovod
@pytest.mark.slow
def test_only_rank_zero_writes(two_workers):
    assert (two_workers / "probe" / "writes_rank1.txt").read_text() == ""
    assert ".state." in (two_workers / "probe" / "writes_rank0.txt").read_text()  # written, then renamed
    done, weights = of.read_state(two_workers / "run")
    assert done == [[0, 1], [0, 2], [1, 1], [1, 2]] and weights["push_1"].shape == (4001,)


@requires_horovod
@pytest.mark.slow
def test_omnilearn_omnifold_on_two_workers(tmp_path):
    """`omnilearn omnifold` under horovodrun: each worker trains on its shard, both take rank 0's
    best checkpoint after each step (no worker reads a file another is writing)."""
    from conftest import TINY_FLAGS
    from test_omnifold_run import write_tiny

    write_tiny(tmp_path / "data" / "omnifold_pythia")
    cmd = [_horovodrun(), "-np", "2", "-H", "localhost:2", "--gloo", sys.executable, "-m", "omnilearn", "omnifold"]
    cmd += ["--data_dir", str(tmp_path / "data"), "--runs_dir", str(tmp_path / "runs"), "--num_iter", "1"]
    cmd += ["--batch", "16", "--epoch", "1", "--warm_epoch", "1", "--no_jit", *TINY_FLAGS]
    result = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-3000:])
    done, weights = of.read_state(tmp_path / "runs" / "omnifold_pythia_scratch")
    assert done == [[0, 1], [0, 2]]  # step 2 restores after step 1: the case that raced
    for w in weights.values():  # every event of both shards, normalised over both
        assert w.shape == (96,) and np.isfinite(w).all() and w.mean() == pytest.approx(1.0)
