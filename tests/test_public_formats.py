"""Generated jets in the released top-tagging and quark/gluon formats: the writers round-trip through
the real preprocessors, and small Pythia runs have the datasets' selections."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from omnilearn.data.features import wrap_phi
from omnilearn.datasets import registry
from omnilearn.datasets.qg import PDG_TABLE
from omnilearn.pythia.formats import CONFIGS, config_for, generate_public, qg_arrays, write_qg_file, write_top_file
from omnilearn.pythia.generator import JetSample

SPLITS = ("train", "val", "test")


def _sample(n: int, rng, max_particles: int, width: int = 200) -> JetSample:
    """Random jets near phi = ±pi (so wrapping matters), pT-sorted, with real masses and charges."""
    ids = np.array([22, 211, -211, 321, -321, 130, 2212, -2212, 2112, 11, -13])
    shape = (n, width)
    pt, eta, phi, e, q = (np.zeros(shape) for _ in range(5))
    pid = np.zeros(shape, dtype=np.int32)
    for j in range(n):
        k = int(rng.integers(3, max_particles + 1))
        pt[j, :k] = np.sort(rng.uniform(1, 150, k))[::-1]
        eta[j, :k] = rng.normal(0.3, 0.2, k)
        phi[j, :k] = wrap_phi(rng.normal(3.0, 0.2, k))
        pid[j, :k] = rng.choice(ids, k)
        mass = np.array([PDG_TABLE[abs(int(i))][0] for i in pid[j, :k]])
        q[j, :k] = [np.sign(i) * PDG_TABLE[abs(int(i))][1] for i in pid[j, :k]]
        e[j, :k] = np.sqrt((pt[j, :k] * np.cosh(eta[j, :k])) ** 2 + mass**2)
    parton = rng.uniform(100, 600, (n, 4))
    return JetSample(pt, eta, phi, e, q, pid, parton, np.full(n, 6, dtype=np.int32))


def _outputs(outdir: Path) -> dict[str, dict[str, np.ndarray]]:
    out = {}
    for split in SPLITS:
        with h5py.File(outdir / f"{split}.h5", "r") as f:
            out[split] = {k: f[k][()] for k in ("data", "jet", "pid")}
    return out


def _match(expected_jet: np.ndarray, got_jet: np.ndarray) -> np.ndarray:
    """For each expected jet, the row of ``got_jet`` with the same pT (they are all distinct)."""
    rows = np.array([int(np.argmin(np.abs(got_jet[:, 0] - pt))) for pt in expected_jet[:, 0]])
    assert len(set(rows.tolist())) == len(rows)
    return rows


def test_top_writer_round_trips_through_the_real_preprocessor(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("tables")
    rng = np.random.default_rng(0)
    samples = {s: _sample(n, rng, 120) for s, n in zip(SPLITS, (20, 8, 8))}
    labels = {s: rng.integers(0, 2, len(samples[s])) for s in SPLITS}
    (tmp_path / "in").mkdir()
    for k, s in enumerate(SPLITS):
        write_top_file(tmp_path / "in" / f"{s}.h5", samples[s], labels[s], ttv=k)

    frame = pd.read_hdf(tmp_path / "in" / "test.h5", "table")
    assert list(frame.columns[:8]) == ["E_0", "PX_0", "PY_0", "PZ_0", "E_1", "PX_1", "PY_1", "PZ_1"]
    assert frame.shape == (8, 4 * 200 + 6) and list(frame.columns[-2:]) == ["ttv", "is_signal_new"]
    np.testing.assert_array_equal(frame["ttv"], 2)
    np.testing.assert_allclose(frame["truthE"], samples["test"].parton[:, 0], rtol=1e-6)
    pt = np.hypot(frame[[f"PX_{i}" for i in range(200)]].to_numpy(), frame[[f"PY_{i}" for i in range(200)]].to_numpy())
    assert np.all(np.diff(pt, axis=1) <= 1e-3)  # sorted by pT, zero padded

    registry.get("top").preprocess(tmp_path / "in", tmp_path / "out", progress=False)
    out = _outputs(tmp_path / "out")
    for s in SPLITS:
        data, jet = samples[s].features()  # the unified arrays made directly from the same jets
        rows = _match(jet, out[s]["jet"])
        np.testing.assert_array_equal(out[s]["pid"][rows], labels[s])
        np.testing.assert_allclose(out[s]["jet"][rows], jet, rtol=1e-4)
        got = out[s]["data"][rows]
        np.testing.assert_allclose(got[..., :7], data[:, :150, :7], rtol=1e-3, atol=1e-3)
        assert np.all(got[..., 7:] == 0)  # the release has no PID


def test_qg_writer_round_trips_through_the_real_preprocessor(tmp_path):
    rng = np.random.default_rng(1)
    sample = _sample(30, rng, 90)
    labels = rng.integers(0, 2, 30)
    x, y = qg_arrays(sample, labels)
    mult = (sample.pt > 0).sum(1)
    assert x.shape == (30, mult.max(), 4) and np.array_equal(y, labels)
    # phi within pi of the jet's, the jet's in [0, 2pi): here the jets sit near pi, so both sides of it
    real = x[..., 0] > 0
    jet_phi = np.arctan2((x[..., 0] * np.sin(x[..., 2])).sum(1), (x[..., 0] * np.cos(x[..., 2])).sum(1)) % (2 * np.pi)
    assert np.all(np.abs(x[..., 2] - jet_phi[:, None])[real] < np.pi)
    assert np.any(x[..., 2][real] > np.pi) and np.any(x[..., 2][real] < np.pi)
    (tmp_path / "in").mkdir()
    write_qg_file(tmp_path / "in" / "QG_jets.npz", sample, labels)

    registry.get("qg").preprocess(tmp_path / "in", tmp_path / "out", progress=False)
    out = _outputs(tmp_path / "out")
    got = {k: np.concatenate([out[s][k] for s in SPLITS]) for k in ("data", "jet", "pid")}
    data, jet = sample.features()
    rows = _match(jet, got["jet"])
    np.testing.assert_array_equal(got["pid"][rows], labels)
    np.testing.assert_allclose(got["jet"][rows], jet, rtol=1e-5)
    # rapidity -> pseudorapidity with the PDG masses, charge and PID flags from the id: as generated
    np.testing.assert_allclose(got["data"][rows], data[:, :100], rtol=1e-4, atol=1e-5)


def test_bad_requests_write_nothing(tmp_path):
    with pytest.raises(ValueError, match="format"):
        generate_public("atlas", tmp_path / "a")
    with pytest.raises(ValueError, match="classes"):
        generate_public("top", tmp_path / "b", config_for("top", classes=("qcd", "wqq")))
    assert not any(tmp_path.iterdir())


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    pytest.importorskip("pythia8mc")
    pytest.importorskip("fastjet")
    root = tmp_path_factory.mktemp("public")
    return {
        fmt: generate_public(fmt, root / fmt, config_for(fmt, jets_per_class=12, workers=1, seed=4), progress=False)
        for fmt in ("top", "qg")
    }


def _qg_jets(x: np.ndarray) -> dict[str, np.ndarray]:
    """Jet pT, rapidity, phi from the released (pT, y, phi, id) particles."""
    pt, rap, phi = x[..., 0], x[..., 1], x[..., 2]
    mass = np.vectorize(lambda i: PDG_TABLE.get(abs(int(i)), (0.0, 0.0))[0])(x[..., 3])
    mt = np.sqrt(pt**2 + mass**2) * (pt > 0)
    px, py = (pt * np.cos(phi)).sum(1), (pt * np.sin(phi)).sum(1)
    pz, e = (mt * np.sinh(rap)).sum(1), (mt * np.cosh(rap)).sum(1)
    return {"pt": np.hypot(px, py), "y": 0.5 * np.log((e + pz) / (e - pz)), "phi": np.arctan2(py, px)}


def test_qg_pythia_selection(made, tmp_path):
    result = made["qg"]
    assert [f.name for f in result.files] == ["QG_jets.npz"]
    with np.load(result.files[0]) as f:
        x, y = f["X"], f["y"]
    assert x.shape[0] == 24 and sorted(y.tolist()) == [0.0] * 12 + [1.0] * 12
    jets = _qg_jets(x)
    assert np.all((jets["pt"] > 500) & (jets["pt"] < 550)) and np.all(np.abs(jets["y"]) < 1.7)
    real = x[..., 0] > 0
    dr = np.hypot(x[..., 1] - jets["y"][:, None], wrap_phi(x[..., 2] - jets["phi"][:, None]))[real]
    # anti-kT R = 0.4: hard jets are cones of radius 0.4 in (y, phi), nothing like R = 0.8's
    assert dr.max() < 0.45 and np.mean(dr < 0.4) > 0.99
    # gluons radiate more (Casimir 3 vs 4/3): clearly more particles on average
    mult = real.sum(1)
    assert mult[y == 0].mean() > mult[y == 1].mean() + 5
    assert set(np.unique(np.abs(x[..., 3][real])).astype(int)) <= set(PDG_TABLE)

    converted = registry.get("qg").preprocess(result.outdir, tmp_path / "qg", progress=False)
    assert sum(converted.counts.values()) == 24


def test_qg_labels_come_from_the_hard_parton():
    pytest.importorskip("pythia8mc")
    from omnilearn.pythia.generator import generate_jets

    quark = generate_jets("qg_quark", 4, 7, CONFIGS["qg"])
    gluon = generate_jets("qg_gluon", 4, 8, CONFIGS["qg"])
    assert set(np.abs(quark.parton_id).tolist()) <= {1, 2, 3}
    assert set(gluon.parton_id.tolist()) == {21}


def test_top_pythia_selection(made, tmp_path):
    pd = pytest.importorskip("pandas")
    result = made["top"]
    per_class = config_for("top", jets_per_class=12).split_sizes()  # 60/20/20 as the release
    assert per_class == {"train": 8, "val": 2, "test": 2}
    sizes = {split: 2 * n for split, n in per_class.items()}
    for f in result.files:
        frame = pd.read_hdf(f, "table")
        assert len(frame) == sizes[f.stem] and frame["is_signal_new"].sum() == sizes[f.stem] // 2
        e, px, py, pz = (frame[[f"{c}_{i}" for i in range(200)]].to_numpy(np.float64) for c in ("E", "PX", "PY", "PZ"))
        jpt = np.hypot(px.sum(1), py.sum(1))
        assert np.all((jpt > 550) & (jpt < 650))
        assert np.all(np.abs(np.arcsinh(pz.sum(1) / jpt)) < 2)
        truth = frame[["truthE", "truthPX", "truthPY", "truthPZ"]].to_numpy(np.float64)
        top = frame["is_signal_new"].to_numpy() == 1
        mass = np.sqrt(np.clip(truth[:, 0] ** 2 - (truth[:, 1:] ** 2).sum(1), 0, None))
        assert np.all(np.abs(mass[top] - 172.5) < 5) and np.all(truth[~top] == 0)
        jet_mass = np.sqrt(np.clip(e.sum(1) ** 2 - px.sum(1) ** 2 - py.sum(1) ** 2 - pz.sum(1) ** 2, 0, None))
        assert np.median(jet_mass[top]) > 140
    converted = registry.get("top").preprocess(result.outdir, tmp_path / "top", progress=False)
    assert converted.counts == sizes


def test_rerun_finds_the_files(made):
    result = made["top"]
    mtimes = [f.stat().st_mtime_ns for f in result.files]
    again = generate_public(
        "top", result.outdir, config_for("top", jets_per_class=12, workers=1, seed=4), progress=False
    )
    assert again.cached and [f.stat().st_mtime_ns for f in again.files] == mtimes
    side = json.loads((result.outdir / "public_settings.json").read_text())
    assert side["format"] == "top" and side["settings"]["ecm"] == 14000.0 and not side["settings"]["mpi"]


# ----------------------------------------------------------------------------------------------
# The workflow: generate → real preprocessor → fine-tune vs scratch → evaluate → plot


def test_workflow_needs_a_pretrained_body_first(tmp_path):
    from omnilearn.workflows.pythia_tasks import PythiaTaskConfig, run_task

    cfg = PythiaTaskConfig(data_dir=str(tmp_path / "data"), pretrained=str(tmp_path / "none"))
    with pytest.raises(FileNotFoundError, match="quickstart"):
        run_task("top", cfg)
    assert not (tmp_path / "data").exists()  # stopped before generating anything


@pytest.mark.slow
def test_workflow_top_end_to_end(made, tmp_path):
    """A tiny pretraining, then the whole task chain with one epoch each (~1 min)."""
    from omnilearn.config import ModelConfig, TrainConfig
    from omnilearn.training import checkpoint
    from omnilearn.training.run import run_training
    from omnilearn.workflows.pythia_tasks import PythiaTaskConfig, run_task

    unified = tmp_path / "pre_data"
    registry.get("qg").preprocess(made["qg"].outdir, unified, progress=False)
    tiny = ModelConfig(
        projection_dim=16, num_heads=2, num_layers=1, K=3, num_class_layers=1, num_gen_layers=1, num_fourier=16
    )
    run_training(
        [unified / "train.h5"],
        [unified / "val.h5"],
        tmp_path / "pre",
        tiny,
        TrainConfig(mode="all", batch=8, epoch=1, warm_epoch=0, stop_epoch=1),
        num_particles=32,
        verbose=0,
    )

    cfg = PythiaTaskConfig(
        jets_per_class=12,
        workers=1,
        seed=4,
        data_dir=str(tmp_path / "data"),
        runs_dir=str(tmp_path / "runs"),
        plot_dir=str(tmp_path / "plots"),
        pretrained=str(tmp_path / "pre" / "best"),
        epochs=1,
        batch=8,
        num_particles=32,
        bootstrap=3,
    )
    results = run_task("top", cfg)
    assert set(results) == {"omnilearn", "scratch"}
    # scored on the whole test split: 2 of the 12 jets per class (the release's 60/20/20), both classes
    n_test = 2 * config_for("top", jets_per_class=12).split_sizes()["test"]
    assert n_test == 4
    for run, r in results.items():
        assert r["n"] == n_test and r["classes"] == ["qcd", "top"] and 0 <= r["auc"] <= 1
        assert set(r["rejection"]) == {"0.5", "0.3"}
        assert r["model"]["projection_dim"] == 16  # the pretrained body's size
        meta = checkpoint.read_meta(tmp_path / "runs" / f"top_{run}" / "best")
        assert meta["train"]["epoch"] == 1 and (meta["data"]["pretrained"] is not None) == (run == "omnilearn")
        assert meta["data"]["dataset"] == "top" and meta["data"]["num_particles"] == r["num_particles"]
    # the fine-tuned model normalises with the pretraining's statistics, the scratch one with its own
    pre_norm = checkpoint.load_normalization(tmp_path / "pre" / "best")
    tuned = checkpoint.load_normalization(tmp_path / "runs" / "top_omnilearn" / "best")
    scratch = checkpoint.load_normalization(tmp_path / "runs" / "top_scratch" / "best")
    np.testing.assert_array_equal(tuned.particle_mean, pre_norm.particle_mean)
    assert not np.array_equal(scratch.particle_mean, pre_norm.particle_mean)
    for name in ("top_roc.png", "top_losses.png", "top_table.md", "top_omnilearn.json", "top_scratch.json"):
        assert (tmp_path / "plots" / name).stat().st_size > 0
    published = json.loads((tmp_path / "plots" / "top_omnilearn.json").read_text())  # the copy to commit
    assert published["auc"] == results["omnilearn"]["auc"] and "checkpoint" not in published
    table = (tmp_path / "plots" / "top_table.md").read_text()
    assert "Pythia 8 here" in table and "measured here" in table and "paper, Table I" not in table
