"""LHCO anomaly detection (issue 16): the R&D converter on fixtures in the released pandas
layout, the event format, the signal-region / sideband masks, the m_jj scaling and the SIC."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest

from omnilearn.data import events as ev
from omnilearn.data.format import DataFormatError
from omnilearn.datasets import registry
from omnilearn.errors import OmniLearnError
from omnilearn.evaluation.anomaly import band, max_sic, sic_curve

#: (pT, eta, phi) triplets per event in the release, then the label.
NUM_SLOTS = 700


def make_events(n: int, seed: int = 0, low_pt_every: int = 0):
    """Synthetic R&D events: two narrow, back-to-back massless-particle sprays (well inside R = 1,
    so each spray is exactly one anti-kT jet), and the reference truth computed without fastjet.

    Returns ``(rows (n, 2101), truth)`` with per event the particle count of each spray (leading
    first), m_jj of the two sprays, and whether it passes the 1.2 TeV cut.
    """
    rng = np.random.default_rng(seed)
    rows = np.zeros((n, 3 * NUM_SLOTS + 1))
    truth = {"counts": [], "mjj": [], "pass": [], "label": []}
    for i in range(n):
        lead_pt = 300.0 if (low_pt_every and i % low_pt_every == 0) else rng.uniform(1300, 2200)
        parts, counts, p4 = [], [], np.zeros(4)
        for k, (pt_j, phi0, eta0) in enumerate(((lead_pt, 0.3, 0.2), (0.8 * lead_pt, 0.3 + np.pi, -0.4))):
            m = int(rng.integers(5 + 10 * k, 40 + 10 * k))
            z = rng.dirichlet(np.ones(m)) * pt_j
            eta = eta0 + rng.normal(0, 0.1, m)
            phi = phi0 + rng.normal(0, 0.1, m)
            parts.append(np.stack([z, eta, phi], 1))
            counts.append(m)
            p4 += [
                (z * np.cosh(eta)).sum(),
                (z * np.cos(phi)).sum(),
                (z * np.sin(phi)).sum(),
                (z * np.sinh(eta)).sum(),
            ]
        p = np.concatenate(parts)
        rng.shuffle(p)  # the release is not ordered by jet
        rows[i, : 3 * len(p)] = p.reshape(-1)
        label = int(rng.random() < 0.3)
        rows[i, -1] = label
        # the second spray has 0.8 of the first's pT before the Dirichlet split: always subleading
        truth["counts"].append(counts)
        truth["mjj"].append(np.sqrt(p4[0] ** 2 - p4[1] ** 2 - p4[2] ** 2 - p4[3] ** 2))
        truth["pass"].append(lead_pt > 1200)
        truth["label"].append(label)
    return rows, {k: np.asarray(v) for k, v in truth.items()}


def write_release(
    path: Path, rows: np.ndarray, fmt: str = "table", key: str = "df", text_column: int | None = None
) -> Path:
    """The R&D file exactly as the release was made: a pandas frame with integer column names
    0 … 2100 under key ``df`` (damaged on request: another ``key``, one column as text)."""
    import pandas as pd

    frame = pd.DataFrame(rows)
    if text_column is not None:
        frame[text_column] = frame[text_column].astype(str)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame.to_hdf(path, key=key, format=fmt)
    return path


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    rows, truth = make_events(40, seed=1, low_pt_every=7)
    path = write_release(tmp_path_factory.mktemp("lhco") / "events_anomalydetection_v2.h5", rows)
    return path, rows, truth


def _all_splits(result) -> dict[str, np.ndarray]:
    parts = [ev.read_events(result.paths[s]) for s in ("train", "val", "test")]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def test_fixture_is_the_released_layout(release):
    path = release[0]
    with h5py.File(path, "r") as f:
        table = f["df/table"]
        assert table.dtype["values_block_0"].shape == (3 * NUM_SLOTS + 1,)
        assert table.shape == (40,)


@pytest.mark.parametrize("fmt", ["table", "fixed"])
def test_converter_clusters_two_jets(tmp_path, release, fmt):
    _, rows, truth = release
    src = write_release(tmp_path / "in.h5", rows, fmt) if fmt == "fixed" else release[0]
    result = registry.get("lhco").preprocess(src, tmp_path / "out", progress=False, seed=3)
    got = _all_splits(result)
    passing = truth["pass"]
    assert sum(result.counts.values()) == passing.sum() < len(rows)  # the low-pT events are cut
    assert got["data"].shape[1:] == (2, ev.NUM_PARTICLES, 13)
    # events are shuffled over splits: match them by m_jj, which is distinct per event
    order = np.argsort(got["mjj"])
    ref = np.argsort(truth["mjj"][passing])
    np.testing.assert_allclose(got["mjj"][order], truth["mjj"][passing][ref], rtol=1e-5)
    np.testing.assert_array_equal(got["jet"][order, :, 4], truth["counts"][passing][ref])
    np.testing.assert_array_equal(got["label"][order], truth["label"][passing][ref])
    # leading jet first; particles hardest first, padding zero; no PID columns
    assert (got["jet"][:, 0, 0] >= got["jet"][:, 1, 0]).all()
    log_pt = got["data"][..., 2]
    real = np.any(got["data"] != 0, axis=-1)
    assert (np.diff(np.where(real, log_pt, -1e9), axis=-1) <= 1e-6).all()
    assert not got["data"][..., 7:].any()
    np.testing.assert_allclose(ev.dijet_mass(got["jet"]), got["mjj"], rtol=1e-4)
    with h5py.File(result.paths["train"], "r") as f:
        assert f.attrs["format"] == ev.FORMAT and "charge" not in list(f.attrs["present_features"])


def _damaged(tmp_path: Path, case: str) -> Path:
    rows, _ = make_events(6, seed=2)
    path = tmp_path / "events_anomalydetection_v2.h5"
    if case == "not_hdf5":
        path.write_bytes(b"not an hdf5 file at all")
    elif case == "wrong_key":
        write_release(path, rows, key="events")
    elif case == "columns":
        write_release(path, rows[:, :-2])
    elif case == "strings":
        write_release(path, rows, fmt="fixed", text_column=2100)
    else:
        if case == "nan":
            rows[3, 4] = np.nan
        elif case == "label":
            rows[3, -1] = 2
        elif case == "negative_pt":
            rows[3, 0] = -5.0
        elif case == "no_event_passes":
            rows[:, 0 : 3 * NUM_SLOTS : 3] *= 0.01
        write_release(path, rows)
    return path


BAD_INPUTS = {
    "not_hdf5": "not a readable HDF5 file",
    "wrong_key": "no pandas frame under key 'df'",
    "columns": "expected 3 × (particles) + 1 label columns",
    "strings": "expected numbers",
    "nan": "event 3: non-finite value in 'particles'",
    "label": "event 3: 'label (column 2100)' is 2",
    "negative_pt": "event 3: negative particle pT",
    "no_event_passes": "fail the two-jet, leading pT > 1200 GeV selection",
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_clear_error(tmp_path, case):
    src = _damaged(tmp_path, case)
    out = tmp_path / "out"
    with pytest.raises(DataFormatError, match=re.escape(BAD_INPUTS[case])) as err:
        registry.get("lhco").preprocess(src, out, progress=False)
    assert str(src) in str(err.value)
    assert not out.exists()  # nothing half-written


def test_signal_region_and_sideband_masks():
    m = np.array([2299.9, 2300.0, 3299.9, 3300.0, 3300.1, 3500.0, 3699.9, 3700.0, 3700.1, 5000.0, 5000.1])
    sr = ev.signal_region_mask(m)
    sb = ev.sideband_mask(m)
    np.testing.assert_array_equal(sr, [0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0])
    np.testing.assert_array_equal(sb, [0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0])
    assert not (sr & sb).any()
    dense = np.linspace(2300, 5000, 10001)
    assert (ev.signal_region_mask(dense) | ev.sideband_mask(dense)).all()


def test_mjj_scaling():
    lo, hi = ev.MJJ_RANGE
    np.testing.assert_allclose(ev.scale_mjj([lo, hi]), [-1.0, 1.0], atol=1e-6)
    # log-linear: the geometric mean of the edges is the centre
    np.testing.assert_allclose(ev.scale_mjj([np.sqrt(lo * hi)]), [0.0], atol=1e-6)
    m = np.array([1000.0, 2300.0, 3500.0, 4999.0, 8000.0])
    s = ev.scale_mjj(m)
    assert (np.diff(s) > 0).all()
    np.testing.assert_allclose(ev.unscale_mjj(s), m, rtol=1e-5)
    with pytest.raises(ValueError, match="positive"):
        ev.scale_mjj([0.0])


def test_event_jets_event_round_trip():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(5, 2, 7, 13)).astype(np.float32)
    jet = rng.normal(size=(5, 2, 5)).astype(np.float32)
    jd, jj = ev.events_to_jets(data, jet)
    assert jd.shape == (10, 7, 13) and jj.shape == (10, 5)
    np.testing.assert_array_equal(jd[2 * 3 + 1], data[3, 1])  # jet 2i + k is jet k of event i
    np.testing.assert_array_equal(jj[2 * 4], jet[4, 0])
    back_d, back_j = ev.jets_to_events(jd, jj)
    np.testing.assert_array_equal(back_d, data)
    np.testing.assert_array_equal(back_j, jet)
    np.testing.assert_array_equal(ev.unified_jet(jet)[..., 1], jet[..., 1])
    np.testing.assert_array_equal(ev.unified_jet(jet)[..., 2], jet[..., 3])  # mass, not phi
    with pytest.raises(ValueError):
        ev.jets_to_events(jd[:3], jj[:3])


def test_sic_on_a_hand_made_roc():
    # 10 signal, 100 000 background: one background above all, 20 at 0.5; signal 5 at 0.9, 5 at 0.4
    sig = np.array([0.9] * 5 + [0.4] * 5)
    bkg = np.concatenate([[0.95], [0.5] * 20, np.full(100_000 - 21, 0.1)])
    scores = np.concatenate([sig, bkg])
    is_signal = np.concatenate([np.ones(10), np.zeros(len(bkg))])
    curve = sic_curve(is_signal, scores)
    # εS = 0.5 at εB = 1e-5 gives SIC 158, but εB ≤ 1e-4 is excluded; next: εS = 1 at εB = 2.1e-4
    assert curve["sic"].max() == pytest.approx(0.5 / np.sqrt(1e-5))
    assert max_sic(is_signal, scores) == pytest.approx(1.0 / np.sqrt(21e-5))
    assert max_sic(is_signal, scores, min_background_efficiency=0.0) == pytest.approx(0.5 / np.sqrt(1e-5))
    b = band([1.0, 2.0, 3.0, 4.0, 5.0])
    assert b["median"] == 3.0 and b["low"] == pytest.approx(1.64) and b["high"] == pytest.approx(4.36)


# ----------------------------------------------------------------------------------------------
# The two-jet classifier and the CWoLa workflow

TINY = dict(num_classes=3, projection_dim=16, num_heads=2, num_layers=1, K=4, num_fourier=16, num_class_layers=1)


def _event_batch(b=4, p=10, seed=0):
    rng = np.random.default_rng(seed)
    mask = (rng.random((b, 2, p)) < 0.7).astype("float32")
    mask[..., :3] = 1
    return {
        "particles": rng.normal(size=(b, 2, p, 13)).astype("float32") * mask[..., None],
        "mask": mask,
        "jet": rng.normal(size=(b, 2, 4)).astype("float32"),
        "mjj": rng.normal(size=(b, 1)).astype("float32"),
        "label": np.arange(b) % 2,
        "weight": np.ones(b, "float32"),
    }


def test_dijet_classifier_symmetries_and_conditioning():
    from omnilearn.config import ModelConfig
    from omnilearn.models.dijet import DijetClassifier

    model = DijetClassifier(ModelConfig(**TINY))
    batch = _event_batch()
    swapped = {k: (v[:, ::-1] if k in ("particles", "mask", "jet") else v) for k, v in batch.items()}
    moved = dict(batch, mjj=batch["mjj"] + 1.0)
    # one call for the three (eager calls are slow): original, jets swapped, m_jj moved
    stacked = {k: np.concatenate([batch[k], swapped[k], moved[k]]) for k in batch}
    out, out_swapped, out_moved = np.split(np.asarray(model(stacked)), 3)
    assert out.shape == (4,) and ((out > 0) & (out < 1)).all()
    np.testing.assert_allclose(out_swapped, out, atol=1e-5)  # jet order does not matter
    # the event scale/shift starts as the identity: m_jj has no say until it is trained
    np.testing.assert_allclose(out_moved, out, atol=1e-6)
    layer = model.event_condition
    layer.kernel.assign(np.random.default_rng(1).normal(size=layer.kernel.shape) * 0.5)
    # padding is not an input: more zero padding gives the same score; m_jj now matters
    padded = {
        k: np.pad(v, ((0, 0), (0, 0), (0, 5)) + ((0, 0),) * (v.ndim - 3)) if k in ("particles", "mask") else v
        for k, v in stacked.items()
    }
    trained, _, trained_moved = np.split(np.asarray(model(padded)), 3)
    assert np.abs(trained_moved - trained).max() > 1e-4
    np.testing.assert_allclose(trained, np.split(np.asarray(model(stacked)), 3)[0], atol=1e-5)


def test_dijet_classifier_loads_a_pretrained_omnilearn(tmp_path):
    from omnilearn.config import ModelConfig
    from omnilearn.models import OmniLearn
    from omnilearn.models.dijet import DijetClassifier

    cfg = ModelConfig(**TINY)
    pre = OmniLearn(cfg, mode="classifier")
    single = {"particles": np.zeros((1, 5, 13), "float32"), "mask": np.ones((1, 5), "float32")}
    pre(dict(single, jet=np.zeros((1, 4), "float32")))
    pre.save_checkpoint(tmp_path / "ckpt")
    model = DijetClassifier(cfg)
    model(_event_batch())
    assert set(model.load_pretrained(tmp_path / "ckpt")) == {"body", "classifier"}
    for a, b in zip(pre.body.weights, model.body.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    block = [w for w in model.classifier.weights if "class_block_0" in w.path]
    assert block and all(
        np.array_equal(np.asarray(w), np.asarray(pre.classifier.get_layer("class_block_0").weights[i]))
        for i, w in enumerate(model.classifier.get_layer("class_block_0").weights)
    )
    assert model.classifier.get_layer("class_output").kernel.shape[-1] == 2  # fresh two-class output


@pytest.fixture(scope="module")
def event_files(tmp_path_factory):
    """Converted tiny LHCO-format events (16 particles per jet)."""
    root = tmp_path_factory.mktemp("lhco_events")
    rows, _ = make_events(400, seed=4)
    src = write_release(root / "events_anomalydetection_v2.h5", rows)
    registry.get("lhco").preprocess(src, root / "events", progress=False, num_particles=16, fractions=(0.5, 0.1, 0.4))
    return root / "events"


def test_cwola_sets(event_files):
    from omnilearn.workflows.lhco import cwola_sets

    train = ev.read_events(event_files / "train.h5")
    sr = ev.signal_region_mask(train["mjj"])
    n_bkg = int((sr & (train["label"] == 0)).sum())
    data, template = cwola_sets(train, None, 3, np.random.default_rng(0))
    assert (data["label"] == 1).sum() == 3 and (template["label"] == 0).all()
    assert len(data["mjj"]) - 3 + len(template["mjj"]) == n_bkg
    assert ev.signal_region_mask(np.concatenate([data["mjj"], template["mjj"]])).all()
    assert not set(data["mjj"].tolist()) & set(template["mjj"].tolist())  # disjoint events
    gen, _ = make_events(30, seed=9)
    fake = dict(train)
    data, template = cwola_sets(train, fake, 2, np.random.default_rng(0))
    assert len(data["mjj"]) == n_bkg + 2 and ev.signal_region_mask(template["mjj"]).all()
    with pytest.raises(OmniLearnError, match="only .* signal events"):
        cwola_sets(train, None, 10_000, np.random.default_rng(0))


@pytest.mark.slow
def test_classify_end_to_end(event_files, tmp_path):
    import json

    from omnilearn.workflows.lhco import ClassifyConfig, classify

    cfg = ClassifyConfig(n_sig=3, seed=1, epochs=2, batch=64, model=TINY)
    result = classify(event_files, tmp_path / "run", cfg, progress=False)
    saved = json.loads((tmp_path / "run" / "results.json").read_text())
    assert saved["max_sic"] == pytest.approx(result["max_sic"]) and np.isfinite(result["max_sic"])
    assert len(saved["val_loss"]) == 2 and saved["n_sig"] == 3 and not saved["fine_tuned"]
    test = ev.read_events(event_files / "test.h5")
    sr = ev.signal_region_mask(test["mjj"])
    assert saved["n_test_signal"] == int((sr & (test["label"] == 1)).sum())
    with pytest.raises(OmniLearnError, match="template"):
        classify(event_files, tmp_path / "run2", ClassifyConfig(ideal=False), progress=False)


def test_pythia_default_has_a_resonance_in_the_signal_region(tmp_path):
    from omnilearn.pythia.lhco import SIDECAR, LHCOPythiaConfig, generate

    cfg = LHCOPythiaConfig(num_background=60, num_signal=40, chunk=20, workers=1, num_particles=32, seed=2)
    result = generate(tmp_path / "gen", cfg, progress=False)
    got = _all_splits(result)
    sig, bkg = got["mjj"][got["label"] == 1], got["mjj"][got["label"] == 0]
    assert len(sig) > 10 and len(bkg) > 10
    assert 3000 < np.median(sig) < 3800  # the W' peak
    assert ev.signal_region_mask(sig).mean() > 0.5 > ev.signal_region_mask(bkg).mean()
    assert (got["jet"][:, 0, 0] > 1200).all()
    assert generate(tmp_path / "gen", cfg, progress=False) is None  # cached
    assert (tmp_path / "gen" / SIDECAR).is_file()


def test_fewer_particles_do_not_shift_the_jets(tmp_path, release):
    src, _, truth = release
    got = _all_splits(registry.get("lhco").preprocess(src, tmp_path / "out", progress=False, num_particles=8))
    passing = truth["pass"]
    order, ref = np.argsort(got["mjj"]), np.argsort(truth["mjj"][passing])
    np.testing.assert_allclose(got["mjj"][order], truth["mjj"][passing][ref], rtol=1e-5)
    np.testing.assert_array_equal(got["jet"][order, :, 4], np.minimum(truth["counts"][passing][ref], 8))
    assert got["data"].shape[2] == 8


def test_feature_rebuild_from_generated_quantities(tmp_path, release):
    """The three diffused features and the jet give back every stored feature of real events."""
    got = _all_splits(registry.get("lhco").preprocess(release[0], tmp_path / "out", progress=False))
    data, jet = ev.events_to_jets(got["data"], got["jet"])
    mask = np.any(data != 0, axis=-1)
    diffused = np.zeros_like(data)
    for name in ("delta_eta", "delta_phi", "log_one_minus_pt_frac"):
        c = ev.PARTICLE_FEATURES.index(name)
        diffused[..., c] = data[..., c]
    rebuilt = ev.rebuild_features(diffused, mask, jet)
    real = mask & (data[..., 4] > np.log(1e-5))  # the log floor makes x -> 1 - e^x lossy at the top
    np.testing.assert_allclose(rebuilt[real], data[real], atol=2e-3)
    assert not rebuilt[~mask].any()


def test_mjj_density_sample_stays_in_the_signal_region():
    rng = np.random.default_rng(0)
    m = rng.exponential(800, 20000) + 2300
    x = ev.sample_mjj(m, 5000, rng)
    assert ev.signal_region_mask(x).all()
    sr = m[ev.signal_region_mask(m)]
    # a falling spectrum: more events in the lower half of the region, as in the data
    assert abs((x < 3500).mean() - (sr < 3500).mean()) < 0.03


@pytest.mark.slow
def test_generator_train_and_sample_end_to_end(event_files, tmp_path):
    """Sideband training and signal-region sampling on the tiny events (the generated template's
    use in a classifier differs from the ideal one only in :func:`cwola_sets`, tested above)."""
    from omnilearn.workflows.lhco import GeneratorConfig, sample_signal_region, train_generator

    gen = train_generator(
        event_files, tmp_path / "gen", GeneratorConfig(epochs=1, jet_epochs=1, batch=64, model=TINY), progress=False
    )
    assert len(gen["val_loss"]) == 1 and gen["num_sideband_events"]["train"] > 0
    out = sample_signal_region(tmp_path / "gen", event_files, tmp_path / "sr.h5", num_events=8, steps=2, progress=False)
    assert out["num_events"] == 8
    sampled = ev.read_events(tmp_path / "sr.h5")
    assert ev.signal_region_mask(sampled["mjj"]).all() and not sampled["label"].any()
    real = np.any(sampled["data"] != 0, axis=-1)
    np.testing.assert_array_equal(real.sum(-1), sampled["jet"][..., 4])  # multiplicity = particles generated
    log_pt = np.where(real, sampled["data"][..., 2], -1e9)
    assert (np.diff(log_pt, axis=-1) <= 0).all() and (real[..., :-1] >= real[..., 1:]).all()  # hardest first
    assert np.isfinite(sampled["data"]).all()


def test_summary_over_seeds_and_plots(tmp_path):
    import json

    from omnilearn.workflows.lhco import classify_dir, evaluate, summarize

    sics = {(100, 1): 1.0, (100, 2): 3.0, (100, 3): 2.0, (300, 1): 5.0}
    for (n_sig, seed), sic in sics.items():
        out = classify_dir(tmp_path / "runs", True, False, n_sig, seed)
        out.mkdir(parents=True)
        result = {"n_sig": n_sig, "max_sic": sic, "initial_significance": n_sig / 30, "seconds": 10.0}
        (out / "results.json").write_text(json.dumps(result))
    summary = summarize(tmp_path / "runs")
    assert list(summary) == ["ideal_scratch"]
    rows = summary["ideal_scratch"]
    assert rows["n_sig"] == [100, 300] and rows["median"] == [2.0, 5.0] and rows["n"] == [3, 1]
    assert rows["low"][0] == pytest.approx(1.32) and rows["high"][0] == pytest.approx(2.68)
    written = evaluate(tmp_path / "runs", tmp_path / "no_data", tmp_path / "plots")
    assert (tmp_path / "plots" / "lhco_max_sic.png").stat().st_size > 0
    assert json.loads((tmp_path / "plots" / "lhco_sic.json").read_text()) == summary
    assert len(written["plots"]) == 1
    with pytest.raises(OmniLearnError, match="no classification results"):
        evaluate(tmp_path / "empty", tmp_path, tmp_path / "plots2")


def test_fewer_particles_cap_the_multiplicity_the_models_see(event_files):
    from omnilearn.workflows.lhco import _load

    full = ev.read_events(event_files / "train.h5")
    cut = _load(event_files / "train.h5", 5)
    assert cut["data"].shape[2] == 5
    np.testing.assert_array_equal(cut["jet"][..., 4], np.minimum(full["jet"][..., 4], 5))
    np.testing.assert_array_equal(cut["jet"][..., :4], full["jet"][..., :4])


def test_preprocess_command(tmp_path, release, capsys):
    from omnilearn.cli import main

    out = tmp_path / "out"
    argv = ["preprocess", "--dataset", "lhco", "--input", str(release[0]), "--outdir", str(out), "--quiet"]
    assert main([*argv, "--max_jets", "20"]) == 0
    counts = [ev.count_events(out / f"{s}.h5") for s in ("train", "val", "test")]
    assert 0 < sum(counts) <= 20
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"junk")
    assert main(["preprocess", "--dataset", "lhco", "--input", str(bad), "--outdir", str(tmp_path / "o2")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a readable HDF5 file" in err[0] and not (tmp_path / "o2").exists()


def test_tau21_of_stored_jets():
    """τ21 rebuilt from each jet's stored relative features equals τ21 of its absolute particles;
    a two-particle jet has τ2 = 0, a two-prong spray is below a one-prong one, and padding rows
    past the multiplicity are not particles."""
    pytest.importorskip("fastjet")
    from omnilearn.data.features import particle_features
    from omnilearn.pythia.zjets import tau21
    from omnilearn.workflows.lhco import jet_tau21

    rng = np.random.default_rng(3)
    centres = ([(0.0, 0.0)], [(-0.25, 0.1), (0.25, -0.1)], None)  # one prong, two prongs, a pair
    p, data, jets, truth = 40, [], [], []
    for prongs in centres:
        if prongs is None:
            pt, eta, phi = np.array([600.0, 400.0]), np.array([0.3, -0.2]), np.array([1.0, 1.3])
        else:
            k = rng.integers(len(prongs), size=30)
            pt = rng.exponential(30.0, 30) + 1.0
            eta = np.array([prongs[i][0] for i in k]) + rng.normal(0, 0.03, 30) + 0.5
            phi = np.array([prongs[i][1] for i in k]) + rng.normal(0, 0.03, 30) + 2.0
        order = np.argsort(-pt)
        pt, eta, phi = pt[order], eta[order], phi[order]
        e = pt * np.cosh(eta)
        px, py, pz = (pt * np.cos(phi)).sum(), (pt * np.sin(phi)).sum(), (pt * np.sinh(eta)).sum()
        jpt, jeta, jphi, je = np.hypot(px, py), np.arcsinh(pz / np.hypot(px, py)), np.arctan2(py, px), e.sum()
        rows = np.zeros((p, ev.NUM_PARTICLE_FEATURES), np.float32)
        rows[: len(pt)] = particle_features(pt[None], eta[None], phi[None], e[None], [jpt], [jeta], [jphi], [je])[0]
        data.append(rows)
        jets.append([jpt, jeta, jphi, 0.0, len(pt)])
        truth.append(tau21(pt, eta, phi, e))
    events = {"data": np.stack(data)[None], "jet": np.asarray(jets, np.float32)[None]}
    events = {k: np.concatenate([v[:, :2], v[:, [2, 2]]]) for k, v in events.items()}  # (2 events, 2 jets)
    got = jet_tau21(events)
    np.testing.assert_allclose(got.reshape(-1), [truth[0], truth[1], truth[2], truth[2]], rtol=1e-3, atol=1e-4)
    assert truth[2] == 0.0 and truth[1] < 0.6 * truth[0]
