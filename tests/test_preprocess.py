"""Real-format preprocessors: fixtures written in each dataset's public format, converted, and
checked against hand computations."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from omnilearn.data.format import DataFormatError, inspect_file
from omnilearn.datasets import registry

ROOT = Path(__file__).resolve().parents[1]
SPLITS = ("train", "val", "test")


# ----------------------------------------------------------------------------------------------
# Helpers


def _load(outdir: Path) -> dict[str, dict]:
    out = {}
    for split in SPLITS:
        inspect_file(outdir / f"{split}.h5")
        with h5py.File(outdir / f"{split}.h5", "r") as f:
            out[split] = {k: f[k][()] for k in f}
            out[split]["attrs"] = dict(f.attrs)
    return out


def _check_common(out: dict, num_particles: int, classes: tuple[str, ...]) -> None:
    """Shapes, pT order, contiguous padding, multiplicity, classes, shared normalisation."""
    for split, d in out.items():
        n = len(d["pid"])
        assert d["data"].shape == (n, num_particles, 13), split
        assert d["jet"].shape == (n, 4)
        assert [c.decode() if isinstance(c, bytes) else c for c in d["attrs"]["classes"]] == list(classes)
        real = np.any(d["data"] != 0, axis=-1)
        mult = real.sum(1)
        np.testing.assert_array_equal(real, np.arange(num_particles)[None] < mult[:, None])  # padding last
        np.testing.assert_array_equal(d["jet"][:, 3], mult)
        logpt = np.where(real, d["data"][..., 2], -1e9)
        assert np.all(np.diff(logpt, axis=1)[real[:, 1:]] <= 1e-6), f"{split}: not pT-ordered"
        for key in ("particle_mean", "particle_std", "jet_mean", "jet_std"):
            np.testing.assert_array_equal(d["attrs"][key], out["train"]["attrs"][key])


def _expected_features(pt, eta, phi, e, jet_pt, jet_eta, jet_phi, jet_e) -> np.ndarray:
    """Table X kinematic features by hand, rows in decreasing pT."""
    order = np.argsort(-np.asarray(pt))
    pt, eta, phi, e = (np.asarray(a, dtype=np.float64)[order] for a in (pt, eta, phi, e))
    deta = eta - jet_eta
    dphi = (phi - jet_phi + np.pi) % (2 * np.pi) - np.pi
    return np.stack(
        [deta, dphi, np.log(pt), np.log(e), np.log(1 - pt / jet_pt), np.log(1 - e / jet_e), np.sqrt(deta**2 + dphi**2)],
        -1,
    )


def _find_jet(out: dict, jet_pt: float) -> tuple[str, int]:
    hits = [(s, i) for s, d in out.items() for i in np.flatnonzero(np.isclose(d["jet"][:, 0], jet_pt, rtol=1e-5))]
    assert len(hits) == 1, hits
    return hits[0]


def _no_output(outdir: Path) -> bool:
    return not outdir.exists() or not any(outdir.rglob("*"))


# ----------------------------------------------------------------------------------------------
# Top tagging: pandas HDF5, key 'table'

# The hand-checked jet: (pT, eta, phi) of massless constituents, stored out of pT order; its
# axis sits near phi = pi so one constituent's delta phi needs wrapping.
TOP_SPECIAL = np.array([[50.0, 0.5, -3.1], [200.0, -0.2, 3.0], [10.0, 1.0, 2.5]])


def _write_top(path: Path, n: int, rng, fmt: str, special: bool = False, drop: str | None = None) -> np.ndarray:
    """A file as the release: columns E_i, PX_i, PY_i, PZ_i (i < 200), truth*, ttv, is_signal_new."""
    import pandas as pd

    cols = [f"{c}_{i}" for i in range(200) for c in ("E", "PX", "PY", "PZ")]
    vals = np.zeros((n, 800), dtype=np.float32)
    for j in range(n):
        k = int(rng.integers(3, 40))
        pt = np.sort(rng.uniform(1, 100, k))[::-1]
        eta, phi = rng.normal(0, 0.4, k), rng.normal(0, 0.4, k)
        if special and j == 0:
            k, (pt, eta, phi) = 3, TOP_SPECIAL.T
        p4 = np.stack([pt * np.cosh(eta), pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)], -1)
        vals[j, : 4 * k] = p4.reshape(-1)
    df = pd.DataFrame(vals, columns=cols)
    for c in ("truthE", "truthPX", "truthPY", "truthPZ"):
        df[c] = np.float32(0)
    df["ttv"] = np.zeros(n, dtype=np.int64)
    labels = rng.integers(0, 2, n)
    df["is_signal_new"] = labels.astype(np.int64)
    if drop:
        df = df.drop(columns=[drop])
    if fmt == "fixed":
        df.to_hdf(path, key="table", mode="w")
    else:
        df.to_hdf(path, key="table", mode="w", format="table")
    return labels


@pytest.mark.parametrize("fmt", ["fixed", "table"])
def test_top(tmp_path, fmt):
    pytest.importorskip("pandas")
    pytest.importorskip("tables")
    rng = np.random.default_rng(1)
    src = tmp_path / "in"
    src.mkdir()
    sizes = {"train": 30, "val": 10, "test": 12}
    labels = {s: _write_top(src / f"{s}.h5", n, rng, fmt, special=s == "test") for s, n in sizes.items()}
    result = registry.get("top").preprocess(src, tmp_path / "out", progress=False)
    out = _load(tmp_path / "out")
    _check_common(out, 150, ("qcd", "top"))
    assert result.counts == sizes
    for s in SPLITS:
        assert np.sum(out[s]["pid"]) == np.sum(labels[s]) and "weight" not in out[s]

    # The hand computation, from the float32 values the file holds.
    pt, eta, phi = TOP_SPECIAL.T
    px, py, pz, e = (
        np.float64(np.float32(x)) for x in (pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), pt * np.cosh(eta))
    )
    ppt, peta, pphi = np.hypot(px, py), np.arcsinh(pz / np.hypot(px, py)), np.arctan2(py, px)
    jpx, jpy, jpz, je = px.sum(), py.sum(), pz.sum(), e.sum()
    jpt = np.hypot(jpx, jpy)
    split, i = _find_jet(out, jpt)
    assert split == "test"
    row = out[split]["data"][i]
    want = _expected_features(ppt, peta, pphi, e, jpt, np.arcsinh(jpz / jpt), np.arctan2(jpy, jpx), je)
    np.testing.assert_allclose(row[:3, :7], want, rtol=1e-4, atol=1e-5)
    assert abs(row[1, 1]) < 0.3  # phi = -3.1 vs an axis near 3: wrapped, not ~ -6
    assert np.all(row[:, 7:] == 0)  # no PID in this dataset
    mass = np.sqrt(je**2 - jpx**2 - jpy**2 - jpz**2)
    np.testing.assert_allclose(out[split]["jet"][i], [jpt, np.arcsinh(jpz / jpt), mass, 3], rtol=1e-4)


def test_top_malformed(tmp_path):
    pytest.importorskip("pandas")
    pytest.importorskip("tables")
    rng = np.random.default_rng(2)
    src = tmp_path / "in"
    src.mkdir()
    for s in SPLITS:
        _write_top(src / f"{s}.h5", 5, rng, "fixed", drop="PZ_7" if s == "val" else None)
    with pytest.raises(DataFormatError, match=r"val\.h5.*PZ_7"):
        registry.get("top").preprocess(src, tmp_path / "out", progress=False)
    assert _no_output(tmp_path / "out")
    (src / "test.h5").unlink()
    with pytest.raises(DataFormatError, match=r"test\.h5"):
        registry.get("top").preprocess(src, tmp_path / "out", progress=False)


# ----------------------------------------------------------------------------------------------
# Quark/gluon: QG_jets*.npz with X = (pT, y, phi, pid)

# (pT, rapidity, phi, PDG id) of the hand-checked jet, out of pT order.
QG_SPECIAL = np.array(
    [[20.0, -0.5, 1.2, 11], [100.0, 0.3, 1.0, 211], [40.0, 0.1, 0.8, 22], [5.0, 0.0, 1.5, 2112], [60.0, 0.2, 0.9, -321]]
)
# Expected (charge, e, mu, photon, charged hadron, neutral hadron) in decreasing pT: pi+, K-, gamma, e-, n.
QG_PID = np.array(
    [[1, 0, 0, 0, 1, 0], [-1, 0, 0, 0, 1, 0], [0, 0, 0, 1, 0, 0], [-1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 1]]
)
QG_MASS = {11: 0.000511, 211: 0.139570, 22: 0.0, 2112: 0.939565, 321: 0.493677}


def _write_qg(
    path: Path, n: int, m: int, rng, special: bool = False, bad_pid: bool = False, ncol: int = 4
) -> np.ndarray:
    x = np.zeros((n, m, 4))
    y = rng.integers(0, 2, n).astype(np.float64)
    for j in range(n):
        k = int(rng.integers(2, m))
        x[j, :k, 0] = rng.uniform(1, 50, k)
        x[j, :k, 1] = rng.normal(0, 0.2, k)
        x[j, :k, 2] = rng.normal(1.0, 0.2, k)
        x[j, :k, 3] = rng.choice([22, 211, -211, 321, -321, 130, 2112, -2212, 11, -13], k)
    if special:
        x[0] = 0
        x[0, :5] = QG_SPECIAL
        y[0] = 1
    if bad_pid:
        x[n - 1, 0, 3] = 3122  # a Lambda: not a final-state particle of this sample
    np.savez_compressed(path, X=x[..., :ncol], y=y)
    return y


def test_qg(tmp_path):
    rng = np.random.default_rng(3)
    src = tmp_path / "in"
    src.mkdir()
    y = np.concatenate(
        [_write_qg(src / "QG_jets.npz", 30, 20, rng, special=True), _write_qg(src / "QG_jets_1.npz", 20, 25, rng)]
    )
    for other in ("QG_jets_withbc_0.npz", "QG_jets_herwig_0.npz"):  # other samples in the cache: skipped
        _write_qg(src / other, 5, 5, rng, ncol=3)
    result = registry.get("qg").preprocess(src, tmp_path / "out", progress=False)
    out = _load(tmp_path / "out")
    _check_common(out, 100, ("gluon", "quark"))
    assert result.counts == {"train": 40, "val": 5, "test": 5}
    assert sum(int(d["pid"].sum()) for d in out.values()) == int(y.sum())
    assert int(out["train"]["pid"].sum()) == int(y[:40].sum())  # the first 80 % in file order

    pt, rap, phi, pid = QG_SPECIAL.T
    m = np.array([QG_MASS[abs(int(p))] for p in pid])
    mt = np.sqrt(pt**2 + m**2)
    eta, e = np.arcsinh(mt * np.sinh(rap) / pt), mt * np.cosh(rap)
    jpx, jpy, jpz, je = (pt * np.cos(phi)).sum(), (pt * np.sin(phi)).sum(), (mt * np.sinh(rap)).sum(), e.sum()
    jpt = np.hypot(jpx, jpy)
    split, i = _find_jet(out, jpt)
    row = out[split]["data"][i]
    assert split == "train" and out[split]["pid"][i] == 1
    want = _expected_features(pt, eta, phi, e, jpt, np.arcsinh(jpz / jpt), np.arctan2(jpy, jpx), je)
    np.testing.assert_allclose(row[:5, :7], want, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(row[:5, 7:], QG_PID)
    assert np.all(row[5:] == 0)


def test_qg_malformed(tmp_path):
    rng = np.random.default_rng(4)
    src = tmp_path / "in"
    src.mkdir()
    _write_qg(src / "QG_jets.npz", 10, 8, rng)
    _write_qg(src / "QG_jets_1.npz", 10, 8, rng, ncol=3)
    with pytest.raises(DataFormatError, match=r"QG_jets_1\.npz.*'X'.*\(10, 8, 3\)"):
        registry.get("qg").preprocess(src, tmp_path / "out", progress=False)
    assert _no_output(tmp_path / "out")
    # An unknown particle in the last jet is only met mid-stream: nothing may be left either.
    _write_qg(src / "QG_jets_1.npz", 10, 8, rng, bad_pid=True)
    (tmp_path / "out").mkdir()
    with pytest.raises(DataFormatError, match=r"QG_jets_1\.npz.*3122"):
        registry.get("qg").preprocess(src, tmp_path / "out", progress=False, max_jets=None)
    assert _no_output(tmp_path / "out") and (tmp_path / "out").is_dir()


# ----------------------------------------------------------------------------------------------
# CMS Open Data: MOD HDF5 (energyflow.mod) SIM files

MOD_JETS_I = ["fn", "rn", "lbn", "evn", "npv", "quality", "hard_pid"]
MOD_JETS_F = [
    "jet_pt",
    "jet_y",
    "jet_phi",
    "jet_m",
    "jet_eta",
    "jec",
    "jet_area",
    "jet_max_nef",
    "gen_jet_pt",
    "gen_jet_y",
    "gen_jet_phi",
    "gen_jet_m",
    "gen_jet_eta",
    "hard_pt",
    "hard_y",
    "hard_phi",
    "weight",
]
MOD_PFCS = ["pt", "y", "phi", "m", "pid", "vertex"]
# (pT, y, phi, m, pid) of the hand-checked quark jet's PFCs; the 0.5 GeV one fails the 1 GeV cut.
CMS_SPECIAL = np.array(
    [
        [80.0, 0.1, 0.6, 0.0, 22],
        [150.0, 0.2, 0.5, 0.13957, 211],
        [0.5, 0.2, 0.5, 0.13957, -211],
        [40.0, 0.3, 0.4, 0.0, 130],
        [30.0, 0.25, 0.55, 0.000511, -11],
        [10.0, 0.0, 0.45, 0.0, 2],
        [20.0, 0.15, 0.5, 0.10566, 13],
    ]
)
CMS_JET = (400.0, 0.2, 0.5, 30.0)  # pt, eta, phi, m
# In decreasing pT: pi+, gamma, K0L-like neutral hadron, e+, mu-, HF EM (photon).
CMS_PID = np.array(
    [
        [1, 0, 0, 0, 1, 0],
        [0, 0, 0, 1, 0, 0],
        [0, 0, 0, 0, 0, 1],
        [1, 1, 0, 0, 0, 0],
        [-1, 0, 1, 0, 0, 0],
        [0, 0, 0, 1, 0, 0],
    ]
)


def _write_mod(path: Path, hard_pids, rng, special: int | None = None, drop_pfc_col: str | None = None) -> None:
    n = len(hard_pids)
    jets_i = np.zeros((n, len(MOD_JETS_I)), dtype=np.int64)
    jets_i[:, -1] = hard_pids
    jets_f = np.zeros((n, len(MOD_JETS_F)))
    pfcs, index = [], [0]
    for j in range(n):
        if j == special:
            parts = np.concatenate([CMS_SPECIAL, np.zeros((7, 1))], 1)
            pt, eta, phi, m = CMS_JET
        else:
            k = int(rng.integers(3, 30))
            parts = np.stack(
                [
                    rng.uniform(0.3, 60, k),
                    rng.normal(0, 0.2, k),
                    rng.normal(0, 0.2, k),
                    np.zeros(k),
                    rng.choice([211, -211, 22, 130, 11, -13, 1, 2], k),
                    np.zeros(k),
                ],
                1,
            )
            pt, eta, phi, m = rng.uniform(500, 900), rng.normal(0, 0.5), rng.normal(0, 0.5), rng.uniform(10, 100)
        jets_f[j, [0, 4, 2, 3]] = pt, eta, phi, m
        pfcs.append(parts)
        index.append(index[-1] + len(parts))
    pfc_cols = [c for c in MOD_PFCS if c != drop_pfc_col]
    pfcs = np.concatenate(pfcs)[:, [MOD_PFCS.index(c) for c in pfc_cols]]
    with h5py.File(path, "w") as f:
        for name, arr, cols in (
            ("jets_i", jets_i, MOD_JETS_I),
            ("jets_f", jets_f, MOD_JETS_F),
            ("pfcs", pfcs, pfc_cols),
        ):
            f.create_dataset(name, data=arr, compression="gzip").attrs.create("cols", np.asarray(cols, dtype="S"))
        f.create_dataset("pfcs_index", data=np.asarray(index, dtype=np.uint32))
        f.create_dataset("filenames", data=np.asarray([[b"470", b"file.root"]]))


def test_cms(tmp_path):
    rng = np.random.default_rng(5)
    src = tmp_path / "SIM470_Jet300_pT375-infGeV"
    src.mkdir()
    # 16 uds quarks (the smaller class, so all kept), 24 gluons, 20 c/b/unmatched jets.
    pids = rng.permutation([1, -1, 2, -2, 3, -3, 1, 2] * 2 + [21] * 24 + [4, -4, 5, -5, 0] * 4)
    special = int(np.flatnonzero(np.abs(pids) == 2)[0])
    _write_mod(src / "SIM470_Jet300_pT375-infGeV_0_compressed.h5", pids[:35], rng, special=special)
    _write_mod(src / "SIM470_Jet300_pT375-infGeV_1_compressed.h5", pids[35:], rng)
    result = registry.get("cms").preprocess(tmp_path, tmp_path / "out", progress=False)
    out = _load(tmp_path / "out")
    _check_common(out, 100, ("gluon", "quark"))
    assert result.counts == {"train": 22, "val": 6, "test": 4}  # 32 balanced jets, 70/20/10
    labels = np.concatenate([out[s]["pid"] for s in SPLITS])
    assert labels.sum() == 16 and len(labels) == 32
    for d in out.values():  # PFC pT >= 1 GeV
        real = np.any(d["data"] != 0, -1)
        assert np.all(d["data"][..., 2][real] >= 0)

    split, i = _find_jet(out, CMS_JET[0])
    row = out[split]["data"][i]
    assert out[split]["pid"][i] == 1
    keep = CMS_SPECIAL[:, 0] >= 1
    pt, rap, phi, m, _ = CMS_SPECIAL[keep].T
    mt = np.sqrt(pt**2 + m**2)
    eta, e = np.arcsinh(mt * np.sinh(rap) / pt), mt * np.cosh(rap)
    jpt, jeta, jphi, jm = CMS_JET
    je = np.sqrt((jpt * np.cosh(jeta)) ** 2 + jm**2)
    np.testing.assert_allclose(
        row[:6, :7], _expected_features(pt, eta, phi, e, jpt, jeta, jphi, je), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_array_equal(row[:6, 7:], CMS_PID)
    np.testing.assert_allclose(out[split]["jet"][i], [jpt, jeta, jm, 6], rtol=1e-5)


def test_cms_malformed(tmp_path):
    rng = np.random.default_rng(6)
    _write_mod(tmp_path / "SIM_0.h5", [1, 21, 2, 21], rng, drop_pfc_col="pid")
    with pytest.raises(DataFormatError, match=r"SIM_0\.h5.*'pfcs'.*\['pid'\]"):
        registry.get("cms").preprocess(tmp_path / "SIM_0.h5", tmp_path / "out", progress=False)
    assert _no_output(tmp_path / "out")


# ----------------------------------------------------------------------------------------------
# ATLAS top tagging open data

ATLAS_SPECIAL = np.array([[100e3, 0.3, -0.8], [300e3, 0.1, -1.0], [50e3, -0.2, -1.3]])  # MeV, out of order
ATLAS_JET = (450e3, 0.1, -1.0, 170e3)


def _write_atlas(
    path: Path, n: int, rng, special: bool = False, weight_key: str = "training_weights", eta_width: int = 200
) -> np.ndarray:
    pt, phi = np.zeros((n, 200), np.float32), np.zeros((n, 200), np.float32)
    eta = np.zeros((n, eta_width), np.float32)
    for j in range(n):
        k = int(rng.integers(3, 150))
        pt[j, :k] = np.sort(rng.uniform(1e3, 1e5, k))[::-1]
        eta[j, : min(k, eta_width)] = rng.normal(0, 0.3, min(k, eta_width))
        phi[j, :k] = rng.normal(0, 0.3, k)
    jet = np.stack(
        [rng.uniform(350e3, 3e6, n), rng.normal(0, 1, n), rng.uniform(-3, 3, n), rng.uniform(40e3, 250e3, n)]
    )
    if special:
        pt[0], eta[0], phi[0] = 0, 0, 0
        pt[0, :3], eta[0, :3], phi[0, :3] = ATLAS_SPECIAL.T
        jet[:, 0] = ATLAS_JET
    weights = rng.uniform(0.1, 5.0, n).astype(np.float32)
    with h5py.File(path, "w") as f:
        f["fjet_clus_pt"], f["fjet_clus_eta"], f["fjet_clus_phi"] = pt, eta, phi
        f["fjet_clus_E"] = (pt * np.cosh(eta[:, :200] if eta_width == 200 else 0)).astype(np.float32)
        for k, v in zip(("fjet_pt", "fjet_eta", "fjet_phi", "fjet_m"), jet):
            f[k] = v.astype(np.float32)
        f["labels"] = rng.integers(0, 2, n)
        f[weight_key] = weights
        f["fjet_C2"] = rng.uniform(size=n).astype(np.float32)  # a high-level feature, unused
    return weights


@pytest.mark.parametrize("weight_key", ["training_weights", "weights"])
def test_atlas(tmp_path, weight_key):
    rng = np.random.default_rng(7)
    src = tmp_path / "in"
    src.mkdir()
    _write_atlas(src / "train.h5", 100, rng, weight_key=weight_key)
    w_test = _write_atlas(src / "test.h5", 20, rng, special=True, weight_key=weight_key)
    result = registry.get("atlas").preprocess(src, tmp_path / "out", progress=False)
    out = _load(tmp_path / "out")
    _check_common(out, 120, ("qcd", "top"))
    assert result.counts == {"train": 80, "val": 20, "test": 20}
    for d in out.values():
        assert d["weight"].shape == d["pid"].shape
        np.testing.assert_allclose(d["weight"].mean(), 1.0, rtol=1e-5)
    ratio = np.sort(out["test"]["weight"]) / np.sort(w_test)  # rescaled, not reshaped
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-5)

    split, i = _find_jet(out, ATLAS_JET[0] / 1e3)
    assert split == "test"
    pt, eta, phi = ATLAS_SPECIAL.T
    pt = np.float64(np.float32(pt)) / 1e3
    eta, phi = np.float64(np.float32(eta)), np.float64(np.float32(phi))
    e = np.float64(np.float32(pt * 1e3 * np.cosh(eta))) / 1e3
    jpt, jeta, jphi, jm = (np.float64(np.float32(v)) for v in ATLAS_JET)
    jpt, jm = jpt / 1e3, jm / 1e3
    je = np.sqrt((jpt * np.cosh(jeta)) ** 2 + jm**2)
    row = out[split]["data"][i]
    np.testing.assert_allclose(
        row[:3, :7], _expected_features(pt, eta, phi, e, jpt, jeta, jphi, je), rtol=1e-5, atol=1e-6
    )
    assert np.all(row[:, 7:] == 0)
    np.testing.assert_allclose(out[split]["jet"][i], [jpt, jeta, jm, 3], rtol=1e-5)


def test_atlas_small(tmp_path):
    rng = np.random.default_rng(8)
    src = tmp_path / "in"
    src.mkdir()
    _write_atlas(src / "train.h5", 100, rng)
    _write_atlas(src / "test.h5", 20, rng)
    assert registry.get("atlas_small").converter_options["train_fraction"] == 0.1
    result = registry.get("atlas_small").preprocess(src, tmp_path / "out", progress=False)
    assert result.counts == {"train": 8, "val": 2, "test": 20}  # 10 % of the training jets, full test


def test_atlas_malformed(tmp_path):
    rng = np.random.default_rng(9)
    src = tmp_path / "in"
    src.mkdir()
    _write_atlas(src / "train.h5", 10, rng)
    _write_atlas(src / "test.h5", 10, rng, eta_width=100)
    with pytest.raises(DataFormatError, match=r"test\.h5.*fjet_clus_eta \(10, 100\)"):
        registry.get("atlas").preprocess(src, tmp_path / "out", progress=False)
    assert _no_output(tmp_path / "out")
    _write_atlas(src / "test.h5", 10, rng, weight_key="w")
    with pytest.raises(DataFormatError, match=r"test\.h5.*training_weights or weights"):
        registry.get("atlas").preprocess(src, tmp_path / "out", progress=False)
    assert _no_output(tmp_path / "out")


# ----------------------------------------------------------------------------------------------
# H1: ROOT minitrees (the layout documented in omnilearn.datasets.h1)

H1_SPECIAL_JETS = {"jet_pt": [8.0, 25.0], "jet_eta": [0.5, 1.0], "jet_phi": [0.3, -2.0], "jet_m": [1.0, 4.0]}
# (pT, eta, phi, charge, jet index): particle 2 belongs to the other jet, particle 4 is outside -1.5 < eta < 2.75.
H1_SPECIAL_PARTS = np.array(
    [
        [2.0, 1.2, -2.05, -1, 1],
        [6.0, 0.5, 0.3, 1, 0],
        [12.0, 1.1, -2.1, 1, 1],
        [3.0, 2.9, -2.0, -1, 1],
        [9.0, 0.9, -1.9, 0, 1],
    ]
)


def _h1_event(rng, good: bool) -> tuple[dict, dict, dict]:
    """One event: event-level values, jets, particles (all passing the cuts when ``good``)."""
    ev = {
        "Q2": rng.uniform(160, 900),
        "y": rng.uniform(0.25, 0.65),
        "ptmiss": rng.uniform(0, 8),
        "Empz": rng.uniform(47, 63),
    }
    if not good:  # fail exactly one of the cuts
        key, value = [("Q2", 120.0), ("y", 0.1), ("y", 0.75), ("ptmiss", 12.0), ("Empz", 40.0)][rng.integers(5)]
        ev[key] = value
    nj = int(rng.integers(1, 4))
    jets = {
        "jet_pt": rng.uniform(11, 30, nj),
        "jet_eta": rng.uniform(-0.5, 2.0, nj),
        "jet_phi": rng.uniform(-3, 3, nj),
        "jet_m": rng.uniform(0.5, 5, nj),
    }
    rows = []
    for j in range(nj):
        k = int(rng.integers(1, 8))
        rows.append(
            np.stack(
                [
                    rng.uniform(0.2, 5, k),
                    jets["jet_eta"][j] + rng.normal(0, 0.2, k),
                    jets["jet_phi"][j] + rng.normal(0, 0.2, k),
                    rng.integers(-1, 2, k),
                    np.full(k, j),
                ],
                1,
            )
        )
    parts = np.concatenate(rows)
    return ev, jets, parts


def _write_h1(path: Path, generator: str, events: list, drop: str | None = None, relative: bool = False) -> None:
    """``relative``: particle pT, E as fractions of their jet's, eta, phi as offsets from its axis."""
    import awkward as ak
    import uproot

    def part_record(parts_list, cols):
        return {
            name: ak.Array([p[:, c].astype(int if name == "idx" else float).tolist() for p in parts_list])
            for name, c in cols
        }

    data = {k: np.array([ev[k] for ev, _, _ in events]) for k in ("Q2", "y", "ptmiss", "Empz")}
    jets = {k: ak.Array([list(j[k]) for _, j, _ in events]) for k in ("jet_pt", "jet_eta", "jet_phi", "jet_m")}
    jet_e = ak.Array(
        [
            list(np.sqrt((np.array(j["jet_pt"]) * np.cosh(j["jet_eta"])) ** 2 + np.array(j["jet_m"]) ** 2))
            for _, j, _ in events
        ]
    )
    data["jet"] = ak.zip({"pt": jets["jet_pt"], "eta": jets["jet_eta"], "phi": jets["jet_phi"], "e": jet_e})
    parts = [np.concatenate([p, (p[:, 0] * np.cosh(p[:, 1]))[:, None]], 1) for _, _, p in events]  # + energy
    if relative:
        for p, (_, j, _), e in zip(parts, events, jet_e):
            k = p[:, 4].astype(int)
            p[:, 0] /= np.asarray(j["jet_pt"])[k]
            p[:, 5] /= np.asarray(e)[k]
            p[:, 1] -= np.asarray(j["jet_eta"])[k]
            p[:, 2] -= np.asarray(j["jet_phi"])[k]
    rec = part_record(parts, [("pt", 0), ("eta", 1), ("phi", 2), ("charge", 3), ("idx", 4), ("e", 5)])
    if drop:
        rec.pop(drop)
    data["jet_part"] = ak.zip(rec)
    with uproot.recreate(path) as f:
        types = {k: (v.dtype if isinstance(v, np.ndarray) else v.type) for k, v in data.items()}
        tree = f.mktree(f"{generator}/minitree", types)  # a TTree (assigning a dict writes an RNTuple)
        tree.extend(data)


