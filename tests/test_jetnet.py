"""JetNet preprocessing: fixtures written here in the released JetNet layout, converted to the
unified format with JetNet's split, and converted back."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from omnilearn.data.format import DataFormatError, inspect_file
from omnilearn.datasets import registry
from omnilearn.datasets.jetnet import export_unified, read_jetnet, unified_to_jetnet

SPLITS = ("train", "val", "test")


def make_class(n: int, p: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random jets in JetNet's layout: particles (n, p, 4) pT-ordered with mask, jets (n, 4)."""
    mult = rng.integers(1, p + 1, n)
    mult[0] = p  # one full jet
    particles = np.zeros((n, p, 4), np.float32)
    for i, m in enumerate(mult):
        ptrel = np.sort(rng.dirichlet(np.ones(m + 1))[:m] * 0.97)[::-1]
        particles[i, :m, 0] = rng.normal(0, 0.15, m)
        particles[i, :m, 1] = rng.normal(0, 0.15, m)
        particles[i, :m, 2] = ptrel
        particles[i, :m, 3] = 1
    jets = np.stack(
        [rng.uniform(800, 1200, n), rng.uniform(-2, 2, n), rng.uniform(10, 200, n), mult + rng.integers(0, 20, n)], -1
    ).astype(np.float32)
    return particles, jets


def write_class(path: Path, particles, jets, typed: int | None = None) -> None:
    with h5py.File(path, "w") as f:
        f["particle_features"] = particles
        f["jet_features"] = jets if typed is None else np.concatenate([np.full((len(jets), 1), typed), jets], 1)


@pytest.fixture
def jetnet_dir(tmp_path) -> tuple[Path, dict]:
    rng = np.random.default_rng(3)
    truth = {}
    for t, n in (("g", 41), ("t", 37), ("z", 52)):
        truth[t] = make_class(n, 30, rng)
        write_class(tmp_path / f"{t}.hdf5", *truth[t])
    return tmp_path, truth


def _read(outdir: Path) -> dict:
    out = {}
    for split in SPLITS:
        inspect_file(outdir / f"{split}.h5")
        with h5py.File(outdir / f"{split}.h5", "r") as f:
            out[split] = {k: f[k][()] for k in ("data", "jet", "pid")}
            out[split]["classes"] = [c.decode() if isinstance(c, bytes) else c for c in f.attrs["classes"]]
    return out


def test_round_trip_and_jetnet_split(jetnet_dir, tmp_path):
    indir, truth = jetnet_dir
    result = registry.get("jetnet30").preprocess(indir, tmp_path / "out", progress=False)
    out = _read(tmp_path / "out")
    assert result.classes == ("g", "t", "z")
    # JetNet.getData: classes concatenated in g,q,t,w,z order, np.random.seed(42) permutation, 70/15/15
    all_particles = np.concatenate([truth[t][0] for t in ("g", "t", "z")])
    all_jets = np.concatenate([truth[t][1] for t in ("g", "t", "z")])
    labels = np.repeat([0, 1, 2], [len(truth[t][1]) for t in ("g", "t", "z")])
    n = len(all_jets)
    np.random.seed(42)
    perm = np.random.permutation(n)
    cuts = (np.cumsum([0, 0.7, 0.15, 0.15]) * n).astype(int)
    for s, split in enumerate(SPLITS):
        d = out[split]
        assert d["classes"] == ["g", "t", "z"]
        assert d["data"].shape[1:] == (30, 13)
        expected = perm[cuts[s] : cuts[s + 1]]
        # jet pT identifies a jet (continuous random values)
        assert sorted(d["jet"][:, 0].tolist()) == sorted(all_jets[expected, 0].tolist())
        index = {float(pt): i for i, pt in enumerate(all_jets[:, 0])}
        rows = np.array([index[float(pt)] for pt in d["jet"][:, 0]])
        np.testing.assert_array_equal(d["pid"], labels[rows])
        # unified features by hand: delta eta/phi are the relative coordinates, no PID
        real = all_particles[rows][..., 3] == 1
        np.testing.assert_array_equal(np.any(d["data"] != 0, -1), real)
        np.testing.assert_allclose(d["data"][..., 0][real], all_particles[rows][..., 0][real], atol=1e-6)
        pt = all_particles[rows][..., 2].astype(np.float64) * all_jets[rows, :1]
        np.testing.assert_allclose(d["data"][..., 2][real], np.log(pt[real]), rtol=1e-6, atol=1e-6)
        assert np.all(d["data"][..., 7:] == 0)
        np.testing.assert_array_equal(d["jet"][:, 3], real.sum(1))
        # and back to JetNet's layout
        particles, jets = unified_to_jetnet(d["data"], d["jet"])
        np.testing.assert_allclose(particles, all_particles[rows], rtol=2e-5, atol=2e-6)
        np.testing.assert_allclose(jets[:, :3], all_jets[rows, :3], rtol=1e-6)


