"""Physics checks of the embedded Pythia 8 + FastJet dataset (real events, a few jets)."""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

import h5py
import numpy as np
import pytest

pytest.importorskip("pythia8mc")
pytest.importorskip("fastjet")

from omnilearn.data.features import PARTICLE_FEATURES, jet_kinematics  # noqa: E402
from omnilearn.data.format import Normalization, inspect_file  # noqa: E402
from omnilearn.pythia.generator import SIDECAR, PythiaConfig, generate, require_physics  # noqa: E402

COL = {name: i for i, name in enumerate(PARTICLE_FEATURES)}
FLAGS = ["is_electron", "is_muon", "is_photon", "is_charged_hadron", "is_neutral_hadron"]
CONFIG = PythiaConfig(classes=("qcd", "top"), jets_per_class=20, workers=1, seed=5)


def _read(path: Path) -> dict[str, np.ndarray]:
    with h5py.File(path, "r") as f:
        out = {k: f[k][:] for k in ("data", "jet", "pid")}
        out["classes"] = [c.decode() if isinstance(c, bytes) else str(c) for c in f.attrs["classes"]]
        out["norm"] = Normalization.from_attrs(f.attrs, str(path))
    return out


def _all(splits: dict[str, dict]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([s[k] for s in splits.values()]) for k in ("data", "jet", "pid")}


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("pythia")
    result = generate(outdir, CONFIG, progress=False)
    return outdir, result, {split: _read(path) for split, path in result.paths.items()}


def test_files_shapes_and_balance(made):
    _, result, splits = made
    assert not result.cached
    sizes = CONFIG.split_sizes()
    assert sum(sizes.values()) == CONFIG.jets_per_class
    for split, s in splits.items():
        n = sizes[split] * 2
        assert s["data"].shape == (n, 150, len(PARTICLE_FEATURES))
        assert s["jet"].shape == (n, 4)
        assert s["classes"] == ["qcd", "top"]
        assert np.bincount(s["pid"], minlength=2).tolist() == [sizes[split]] * 2
        inspect_file(result.paths[split])
    # Both classes present in the training file in mixed order (the writer was given a shuffle).
    assert len(set(splits["train"]["pid"][: sizes["train"]].tolist())) == 2


def test_val_test_carry_train_normalisation(made):
    _, _, splits = made
    train = splits["train"]["norm"]
    for split in ("val", "test"):
        for k in Normalization._fields():
            np.testing.assert_array_equal(getattr(splits[split]["norm"], k), getattr(train, k))


def test_jet_cuts_and_multiplicity(made):
    _, _, splits = made
    a = _all(splits)
    pt, eta, mult = a["jet"][:, 0], a["jet"][:, 1], a["jet"][:, 3]
    assert np.all((pt > CONFIG.pt_min) & (pt < CONFIG.pt_max))
    assert np.all(np.abs(eta) < CONFIG.eta_max)
    real = a["data"][..., COL["log_pt"]] != 0
    np.testing.assert_array_equal(mult, real.sum(1))
    assert mult.mean() > 5 and mult.min() >= 2 and mult.max() <= 150
    # Real particles first, in decreasing pT, zero-padded after.
    assert np.all(real[:, :-1] >= real[:, 1:])
    log_pt = np.where(real, a["data"][..., COL["log_pt"]], -1e9)
    assert np.all(np.diff(log_pt, axis=1)[real[:, 1:]] <= 1e-6)
    assert np.all(a["data"][~real] == 0)


def test_constituents_add_up_to_the_jet(made):
    _, _, splits = made
    a = _all(splits)
    d, jet = a["data"].astype(np.float64), a["jet"].astype(np.float64)
    real = d[..., COL["log_pt"]] != 0
    pt = np.where(real, np.exp(d[..., COL["log_pt"]]), 0.0)
    energy = np.where(real, np.exp(d[..., COL["log_e"]]), 0.0)
    eta = jet[:, 1:2] + d[..., COL["delta_eta"]]
    phi = d[..., COL["delta_phi"]]  # azimuth relative to the jet: pT and mass do not care
    kin = jet_kinematics(pt, eta, phi, energy)
    np.testing.assert_allclose(kin["pt"], jet[:, 0], rtol=1e-4)
    np.testing.assert_allclose(kin["eta"], jet[:, 1], atol=1e-4)
    np.testing.assert_allclose(kin["mass"], jet[:, 2], rtol=1e-3, atol=0.5)
    # The relative coordinates are centred on the jet axis.
    assert np.all(np.abs(kin["phi"]) < 1e-3)
    # FastJet measures distances in rapidity, the features in pseudorapidity: only soft massive
    # hadrons (pT ~ m) can sit outside R in (eta, phi), and they carry almost nothing.
    far = real & (d[..., COL["delta_r"]] > CONFIG.jet_radius + 0.1)
    assert far.sum() < 0.02 * real.sum()
    assert np.all(pt[far] < 0.01 * jet[:, :1].repeat(pt.shape[1], 1)[far])