def test_h1(tmp_path):
    pytest.importorskip("uproot")
    rng = np.random.default_rng(10)
    src = tmp_path / "in"
    src.mkdir()
    # Djangoh: 30 events, all passing; Rapgap: 20, of which 12 pass (so none is thinned away).
    django = [_h1_event(rng, True) for _ in range(30)]
    good = [True] + list(rng.permutation([True] * 11 + [False] * 8))  # event 0: the hand-checked one
    rapgap = [_h1_event(rng, g) for g in good]
    ev = {"Q2": 500.0, "y": 0.4, "ptmiss": 2.0, "Empz": 55.0}
    rapgap[0] = (ev, {k: np.array(v) for k, v in H1_SPECIAL_JETS.items()}, H1_SPECIAL_PARTS)
    _write_h1(src / "Django_Eplus0607_1.root", "Django", django)
    _write_h1(src / "Rapgap_Eplus0607_1.root", "Rapgap", rapgap)
    result = registry.get("h1").preprocess(src, tmp_path / "out", progress=False)
    out = _load(tmp_path / "out")
    _check_common(out, 30, ("djangoh", "rapgap"))
    assert result.counts == {"train": 16, "val": 3, "test": 5}  # 12 + 12 events, 70/15/15
    labels = np.concatenate([out[s]["pid"] for s in SPLITS])
    assert labels.sum() == 12

    jpt, jeta, jphi, jm = (H1_SPECIAL_JETS[k][1] for k in ("jet_pt", "jet_eta", "jet_phi", "jet_m"))
    split, i = _find_jet(out, jpt)
    assert out[split]["pid"][i] == 1
    sel = (H1_SPECIAL_PARTS[:, 4] == 1) & (H1_SPECIAL_PARTS[:, 1] < 2.75)
    pt, eta, phi, q, _ = H1_SPECIAL_PARTS[sel].T
    je = np.sqrt((jpt * np.cosh(jeta)) ** 2 + jm**2)
    row = out[split]["data"][i]
    np.testing.assert_allclose(
        row[:3, :7], _expected_features(pt, eta, phi, pt * np.cosh(eta), jpt, jeta, jphi, je), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_array_equal(row[:3, 7], [1, 0, -1])  # charges in decreasing pT
    assert np.all(row[:, 8:] == 0)  # no particle type: no PID flags
    np.testing.assert_allclose(out[split]["jet"][i], [jpt, jeta, jm, 3], rtol=1e-4)

    # The same events with relative particle kinematics give the same files.
    rel = tmp_path / "rel"
    rel.mkdir()
    _write_h1(rel / "Django_Eplus0607_1.root", "Django", django, relative=True)
    _write_h1(rel / "Rapgap_Eplus0607_1.root", "Rapgap", rapgap, relative=True)
    registry.get("h1").preprocess(rel, tmp_path / "out_rel", relative=True, progress=False)
    for split, d in _load(tmp_path / "out_rel").items():
        np.testing.assert_array_equal(d["pid"], out[split]["pid"])
        np.testing.assert_allclose(d["data"], out[split]["data"], rtol=1e-5, atol=1e-5)


def test_h1_malformed(tmp_path):
    pytest.importorskip("uproot")
    rng = np.random.default_rng(11)
    src = tmp_path / "in"
    src.mkdir()
    _write_h1(src / "Django_1.root", "Django", [_h1_event(rng, True) for _ in range(5)])
    with pytest.raises(DataFormatError, match="both generators"):
        registry.get("h1").preprocess(src, tmp_path / "out", progress=False)
    _write_h1(src / "Rapgap_1.root", "Rapgap", [_h1_event(rng, True) for _ in range(5)], drop="idx")
    with pytest.raises(DataFormatError, match=r"Rapgap_1\.root.*jet_part_idx"):
        registry.get("h1").preprocess(src, tmp_path / "out", progress=False)
    assert _no_output(tmp_path / "out")


# ----------------------------------------------------------------------------------------------
# JetClass: ROOT files <Process>_<NNN>.root in train_100M/, val_5M/, test_20M/, TTree 'tree'

JC_FLAGS = ("isChargedHadron", "isNeutralHadron", "isPhoton", "isElectron", "isMuon")
JC_LABELS = ("QCD", "Hbb", "Hcc", "Hgg", "H4q", "Hqql", "Zqq", "Wqq", "Tbqq", "Tbl")
# The hand-checked jet: (pT, eta, phi, charge, flag index), out of pT order, one of each type,
# near phi = pi so that one delta phi wraps.
JC_SPECIAL = np.array(
    [
        [30.0, 0.3, 3.1, 1, 0],
        [80.0, 0.1, -3.0, 0, 1],
        [5.0, -0.2, 2.9, 0, 2],
        [50.0, 0.2, 3.05, -1, 3],
        [12.0, 0.0, -3.1, 1, 4],
    ]
)


def _jc_jet(rng, special: bool = False) -> np.ndarray:
    """Particles (pT, eta, phi, charge, flag index) of one jet."""
    if special:
        return JC_SPECIAL
    k = int(rng.integers(3, 40))
    axis_eta, axis_phi = rng.uniform(-2, 2), rng.uniform(-np.pi, np.pi)
    kind = rng.integers(0, 5, k)
    charge = np.where(np.isin(kind, (0, 3, 4)), rng.choice([-1, 1], k), 0)
    return np.stack(
        [
            rng.uniform(1, 60, k),
            axis_eta + rng.normal(0, 0.3, k),
            (axis_phi + rng.normal(0, 0.3, k) + np.pi) % (2 * np.pi) - np.pi,
            charge,
            kind,
        ],
        1,
    )


def _write_jetclass(
    path: Path, label: int, jets: list, drop: str | None = None, two_labels: bool | tuple[int, ...] = False
) -> np.ndarray:
    """One JetClass file (massless particles; the jet = their sum), branches as in the release;
    ``two_labels``: every jet (True) or the jets at these indices get a second label set."""
    import awkward as ak
    import uproot

    parts: dict[str, list] = {
        k: []
        for k in ("px", "py", "pz", "energy", "deta", "dphi", "d0val", "d0err", "dzval", "dzerr", "charge") + JC_FLAGS
    }
    jet = {k: [] for k in ("pt", "eta", "phi", "energy", "nparticles", "sdmass", "tau1", "tau2", "tau3", "tau4")}
    for p in jets:
        pt, eta, phi, q, kind = p.T
        px, py, pz, e = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), pt * np.cosh(eta)
        jpx, jpy, jpz, je = px.sum(), py.sum(), pz.sum(), e.sum()
        jpt = np.hypot(jpx, jpy)
        jet["pt"].append(jpt)
        jet["eta"].append(np.arcsinh(jpz / jpt))
        jet["phi"].append(np.arctan2(jpy, jpx))
        jet["energy"].append(je)
        jet["nparticles"].append(len(pt))
        for k in ("sdmass", "tau1", "tau2", "tau3", "tau4"):
            jet[k].append(1.0)
        for k, v in zip(("px", "py", "pz", "energy", "charge"), (px, py, pz, e, q)):
            parts[k].append(v.tolist())
        for k in ("deta", "dphi", "d0val", "d0err", "dzval", "dzerr"):
            parts[k].append([0.0] * len(pt))
        for i, flag in enumerate(JC_FLAGS):
            parts[flag].append((kind == i).astype(float).tolist())
    rec = {k: ak.values_astype(ak.Array(v), np.float32) for k, v in parts.items()}
    data = {"part": ak.zip({k: v for k, v in rec.items() if f"part_{k}" != drop})}
    data.update({f"jet_{k}": np.asarray(v, dtype=np.float32) for k, v in jet.items()})
    second = (
        np.isin(np.arange(len(jets)), two_labels) if isinstance(two_labels, tuple) else np.full(len(jets), two_labels)
    )
    for i, name in enumerate(JC_LABELS):
        data[f"label_{name}"] = (i == label) | (second & (i == (label + 1) % 10))
    data.pop(drop, None)
    path.parent.mkdir(parents=True, exist_ok=True)
    with uproot.recreate(path) as f:
        types = {k: (v.dtype if isinstance(v, np.ndarray) else v.type) for k, v in data.items()}
        f.mktree("tree", types).extend(data)
    return data["jet_pt"]


