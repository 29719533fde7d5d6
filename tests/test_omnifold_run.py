"""OmniFold with OmniLearn classifiers end to end on tiny paired files (a tiny PET, 2 iterations)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import TINY_FLAGS

from omnilearn.data.paired import OBSERVABLES, SAMPLES, PairedWriter, paired_path

P = 8


def write_tiny(directory, n=96, seed=0):
    """Paired files whose 'data' has a harder spectrum than the 'mc' at both levels."""
    rng = np.random.default_rng(seed)
    for k, sample in enumerate(SAMPLES):
        for split in ("train", "val", "test"):
            levels = []
            for _ in range(2):
                mult = rng.integers(2, P + 1, n)
                mask = np.arange(P)[None] < mult[:, None]
                data = (rng.normal(size=(n, P, 13)) + 0.5 * k) * mask[..., None]
                jet = np.stack([rng.normal(300 + 30 * k, 20, n), rng.normal(size=n), rng.uniform(5, 50, n), mult], -1)
                obs = rng.normal(size=(n, len(OBSERVABLES)))
                levels.append({"data": data, "jet": jet, "obs": obs})
            with PairedWriter(paired_path(directory, sample, split), P, sample) as w:
                w.append(*levels)


def omnifold_cli(tmp, *extra):
    from omnilearn.cli import main

    argv = ["omnifold", "--data_dir", str(tmp / "data"), "--runs_dir", str(tmp / "runs"), "--num_iter", "2"]
    argv += ["--batch", "32", "--epoch", "1", "--warm_epoch", "1", "--no_jit", "--seed", "3", *TINY_FLAGS, *extra]
    assert main(argv) == 0


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """`omnilearn omnifold` (from scratch) on tiny paired files, as a user runs it."""
    from omnilearn.workflows.omnifold import read_state

    tmp = tmp_path_factory.mktemp("of")
    write_tiny(tmp / "data" / "omnifold_pythia")
    omnifold_cli(tmp)
    run = tmp / "runs" / "omnifold_pythia_scratch"
    _, weights = read_state(run)
    return tmp, run, weights


@pytest.mark.slow
def test_run_writes_a_checkpoint_per_iteration_and_step(tiny_run):
    tmp, run, weights = tiny_run
    assert sorted(weights) == ["pull_0", "pull_1", "push_0", "push_1"]
    for w in weights.values():
        assert w.shape == (96,) and np.isfinite(w).all() and w.mean() == pytest.approx(1.0)
    for i in range(2):
        for s in (1, 2):
            assert (run / f"iter{i}_step{s}" / "last" / "config.json").exists()
            assert len((run / f"iter{i}_step{s}" / "history.csv").read_text().splitlines()) == 2
    assert json.loads((run / "state.json").read_text())["done"] == [[0, 1], [0, 2], [1, 1], [1, 2]]
    meta = json.loads((run / "iter1_step2" / "last" / "config.json").read_text())
    assert meta["classes"] == ["mc", "data"] and meta["data"]["iteration"] == 1
    # iteration 1 runs at the constant later rate, without warm-up
    assert meta["train"]["lr"] == meta["train"]["lr_min"] == 1e-6 and meta["train"]["warm_epoch"] == 0


@pytest.mark.slow
def test_rerun_resumes_without_training_and_test_split_weights(tiny_run):
    from omnilearn.workflows import omnifold_run
    from omnilearn.workflows.omnifold import read_state

    tmp, run, weights = tiny_run
    before = (run / "iter1_step2" / "history.csv").read_text()
    omnifold_cli(tmp)
    assert (run / "iter1_step2" / "history.csv").read_text() == before
    _, again = read_state(run)
    for k in weights:
        np.testing.assert_array_equal(again[k], weights[k])
    test = omnifold_run.apply_to_split(run, tmp / "data" / "omnifold_pythia")
    assert sorted(test) == ["reweighted", "unfolded"]
    assert all(w.shape == (96,) and w.mean() == pytest.approx(1.0) for w in test.values())


@pytest.mark.slow
def test_evaluate_writes_results_figures_and_the_papers_tables(tiny_run):
    from omnilearn.cli import main

    tmp, _, _ = tiny_run
    plots = tmp / "plots"
    argv = ["omnifold-evaluate", "--data_dir", str(tmp / "data"), "--runs_dir", str(tmp / "runs"), "--runs", "scratch"]
    assert main([*argv, "--plot_dir", str(plots), "--toys", "5"]) == 0
    results = json.loads((plots / "omnifold_pythia.json").read_text())
    for key in ("reweighting", "unfolding"):
        delta = results[key]["observables"]["mass"]["delta"]
        assert sorted(delta) == ["mc", "scratch"] and all(np.isfinite(v).all() for v in delta.values())
    for suffix in (".json", "_reweighted.png", "_unfolded.png", "_losses.png", "_table.md"):
        assert (plots / f"omnifold_pythia{suffix}").stat().st_size > 0
    table = (plots / "omnifold_pythia_table.md").read_text()
    assert (
        "Table VIII" in table and "Table IX" in table and "0.027 ± 0.008" in table and "PET classifier (ours)" in table
    )