def test_top_jets_are_heavier_than_qcd(made):
    _, _, splits = made
    a = _all(splits)
    mass = a["jet"][:, 2]
    top, qcd = mass[a["pid"] == 1], mass[a["pid"] == 0]
    # Fully contained hadronic tops peak near 175 GeV; QCD jets here average ~100 GeV.
    assert np.median(top) > 140
    assert top.mean() > qcd.mean() + 25


def test_charge_and_pid_flags_consistent(made):
    _, _, splits = made
    d = _all(splits)["data"]
    real = d[..., COL["log_pt"]] != 0
    p = d[real]
    q = p[:, COL["charge"]]
    flags = p[:, [COL[f] for f in FLAGS]]
    assert set(np.unique(flags).tolist()) <= {0.0, 1.0}
    # Visible stable particles are leptons, photons or hadrons: exactly one flag each.
    np.testing.assert_array_equal(flags.sum(1), 1.0)
    assert set(np.unique(q).tolist()) <= {-1.0, 0.0, 1.0}
    photon, charged_had, neutral_had = (
        p[:, COL[f]] == 1 for f in ("is_photon", "is_charged_hadron", "is_neutral_hadron")
    )
    lepton = (p[:, COL["is_electron"]] == 1) | (p[:, COL["is_muon"]] == 1)
    assert np.all(q[photon] == 0) and np.all(q[neutral_had] == 0)
    assert np.all(np.abs(q[charged_had]) == 1) and np.all(np.abs(q[lepton]) == 1)
    # Jets are mostly charged hadrons and photons (from pi0 decays), with some neutral hadrons.
    assert 0.3 < charged_had.mean() < 0.8 and 0.15 < photon.mean() < 0.6 and neutral_had.any()
    assert np.all(d[~real] == 0)


def test_cache_hit_is_fast_and_untouched(made):
    outdir, result, _ = made
    assert (outdir / SIDECAR).exists()
    mtimes = {p: p.stat().st_mtime_ns for p in result.paths.values()}
    start = time.perf_counter()
    again = generate(outdir, CONFIG, progress=False)
    assert again.cached and time.perf_counter() - start < 2.0
    assert {p: p.stat().st_mtime_ns for p in again.paths.values()} == mtimes
    assert set(again.stats) == {"qcd", "top"} and again.stats["top"].jets == 20
    assert again.made_in == result.made_in == result.seconds > again.seconds  # the making call's time is kept


def test_changed_settings_are_not_a_cache_hit(made, monkeypatch, tmp_path):
    outdir, _, _ = made
    for f in outdir.iterdir():
        shutil.copy(f, tmp_path / f.name)
    from omnilearn.pythia import generator as pythia

    def stop(*args, **kwargs):  # stop where the regeneration would start
        raise RuntimeError("regenerating")

    monkeypatch.setattr(pythia, "generate_samples", stop)
    assert generate(tmp_path, CONFIG, progress=False).cached
    with pytest.raises(RuntimeError, match="regenerating"):
        generate(tmp_path, replace(CONFIG, pt_min=550.0), progress=False)
    # The old files no longer claim to be a complete set of anything.
    assert not (tmp_path / SIDECAR).exists()


def test_same_seed_same_output(made, tmp_path):
    _, _, splits = made
    again = generate(tmp_path, CONFIG, progress=False)
    assert not again.cached
    for split, path in again.paths.items():
        b = _read(path)
        for k in ("data", "jet", "pid"):
            np.testing.assert_array_equal(b[k], splits[split][k])