# (file name, label): three processes, each with a training and a validation file.
JC_FILES = [("ZJetsToNuNu", 0), ("HToBB", 1), ("TTBarLep", 9)]


def _jetclass_release(root: Path, rng, n_train: int = 20, n_val: int = 4) -> dict[str, np.ndarray]:
    """train_100M/ and val_5M/ (no test_20M/); returns the jet pTs written per split, sorted."""
    pts = {"train": [], "val": []}
    for split, directory, n, number in (("train", "train_100M", n_train, "000"), ("val", "val_5M", n_val, "120")):
        for process, label in JC_FILES:
            special = split == "train" and process == "TTBarLep"
            jets = [_jc_jet(rng, special and j == 3) for j in range(n)]
            pts[split].append(_write_jetclass(root / directory / f"{process}_{number}.root", label, jets))
    return {k: np.sort(np.concatenate(v)) for k, v in pts.items()}


def test_jetclass(tmp_path):
    pytest.importorskip("uproot")
    rng = np.random.default_rng(13)
    src = tmp_path / "JetClass" / "Pythia"
    pts = _jetclass_release(src, rng)
    # block=5, buffer=1: the output order is the read order, so it shows the interleaving.
    result = registry.get("jetclass").preprocess(src, tmp_path / "out", progress=False, block=5, buffer=1)
    out = _load(tmp_path / "out")
    _check_common(out, 150, JC_LABELS)
    assert result.counts == {"train": 60, "val": 12, "test": 0}  # the release's split; no test_20M/ given
    for split in ("train", "val"):  # every jet stays in its directory's split
        np.testing.assert_allclose(np.sort(out[split]["jet"][:, 0]), pts[split], rtol=1e-5)
    np.testing.assert_array_equal(np.bincount(out["train"]["pid"], minlength=10), [20, 20] + [0] * 7 + [20])
    np.testing.assert_array_equal(np.bincount(out["val"]["pid"], minlength=10), [4, 4] + [0] * 7 + [4])
    train_pid = out["train"]["pid"]
    assert len(set(train_pid[:30])) == 3 and np.count_nonzero(np.diff(train_pid)) > 4, train_pid  # interleaved

    pt, eta, phi, q, _ = JC_SPECIAL.T
    e = pt * np.cosh(eta)
    px, py, pz = (pt * np.cos(phi)).sum(), (pt * np.sin(phi)).sum(), (pt * np.sinh(eta)).sum()
    jpt, jeta, jphi, je = np.hypot(px, py), np.arcsinh(pz / np.hypot(px, py)), np.arctan2(py, px), e.sum()
    split, i = _find_jet(out, jpt)
    assert split == "train" and out[split]["pid"][i] == 9
    row = out[split]["data"][i]
    np.testing.assert_allclose(
        row[:5, :7], _expected_features(pt, eta, phi, e, jpt, jeta, jphi, je), rtol=1e-5, atol=1e-5
    )
    # decreasing pT: neutral hadron, electron, charged hadron, muon, photon
    np.testing.assert_array_equal(row[:5, 7], [0, -1, 1, 1, 0])
    np.testing.assert_array_equal(
        row[:5, 8:], [[0, 0, 0, 0, 1], [1, 0, 0, 0, 0], [0, 0, 0, 1, 0], [0, 1, 0, 0, 0], [0, 0, 1, 0, 0]]
    )
    assert np.all(row[5:] == 0)
    mass = np.sqrt(je**2 - px**2 - py**2 - pz**2)  # the stored jet's four-vector mass
    np.testing.assert_allclose(out[split]["jet"][i], [jpt, jeta, mass, 5], rtol=1e-4)

    # The script, with --max_jets spread over the files of each split (3 + 2 + 2), hyphen-spelled.
    cmd = [
        sys.executable,
        str(ROOT / "scripts" / "preprocess.py"),
        "--dataset",
        "jetclass",
        "--input",
        str(src),
        "--outdir",
        str(tmp_path / "cli"),
        "--max-jets",
        "7",
        "--quiet",
    ]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert {s: len(d["pid"]) for s, d in _load(tmp_path / "cli").items()} == {"train": 7, "val": 7, "test": 0}