def test_sampled_particle_without_momentum_is_masked_out(tmp_path):
    """A generated log(1 − pT/pT_jet) ≥ 0 (pT_rel ≤ 0) is no particle: masked out, not counted,
    and the written file reads back (read_jetnet refuses mask 1 with pT_rel ≤ 0)."""
    from omnilearn.data.features import PARTICLE_FEATURES
    from omnilearn.datasets.jetnet import write_jetnet

    col = PARTICLE_FEATURES.index("log_one_minus_pt_frac")
    data = np.zeros((1, 4, len(PARTICLE_FEATURES)))
    data[0, :3, 0] = [0.1, -0.2, 0.05]
    data[0, :3, col] = [np.log(1 - 0.5), 0.3, 0.0]  # pT_rel 0.5, −0.35, 0
    particles, jets = unified_to_jetnet(data, np.array([[1000.0, 0.5, 80.0, 3.0]]))
    np.testing.assert_array_equal(particles[0, :, 3], [1, 0, 0, 0])
    np.testing.assert_allclose(particles[0, 0, :3], [0.1, 0.0, 0.5], rtol=1e-6)
    assert np.all(particles[0, 1:] == 0) and jets[0, 3] == 1
    back, _ = read_jetnet(write_jetnet(tmp_path / "t.hdf5", particles, jets))
    np.testing.assert_array_equal(back, particles)


def test_typed_layout_reads_the_same(jetnet_dir, tmp_path):
    indir, truth = jetnet_dir
    typed = tmp_path / "typed"
    typed.mkdir()
    for i, t in enumerate(("g", "t", "z")):
        write_class(typed / f"{t}.hdf5", *truth[t], typed=i)
    registry.get("jetnet30").preprocess(indir, tmp_path / "a", progress=False, seed=5)
    registry.get("jetnet30").preprocess(typed, tmp_path / "b", progress=False, seed=5)
    a, b = _read(tmp_path / "a"), _read(tmp_path / "b")
    for split in SPLITS:
        for key in ("data", "jet", "pid"):
            np.testing.assert_array_equal(a[split][key], b[split][key])


def test_export_then_preprocess_round_trip(jetnet_dir, tmp_path):
    """Unified → JetNet files (as for the Pythia jets) → unified gives the same jets."""
    indir, _ = jetnet_dir
    registry.get("jetnet30").preprocess(indir, tmp_path / "u", progress=False)
    files = [tmp_path / "u" / f"{s}.h5" for s in SPLITS]
    written = export_unified(files, tmp_path / "exported", {"t": "t", "z": "z"})
    assert sorted(written) == ["t", "z"]
    particles, jets = read_jetnet(written["t"])
    assert particles.shape[1:] == (30, 4) and jets.shape[1] == 4
    registry.get("jetnet30").preprocess(tmp_path / "exported", tmp_path / "u2", progress=False)
    first = {s: _read(tmp_path / "u")[s] for s in SPLITS}
    again = _read(tmp_path / "u2")
    before = np.concatenate([first[s]["jet"][first[s]["pid"] > 0, 0] for s in SPLITS])
    after = np.concatenate([again[s]["jet"][:, 0] for s in SPLITS])
    assert sorted(before.tolist()) == sorted(after.tolist())


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda f: f.__delitem__("jet_features"), "missing dataset"),
        (lambda f: (f.__delitem__("jet_features"), f.create_dataset("jet_features", data=np.ones((3, 4)))), "jets in"),
        (lambda f: f["particle_features"].__setitem__((0, 0, 3), 0.5), "mask column"),
        (lambda f: f["particle_features"].__setitem__((0, 0, 0), np.nan), "non-finite"),
    ],
)
def test_bad_file_is_one_clear_error(jetnet_dir, tmp_path, damage, message):
    indir, _ = jetnet_dir
    with h5py.File(indir / "t.hdf5", "a") as f:
        damage(f)
    out = tmp_path / "out"
    with pytest.raises(DataFormatError, match=message) as err:
        registry.get("jetnet30").preprocess(indir, out, progress=False)
    assert "t.hdf5" in str(err.value)
    assert not out.exists() or not any(out.iterdir())  # nothing half-written


def test_no_class_file_is_an_error(tmp_path):
    (tmp_path / "x.hdf5").write_bytes(b"")
    with pytest.raises(DataFormatError, match="no JetNet class file"):
        registry.get("jetnet150").preprocess(tmp_path, tmp_path / "out", progress=False)


