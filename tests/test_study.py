"""The data-efficiency and convergence study: aggregation on hand-made results, its results-page
section, and (slow) the whole chain at a tiny setting."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from omnilearn import report
from omnilearn.evaluation.study import convergence, epochs_to_reach, load, result_path, summarize


def _result(task: str, size: int, seed: int, run: str, auc: float, rejection: float, val_loss: list[float]) -> dict:
    return {
        "task": task,
        "size": size,
        "seed": seed,
        "run": run,
        "auc": auc,
        "rejection": {"0.5": rejection, "0.3": 2 * rejection},
        "losses": {"loss": val_loss, "val_loss": val_loss},
    }


def test_epochs_to_reach():
    assert epochs_to_reach([0.9, 0.7, 0.5, 0.4], 0.5) == 3  # ≤, 1-based
    assert epochs_to_reach([0.4, 0.3], 0.5) == 1
    assert epochs_to_reach([0.9, 0.8], 0.5) is None


def test_convergence_of_one_pair():
    c = convergence(fine_tuned=[0.7, 0.55, 0.5], scratch=[1.0, 0.8, 0.6, 0.65])
    assert c == {"scratch_best": 0.6, "scratch_epochs": 3, "fine_tuned_epochs": 2, "speedup": 1.5}
    never = convergence(fine_tuned=[0.9, 0.8], scratch=[1.0, 0.6])
    assert never["fine_tuned_epochs"] is None and never["speedup"] is None


def _hand_made() -> list[dict]:
    scratch = [1.0, 0.8, 0.6, 0.65]  # best at epoch 3
    fine = {1: [0.6, 0.5, 0.4, 0.4], 2: [0.7, 0.6, 0.5, 0.5], 3: [0.9, 0.8, 0.7, 0.7]}  # reach at 1, 2, never
    out = []
    for seed in (1, 2, 3):
        out.append(_result("top", 250, seed, "scratch", 0.80 + 0.01 * seed, 10.0 * seed, scratch))
        out.append(_result("top", 250, seed, "omnilearn", 0.90 + 0.01 * seed, 20.0 * seed, fine[seed]))
    out.append(_result("top", 1000, 1, "scratch", 0.95, 50.0, scratch))  # one seed, no fine-tuned pair
    out.append(_result("top", 1000, 1, "upstream", 0.97, 70.0, scratch))  # the authors' weights
    return out


def test_summary_over_seeds():
    s = summarize(_hand_made())["top"]
    auc = s["efficiency"]["omnilearn"]["auc"]
    assert auc["size"] == [250] and auc["median"] == [pytest.approx(0.92)] and auc["n"] == [3]
    assert auc["low"] == [pytest.approx(np.quantile([0.91, 0.92, 0.93], 0.16))]
    assert auc["high"] == [pytest.approx(np.quantile([0.91, 0.92, 0.93], 0.84))]
    assert s["efficiency"]["upstream"]["auc"] == {
        "size": [1000],
        "median": [0.97],
        "low": [0.97],
        "high": [0.97],
        "n": [1],
    }
    rej = s["efficiency"]["scratch"]["rejection@0.5"]
    assert rej["size"] == [250, 1000] and rej["median"] == [20.0, 50.0] and rej["n"] == [3, 1]

    assert list(s["convergence"]) == ["omnilearn", "upstream"]  # each fine-tuned run against scratch
    conv = s["convergence"]["omnilearn"]
    assert conv["size"] == [250] and conv["pairs"] == [3] and conv["reached"] == [2]  # 1000: no pair
    assert conv["fine_tuned_epochs"]["median"] == [1.5] and conv["fine_tuned_epochs"]["n"] == [2]
    assert conv["scratch_epochs"]["median"] == [3.0]
    assert conv["speedup"]["median"] == [pytest.approx((3 / 1 + 3 / 2) / 2)]
    up = s["convergence"]["upstream"]  # same losses as scratch: reached at scratch's best epoch
    assert up["size"] == [1000] and up["pairs"] == [1] and up["speedup"]["median"] == [1.0]


def test_training_time_is_the_median_over_seeds_and_shown_beside_the_metrics(tmp_path):
    rows = _hand_made()
    fine = [r for r in rows if r["run"] == "omnilearn"]  # 250 jets, seeds 1-3
    for r, seconds in zip(fine, (100.0, 300.0, 200.0)):
        r["seconds"] = seconds
    assert summarize(rows)["top"]["seconds"] == {(250, "omnilearn"): 200.0}  # runs without a time: none

    (tmp_path / "study").mkdir()
    for r in rows:
        result_path(tmp_path / "study", r["task"], r["size"], r["seed"], r["run"]).write_text(json.dumps(r))
    text = report.results_page(tmp_path, tmp_path / "results.md")
    assert "| Seeds | Training time (s, median) |" in text
    fine_row = next(line for line in text.splitlines() if line.startswith("| 250 | OmniLearn (fine-tuned) | 0.92"))
    scratch_row = next(line for line in text.splitlines() if line.startswith("| 250 | PET classifier (scratch) |"))
    assert fine_row.endswith("| 3 | 200 |") and scratch_row.endswith("| 3 | - |")


def test_a_named_body_is_its_own_curve_against_the_same_scratch_runs():
    from omnilearn.evaluation.study import check_run_name, label, run_order

    rows = _hand_made() + [_result("top", 250, seed, "pythia10", 0.95, 30.0, [0.55, 0.5, 0.45, 0.4]) for seed in (1, 2)]
    s = summarize(rows)["top"]
    assert list(s["efficiency"]) == ["omnilearn", "pythia10", "upstream", "scratch"]
    assert s["efficiency"]["pythia10"]["auc"] == {
        "size": [250],
        "median": [0.95],
        "low": [0.95],
        "high": [0.95],
        "n": [2],
    }
    body = s["convergence"]["pythia10"]
    assert body["pairs"] == [2] and body["fine_tuned_epochs"]["median"] == [1.0] and body["speedup"]["median"] == [3.0]
    assert s["convergence"]["omnilearn"]["pairs"] == [3]  # unchanged by the other body
    assert label("pythia10") == "OmniLearn (fine-tuned, pythia10 body)" and label("scratch").endswith("(scratch)")
    assert run_order(["scratch", "b2", "upstream", "a1", "omnilearn"]) == [
        "omnilearn",
        "a1",
        "b2",
        "upstream",
        "scratch",
    ]
    assert check_run_name("pythia10") == "pythia10"
    for bad in ("scratch", "upstream", "Pythia", "10x", "a_b", ""):
        with pytest.raises(ValueError, match="run name"):
            check_run_name(bad)


def test_infinite_rejection_gives_infinite_quantiles_not_nan():
    rows = [_result("top", 8, seed, "scratch", 0.9, r, [1.0]) for seed, r in ((1, 10.0), (2, 20.0), (3, np.inf))]
    rej = summarize(rows)["top"]["efficiency"]["scratch"]["rejection@0.5"]
    assert rej["median"] == [20.0] and rej["low"] == [pytest.approx(13.2)] and rej["high"] == [np.inf]


def test_subsets_are_balanced_and_differ_by_seed(tmp_path):
    import h5py

    from omnilearn.workflows.study import write_subset

    source = tmp_path / "train.h5"
    with h5py.File(source, "w") as f:
        f.attrs["classes"] = ["qcd", "top"]
        f["data"] = np.arange(40 * 3 * 2, dtype=np.float32).reshape(40, 3, 2)
        f["jet"] = np.arange(40 * 4, dtype=np.float32).reshape(40, 4)
        f["pid"] = np.arange(40) % 2
    a = write_subset(source, tmp_path / "n8_seed1.h5", 8, 1)
    b = write_subset(source, tmp_path / "n8_seed2.h5", 8, 2)
    with h5py.File(a) as fa, h5py.File(b) as fb:
        assert list(fa.attrs["classes"]) == ["qcd", "top"] and np.bincount(fa["pid"][:]).tolist() == [4, 4]
        assert np.array_equal(fa["jet"][:, 0] / 4, np.arange(40)[fa["jet"][:, 0].astype(int) // 4])
        assert not np.array_equal(fa["jet"][:], fb["jet"][:])
        row = int(fa["jet"][0, 0]) // 4  # rows stay whole: data, jet and pid of the same jet
        assert fa["pid"][0] == row % 2 and fa["data"][0, 0, 0] == row * 6
    with pytest.raises(ValueError, match="fewer than 25"):
        write_subset(source, tmp_path / "n50.h5", 50, 1)


def test_load_reads_only_result_files(tmp_path):
    for r in _hand_made():
        path = result_path(tmp_path, r["task"], r["size"], r["seed"], r["run"])
        path.write_text(json.dumps(r))
    (tmp_path / "top_summary.json").write_text("{}")  # not a result: ignored
    found = load(tmp_path)
    assert len(found) == 8 and [r["size"] for r in found] == [250] * 6 + [1000] * 2


def test_results_page_section(tmp_path):
    plots, page = tmp_path / "plots", tmp_path / "docs" / "results.md"
    section = "## Pythia study"
    empty = report.results_page(plots, page).split(section, 1)[1].split("\n## ", 1)[0]
    assert "**Not run yet.** `omnilearn quickstart && omnilearn study --sizes 250 1000 4000 16000" in empty
    assert "factor 3" in empty  # the paper's statement, shown either way

    (plots / "study").mkdir(parents=True)
    for r in _hand_made():
        result_path(plots / "study", r["task"], r["size"], r["seed"], r["run"]).write_text(json.dumps(r))
    (plots / "study" / "top_efficiency.png").write_bytes(b"png")
    text = report.results_page(plots, page).split(section, 1)[1].split("\n## ", 1)[0]
    assert "Not run yet" not in text
    low, high = np.quantile([0.91, 0.92, 0.93], [0.16, 0.84])
    assert f"| 250 | OmniLearn (fine-tuned) | 0.9200 [{low:.4f}, {high:.4f}] | 40.0 [" in text
    assert "| 1000 | PET classifier (scratch) | 0.9500 [0.9500, 0.9500] | 50.0 [50.0, 50.0] | 1 |" in text
    assert "| 1000 | OmniLearn, authors' weights (fine-tuned) | 0.9700 [0.9700, 0.9700] |" in text
    assert "| 250 | OmniLearn (fine-tuned) | 3 [3, 3] | 1.5 [" in text and "| 2 of 3 |" in text
    assert "| 1000 | OmniLearn, authors' weights (fine-tuned) | 3 [3, 3] | 3 [3, 3] | 1.00 [" in text
    assert "](../plots/study/top_efficiency.png)" in text and "top_convergence.png" not in text


def test_the_larger_study_has_its_own_section_and_folder(tmp_path):
    plots, page = tmp_path / "plots", tmp_path / "docs" / "results.md"
    (plots / "study_4000").mkdir(parents=True)
    r = _result("top", 4000, 1, "pythia10", 0.96, 60.0, [0.4, 0.3])
    result_path(plots / "study_4000", "top", 4000, 1, "pythia10").write_text(json.dumps(r))
    text = report.results_page(plots, page)
    first = text.split("## Pythia study:", 1)[1].split("\n## ", 1)[0]
    larger = text.split("## Pythia study, larger training sets", 1)[1].split("\n## ", 1)[0]
    assert "**Not run yet.**" in first and "| 4000 |" not in first
    assert "| 4000 | OmniLearn (fine-tuned, pythia10 body) | 0.9600 [0.9600, 0.9600] |" in larger


def test_sizes_must_be_even():
    from omnilearn.cli import main

    with pytest.raises(SystemExit):
        main(["study", "--sizes", "251", "--pretrained", "/nowhere"])


def test_run_name_is_checked_by_the_command_line(capsys):
    from omnilearn.cli import main

    with pytest.raises(SystemExit):
        main(["study", "--run_name", "scratch", "--pretrained", "/nowhere"])
    assert "run name 'scratch'" in capsys.readouterr().err


def test_missing_checkpoints_stop_before_any_generation(tmp_path):
    from omnilearn.workflows.study import StudyConfig, run_task

    pre = tmp_path / "pre" / "best"
    cfg = StudyConfig(
        data_dir=str(tmp_path / "data"), plot_dir=str(tmp_path), pretrained=str(pre), upstream=str(tmp_path / "none")
    )
    with pytest.raises(FileNotFoundError, match="no pretrained checkpoint at " + str(pre)):
        run_task("top", cfg)
    assert not (tmp_path / "data").exists()


def test_results_of_another_pool_are_not_mixed(tmp_path):
    from omnilearn.workflows.study import StudyConfig, check_pool, run_task

    r = _result("top", 250, 1, "scratch", 0.9, 10.0, [1.0]) | {"pool_jets_per_class": 910}
    result_path(tmp_path, "top", 250, 1, "scratch").write_text(json.dumps(r))
    check_pool(tmp_path, "top", 910)  # the same pool
    check_pool(tmp_path, "qg", 3637)  # another task's results do not matter
    cfg = StudyConfig(sizes=(250, 4000), plot_dir=str(tmp_path), data_dir=str(tmp_path / "data"))
    with pytest.raises(ValueError, match="pool of 910 jets per class, these sizes need 3637"):
        run_task("top", cfg)  # before generating anything
    assert not (tmp_path / "data").exists()


def test_results_of_another_pool_give_one_line_on_the_command_line(tmp_path, capsys):
    from omnilearn.cli import main

    r = _result("qg", 250, 1, "scratch", 0.9, 10.0, [1.0]) | {"pool_jets_per_class": 910}
    result_path(tmp_path, "qg", 250, 1, "scratch").write_text(json.dumps(r))
    argv = ["study", "--tasks", "qg", "--sizes", "250", "4000", "--plot_dir", str(tmp_path)]
    assert main(argv + ["--data_dir", str(tmp_path / "data")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("omnilearn study: error: ") and "pool of 910" in err and "\n" not in err
    assert not (tmp_path / "data").exists()


@pytest.mark.slow
def test_study_end_to_end(tmp_path):
    """A tiny pretraining, then one size × one seed × both runs of the top task (2 epochs): the
    result JSONs, figures and a rerun that skips every finished run."""
    pytest.importorskip("pythia8mc")
    pytest.importorskip("fastjet")
    from omnilearn.config import ModelConfig, TrainConfig
    from omnilearn.datasets import registry
    from omnilearn.pythia.formats import config_for, generate_public
    from omnilearn.training.run import run_training
    from omnilearn.workflows.study import StudyConfig, run

    made = generate_public("qg", tmp_path / "qg_public", config_for("qg", jets_per_class=12, workers=1, seed=4))
    registry.get("qg").preprocess(made.outdir, tmp_path / "pre_data", progress=False)
    tiny = ModelConfig(
        projection_dim=16, num_heads=2, num_layers=1, K=3, num_class_layers=1, num_gen_layers=1, num_fourier=16
    )
    run_training(
        [tmp_path / "pre_data" / "train.h5"],
        [tmp_path / "pre_data" / "val.h5"],
        tmp_path / "pre",
        tiny,
        TrainConfig(mode="classifier", batch=8, epoch=1, warm_epoch=0, stop_epoch=1),
        num_particles=16,
        verbose=0,
    )
    cfg = StudyConfig(
        tasks=("top",),
        sizes=(8,),
        seeds=(2,),
        test_jets_per_class=5,
        workers=1,
        data_dir=str(tmp_path / "data"),
        runs_dir=str(tmp_path / "runs"),
        plot_dir=str(tmp_path / "plots"),
        pretrained=str(tmp_path / "pre" / "best"),
        epochs=2,
        warm_epoch=0,
        batch=4,
        num_particles=16,
    )
    summary = run(cfg)
    plots = Path(cfg.plot_dir)
    results = load(plots)
    assert [(r["size"], r["seed"], r["run"]) for r in results] == [(8, 2, "omnilearn"), (8, 2, "scratch")]
    for r in results:
        assert r["n"] == 10  # every split of the test sample: 5 jets per class
        assert 0 <= r["auc"] <= 1 and len(r["losses"]["val_loss"]) == 2 and "roc" not in r
        assert r["model"]["projection_dim"] == 16 and r["train"]["fine_tune"] == (r["run"] == "omnilearn")
        assert r["pretrained"] == (cfg.pretrained if r["run"] == "omnilearn" else None)
        assert r["pool_jets_per_class"] == cfg.pool_jets_per_class()
    eff = summary["top"]["efficiency"]
    assert set(eff) == {"omnilearn", "scratch"} and eff["scratch"]["auc"]["size"] == [8]
    assert summary["top"]["convergence"]["omnilearn"]["pairs"] == [1]
    for name in ("top_efficiency.png", "top_convergence.png"):
        assert (plots / name).stat().st_size > 0
    before = {p: p.stat().st_mtime_ns for p in plots.glob("*.json")}
    run(cfg)  # cached: nothing retrained or rewritten
    assert {p: p.stat().st_mtime_ns for p in plots.glob("*.json")} == before


def test_efficiency_plot_labels_the_sizes_run(tmp_path, monkeypatch):
    from omnilearn import plotting

    figs = []
    monkeypatch.setattr(plotting, "_save", lambda fig, path, grid=False: figs.append(fig) or Path(path))
    band = {
        "size": [250, 1000, 4000],
        "median": [0.9, 0.95, 0.97],
        "low": [0.89, 0.94, 0.96],
        "high": [0.91, 0.96, 0.98],
    }
    rej = {k: [10 * v for v in vals] if k != "size" else vals for k, vals in band.items()}
    plotting.plot_data_efficiency({"scratch": {"auc": band, "rejection@0.5": rej}}, tmp_path / "eff.png")
    for ax in figs[0].axes:
        assert list(ax.get_xticks()) == [250, 1000, 4000]
        assert [t.get_text() for t in ax.get_xticklabels()] == ["250", "1,000", "4,000"]
        assert ax.get_xscale() == "log"
    assert figs[0].axes[1].get_yscale() == "log"