@pytest.mark.parametrize(
    "case", ["not_root", "missing_branch", "missing_label", "two_labels", "charged_photon", "no_train", "no_split_dir"]
)
def test_jetclass_malformed(tmp_path, case):
    pytest.importorskip("uproot")
    rng = np.random.default_rng(14)
    src = tmp_path / "in"
    if case != "no_train":
        _write_jetclass(src / "train_100M" / "ZJetsToNuNu_000.root", 0, [_jc_jet(rng) for _ in range(6)])
    _write_jetclass(src / "val_5M" / "ZJetsToNuNu_120.root", 0, [_jc_jet(rng) for _ in range(3)])
    bad = src / ("other" if case == "no_split_dir" else "train_100M") / "HToCC_000.root"
    # the last jet: a photon, charged only in the 'charged_photon' case
    jets = [_jc_jet(rng) for _ in range(5)] + [np.array([[20.0, 0.1, 0.2, case == "charged_photon", 2]])]
    expected = {
        "not_root": r"HToCC_000\.root: not a ROOT file",
        "missing_branch": r"HToCC_000\.root: missing branch.*part_isMuon",
        "missing_label": r"HToCC_000\.root: missing branch.*label_Tbl",
        "two_labels": r"HToCC_000\.root: entry 0: not exactly one label_\* set \(6 entries\)",
        "charged_photon": r"HToCC_000\.root: entry 5: a particle's charge contradicts its type flag",
        "no_train": r"in: no train_\* directory",
        "no_split_dir": r"HToCC_000\.root: not inside a train_\*, val_\* or test_\* directory",
    }[case]
    if case == "not_root":
        bad.parent.mkdir(parents=True, exist_ok=True)
        bad.write_text("not a ROOT file")
    elif case != "no_train":
        _write_jetclass(
            bad,
            2,
            jets,
            drop={"missing_branch": "part_isMuon", "missing_label": "label_Tbl"}.get(case),
            two_labels=case == "two_labels",
        )
    with pytest.raises(DataFormatError, match=expected):
        registry.get("jetclass").preprocess(src, tmp_path / "out", progress=False)
    assert _no_output(tmp_path / "out")