@pytest.mark.slow
def test_scripts_preprocess_train_sample_evaluate(tmp_path):
    """The whole JetNet chain as a user runs it, on a fixture in the released layout, with a
    tiny model: pretrained (5 classes) → fine-tuned generator on 3 JetNet classes → samples
    (jet model and "ideal") → metrics, table and plots."""
    import json
    import subprocess
    import sys

    from omnilearn.config import ModelConfig
    from omnilearn.models import OmniLearn
    from omnilearn.training import checkpoint

    root = Path(__file__).resolve().parents[1]

    def run(*args):
        out = subprocess.run(
            [sys.executable, *map(str, args)], cwd=tmp_path, capture_output=True, text=True, timeout=600
        )
        assert out.returncode == 0, out.stderr[-3000:]
        return out.stdout

    rng = np.random.default_rng(0)
    raw = tmp_path / "raw"
    raw.mkdir()
    for t in ("t", "w", "z"):
        write_class(raw / f"{t}.hdf5", *make_class(120, 30, rng))
    run(
        root / "scripts" / "preprocess.py",
        "--dataset",
        "jetnet30",
        "--input",
        raw,
        "--outdir",
        "data/jetnet30",
        "--quiet",
    )
    # a "pretrained" checkpoint with 5 classes, as the quick start's pretraining leaves one
    cfg = ModelConfig(
        num_classes=5,
        projection_dim=16,
        num_layers=1,
        num_heads=2,
        K=3,
        num_class_layers=1,
        num_gen_layers=1,
        num_fourier=16,
    )
    pre = OmniLearn(cfg, mode="all")
    pre.generator(
        {
            "encoded": np.zeros((1, 2, 16)),
            "jet": np.zeros((1, 4)),
            "label": np.zeros((1, 5)),
            "time": np.zeros((1, 1)),
            "mask": np.ones((1, 2)),
        }
    )
    checkpoint.save(pre, tmp_path / "pre" / "best", classes=list("abcde"))
    train = [
        "--dataset",
        "jetnet30",
        "--batch",
        "32",
        "--epoch",
        "2",
        "--warm_epoch",
        "0",
        "--no_jit",
        "--jet_epochs",
        "2",
        "--pretrained",
        tmp_path / "pre" / "best",
    ]
    run("-m", "omnilearn", "finetune", *train, "--fine_tune")  # -> runs/jetnet30_omnilearn, runs/jetnet30_jets
    run(root / "scripts" / "train_jetnet.py", *train, "--model_from", tmp_path / "pre" / "best")  # the shim
    meta = checkpoint.read_meta(tmp_path / "runs" / "jetnet30_omnilearn" / "best")
    assert meta["classes"] == ["t", "w", "z"] and meta["mode"] == "generator"
    assert meta["model"]["projection_dim"] == 16
    # the run-folder rule: runs/jetnet30_<run> and runs/jetnet30_jets → samples/jetnet30_<run>[_ideal]
    for extra in ([], ["--ideal"]):
        run("-m", "omnilearn", "sample", "--dataset", "jetnet30", "--run", "omnilearn", "--steps", "3", *extra)
    run(root / "scripts" / "sample_jetnet.py", "--dataset", "jetnet30", "--run", "scratch", "--steps", "3")
    test_counts = np.bincount(h5py.File(tmp_path / "data" / "jetnet30" / "test.h5")["pid"][()], minlength=3)
    for t, n in zip(("t", "w", "z"), test_counts):
        particles, jets = read_jetnet(tmp_path / "samples" / "jetnet30_omnilearn" / f"{t}.hdf5")
        assert particles.shape == (n, 30, 4)
        np.testing.assert_array_equal(particles[..., 3].sum(1), jets[:, 3])  # masked to the multiplicity
        assert np.all(particles[..., 2][particles[..., 3] == 1] > 0)
    # every sample folder the rule names is found and labelled as the paper's rows
    out = run("-m", "omnilearn", "evaluate", "--dataset", "jetnet30", "--cov_batches", "1")
    results = json.loads((tmp_path / "plots" / "jetnet" / "jetnet30_generation.json").read_text())
    assert set(results) == {"OmniLearn", "OmniLearn (Ideal)", "PET generator"}
    assert set(results["OmniLearn"]) == {"t", "w", "z"}
    assert results["OmniLearn"]["t"]["w1m"][0] > 0
    assert "| Top quark | OmniLearn (Ideal) |" in out and "| W boson | paper (JetNet, Table VI): OmniLearn |" in out
    assert (tmp_path / "plots" / "jetnet" / "jetnet30_generation.png").stat().st_size > 10_000
    assert (tmp_path / "plots" / "jetnet" / "jetnet30_losses.png").stat().st_size > 10_000