def test_two_workers_and_an_idle_worker(tmp_path):
    # One jet over two workers: the second task has nothing to do; files stay well-formed.
    config = PythiaConfig(classes=("wqq",), jets_per_class=1, workers=2, seed=2, val_fraction=0, test_fraction=0)
    result = generate(tmp_path, config, progress=False)
    s = _read(result.paths["train"])
    assert s["data"].shape == (1, 150, len(PARTICLE_FEATURES)) and s["pid"].tolist() == [0]
    assert 500 < s["jet"][0, 0] < 1000
    assert inspect_file(result.paths["val"]).num_jets == 0


def test_missing_physics_packages_explain_the_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pythia8mc", None)
    with pytest.raises(ImportError, match=r"pip install -e \"?\.\[physics\]"):
        require_physics()
    with pytest.raises(ImportError, match="physics"):
        generate(tmp_path, CONFIG, progress=False)


def test_config_validation():
    with pytest.raises(ValueError, match="unknown"):
        PythiaConfig(classes=("qcd", "zprime"))
    with pytest.raises(ValueError, match="pt_min"):
        PythiaConfig(pt_min=700, pt_max=600)
    with pytest.raises(ValueError, match="fraction"):
        PythiaConfig(val_fraction=0.5, test_fraction=0.5)
    assert PythiaConfig(pt_min=550, pt_max=650).pthat_range() == (0.85 * 550, 1.25 * 650)


@pytest.mark.slow
def test_all_classes_two_workers_resonance_masses(tmp_path):
    """Each resonance class peaks at its mass; two workers are deterministic too."""
    config = PythiaConfig(jets_per_class=100, workers=2, seed=3)
    result = generate(tmp_path / "a", config, progress=False)
    a = _all({k: _read(p) for k, p in result.paths.items()})
    median = {name: float(np.median(a["jet"][a["pid"] == i, 2])) for i, name in enumerate(config.classes)}
    assert 75 < median["wqq"] < 100
    assert 85 < median["zqq"] < 110
    assert 115 < median["hbb"] < 145
    assert 160 < median["top"] < 195
    assert median["wqq"] < median["zqq"] < median["hbb"] < median["top"]
    for s in result.stats.values():
        assert s.jets == 100 and s.events >= 100
    again = generate(tmp_path / "b", config, progress=False)
    b = _all({k: _read(p) for k, p in again.paths.items()})
    np.testing.assert_array_equal(a["data"], b["data"])


@pytest.mark.slow
def test_more_jetclass_higgs_classes(tmp_path):
    """H → c c̄, g g and W W* → 4q: jets near the Higgs mass; the 5 default classes keep their seeds."""
    from omnilearn.pythia.generator import CLASS_NAMES, PROCESS_NAMES

    assert PROCESS_NAMES[: len(CLASS_NAMES)] == CLASS_NAMES and PROCESS_NAMES[-5:-2] == ("hcc", "hgg", "h4q")
    config = PythiaConfig(classes=("hcc", "hgg", "h4q"), jets_per_class=15, workers=1, seed=3)
    a = _all({k: _read(p) for k, p in generate(tmp_path, config, progress=False).paths.items()})
    for i, name in enumerate(config.classes):
        assert (a["pid"] == i).sum() == 15
        assert 100 < float(np.median(a["jet"][a["pid"] == i, 2])) < 160, name


@pytest.mark.slow
def test_leptonic_jetclass_classes(tmp_path):
    """H → W W* → ℓνqq′ and t → bℓν: most jets hold an electron or a muon (the rest a τ's
    hadrons), of both charges, and the jets are lighter than the resonance (the ν escapes)."""
    from omnilearn.data.features import PARTICLE_FEATURES
    from omnilearn.pythia.generator import PROCESS_NAMES

    assert PROCESS_NAMES[-2:] == ("hlvqq", "tblv")
    config = PythiaConfig(classes=("hlvqq", "tblv"), jets_per_class=15, workers=1, seed=3)
    a = _all({k: _read(p) for k, p in generate(tmp_path, config, progress=False).paths.items()})
    col = {name: PARTICLE_FEATURES.index(name) for name in ("charge", "is_electron", "is_muon")}
    lepton = (a["data"][..., col["is_electron"]] + a["data"][..., col["is_muon"]]) > 0
    charges = a["data"][..., col["charge"]][lepton]
    for i, (name, heavy) in enumerate(zip(config.classes, (125.0, 173.0))):
        sel = a["pid"] == i
        assert sel.sum() == 15
        assert lepton[sel].any(axis=1).mean() > 0.5, name
        assert float(np.median(a["jet"][sel, 2])) < heavy, name
    assert (charges > 0).any() and (charges < 0).any()