# ----------------------------------------------------------------------------------------------
# Registry and script


@pytest.mark.parametrize("name", ["top", "qg", "cms", "atlas", "atlas_small", "h1", "jetclass"])
def test_registry(name, tmp_path):
    import importlib

    ds = registry.get(name)
    module = importlib.import_module(ds.converter)
    assert ds.classes == module.CLASSES and ds.name == name
    assert ds.files(tmp_path, "val") == [tmp_path / name / "val.h5"]


def test_registry_without_converter(tmp_path):
    with pytest.raises(NotImplementedError):
        registry.get("pythia").preprocess(tmp_path, tmp_path / "out")


def test_script(tmp_path):
    rng = np.random.default_rng(12)
    src = tmp_path / "in"
    src.mkdir()
    _write_qg(src / "QG_jets.npz", 40, 10, rng)
    cmd = [
        sys.executable,
        str(ROOT / "scripts" / "preprocess.py"),
        "--dataset",
        "qg",
        "--input",
        str(src),
        "--outdir",
        str(tmp_path / "out"),
        "--max_jets",
        "20",
        "--num_particles",
        "12",
        "--quiet",
    ]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    out = _load(tmp_path / "out")
    assert {s: len(d["pid"]) for s, d in out.items()} == {"train": 16, "val": 2, "test": 2}
    assert out["train"]["data"].shape[1] == 12
    bad = subprocess.run(
        cmd[:5] + [str(tmp_path / "missing"), "--outdir", str(tmp_path / "o2")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert bad.returncode == 1 and "missing" in bad.stderr and not (tmp_path / "o2").exists()


# ----------------------------------------------------------------------------------------------
# Bad values: one error naming the file and the first bad jet (the inputs of the fault matrix)


@pytest.mark.parametrize("case", ["nan", "label", "empty", "strings", "truncated"])
@pytest.mark.parametrize("dataset", ["top", "qg", "cms", "atlas", "h1", "jetclass", "jetnet30"])
def test_bad_values_name_the_file_and_the_first_bad_jet(tmp_path, dataset, case):
    """NaN, a label out of range, a jet without particles, numbers stored as strings, a cut-off
    file: one DataFormatError naming the file (and the first bad jet), nothing written. A
    converter may instead drop what its documented selection drops (CMS: an unknown parton,
    H1: an event whose leading jet keeps no particle)."""
    from test_faults import ACCEPTED, BAD, CONVERTERS, NOT_APPLICABLE, ROW_CASES, _damage_bytes

    if (dataset, case) in NOT_APPLICABLE:
        pytest.skip(NOT_APPLICABLE[dataset, case])
    pytest.importorskip("uproot" if dataset in ("h1", "jetclass") else "h5py")
    if dataset == "top":
        pytest.importorskip("tables")
    src = tmp_path / "in"
    src.mkdir()
    input_path, bad = CONVERTERS[dataset](src, case, np.random.default_rng(0))
    _damage_bytes(bad, case)
    if case in ACCEPTED.get(dataset, {}):
        registry.get(dataset).preprocess(input_path, tmp_path / "out", progress=False)
        return
    with pytest.raises(DataFormatError) as err:
        registry.get(dataset).preprocess(input_path, tmp_path / "out", progress=False)
    message = str(err.value)
    assert bad.name in message and "\n" not in message
    if (dataset, case) in ROW_CASES:
        assert re.search(rf"\b(jet|entry|event) {BAD}\b", message), message
    assert _no_output(tmp_path / "out")


def test_the_shared_check_names_the_input_row_of_the_first_bad_jet(tmp_path):
    """write_splits checks every converted block (finite, labels 0..C-1, at least one particle)
    and names the *input* row of the first bad jet, skipped rows included."""
    from omnilearn.datasets.convert import Rows, Source, write_splits

    def read(start, stop, keep):
        n = int(keep.sum())
        data = np.zeros((n, 4, 13), np.float32)
        data[:, 0, :3] = 1.0
        data[-1] = 0.0  # the last kept jet of the block has no particle
        return Rows(data, np.ones((n, 4), np.float32), np.zeros(n, np.int32))

    assign = np.array([0, -1, 1, -1, 2, 0, -1, 0], dtype=np.int8)  # input row 7 is the last kept one
    with pytest.raises(DataFormatError, match=r"^src\.h5: jet 7: no particle .*\(1 jet in this block\)$"):
        write_splits([Source("src.h5", assign, read)], tmp_path / "out", ["a", "b"], 4, progress=False)
    assert _no_output(tmp_path / "out")


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", ""])
    proc.wait()
    return proc.pid


def test_staging_directories_of_killed_runs_are_removed_by_the_next_run(tmp_path):
    """A kill -9 leaves ``.staging-<host>-<pid>-*``; the next run removes those whose writer is
    gone (same host, process dead; or, for another host or an old name, unchanged for an hour),
    never a live writer's, and finishes the moves of one killed while moving its files out."""
    import os
    import socket
    import time

    from omnilearn.datasets.convert import COMMITTING, STAGING

    host, out = socket.gethostname(), tmp_path / "out"
    dead, live = _dead_pid(), os.getppid()
    folders = {
        "dead": f"{STAGING}{host}-{dead}-abc",
        "live": f"{STAGING}{host}-{live}-abc",
        "other_host_recent": f"{STAGING}elsewhere-{dead}-abc",
        "other_host_old": f"{STAGING}elsewhere-{dead}-def",
        "old_name_old": f"{STAGING}x1y2z3",
        "committing": f"{STAGING}{host}-{dead}-ghi",
    }
    for name in folders.values():
        (out / name).mkdir(parents=True)
        (out / name / "train.h5.tmp").write_bytes(b"partial")
    for key in ("other_host_old", "old_name_old"):
        for p in (out / folders[key], out / folders[key] / "train.h5.tmp"):
            os.utime(p, (time.time() - 2 * 3600,) * 2)
    # killed between moving train.h5 and val.h5 out: val and test still in staging
    committing = out / folders["committing"]
    (committing / COMMITTING).write_text("train.h5\nval.h5\ntest.h5")
    (out / "train.h5").write_text("new train")
    for split in ("val", "test"):
        (committing / f"{split}.h5").write_text(f"new {split}")

    rng = np.random.default_rng(12)
    src = tmp_path / "in"
    src.mkdir()
    _write_qg(src / "QG_jets.npz", 40, 10, rng)
    (src / "QG_jets_1.npz").write_text("not an npz")  # the run itself stops on a bad input
    with pytest.raises(DataFormatError, match="QG_jets_1.npz"):
        registry.get("qg").preprocess(src, out, progress=False)
    left = sorted(p.name for p in out.iterdir())
    assert left == sorted(["test.h5", "train.h5", "val.h5", folders["live"], folders["other_host_recent"]])
    assert [(out / f"{s}.h5").read_text() for s in SPLITS] == ["new train", "new val", "new test"]


@pytest.mark.parametrize(
    "dataset, present",
    [("top", 7), ("qg", 13), ("cms", 13), ("atlas", 7), ("h1", 8), ("jetclass", 13), ("jetnet30", 7)],
)
def test_converted_files_record_the_features_their_dataset_has(tmp_path, dataset, present):
    """Top tagging, ATLAS and JetNet have no charge or particle type, H1 the charge only: their
    files say which columns are real (``present_features``), so a model trained with PID warns."""
    from test_faults import CONVERTERS

    from omnilearn.data.features import PARTICLE_FEATURES

    pytest.importorskip("uproot" if dataset in ("h1", "jetclass") else "h5py")
    if dataset == "top":
        pytest.importorskip("tables")
    src = tmp_path / "in"
    src.mkdir()
    input_path, _ = CONVERTERS[dataset](src, None, np.random.default_rng(0))
    registry.get(dataset).preprocess(input_path, tmp_path / "out", progress=False)
    for split in SPLITS:
        assert inspect_file(tmp_path / "out" / f"{split}.h5").present_features == PARTICLE_FEATURES[:present]
