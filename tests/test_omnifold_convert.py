"""The OmniFold Z+jet converter on fixtures written in the released layout (energyflow zjets_delphes)."""

from __future__ import annotations

import numpy as np
import pytest

from omnilearn.data import paired
from omnilearn.data.features import PARTICLE_FEATURES
from omnilearn.data.format import DataFormatError
from omnilearn.datasets import omnifold, registry

M = 12  # padded particle slots in the fixture files
CODES = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3])


def release_file(path, n, seed, **override):
    """One ``<Tune>_Zjet_pTZ-200GeV_<i>.npz`` as released: gen_* and sim_* arrays, gen_Zs."""
    rng = np.random.default_rng(seed)
    arrays = {"gen_Zs": np.stack([rng.uniform(200, 400, n), rng.normal(size=n), rng.uniform(-np.pi, np.pi, n)], -1)}
    for lvl in ("gen", "sim"):
        mult = rng.integers(3, M + 1, n)
        parts = np.zeros((n, M, 4))
        for i, m in enumerate(mult):
            parts[i, :m, 0] = rng.exponential(0.1, m) + 0.01  # pT / 100
            parts[i, :m, 1:3] = rng.normal(0, 0.1, (m, 2))
            parts[i, :m, 3] = rng.choice(CODES, m)
        jets = np.stack(
            [rng.uniform(200, 300, n), rng.normal(0, 1, n), rng.uniform(-3, 3, n), rng.uniform(5, 60, n)], -1
        )
        arrays |= {
            f"{lvl}_jets": jets,
            f"{lvl}_particles": parts,
            f"{lvl}_mults": mult.astype(np.float64),
            f"{lvl}_widths": rng.uniform(0.01, 0.3, n),
            f"{lvl}_tau2s": rng.uniform(0.005, 0.1, n),
            f"{lvl}_sdms": rng.uniform(1, 50, n),
            f"{lvl}_zgs": rng.uniform(0.1, 0.5, n),
            f"{lvl}_lhas": rng.uniform(0, 1, n),
            f"{lvl}_ang2s": rng.uniform(0, 1, n),
        }
    arrays |= override
    arrays = {k: v for k, v in arrays.items() if v is not None}
    np.savez_compressed(path, **arrays)
    return arrays


@pytest.fixture
def release(tmp_path):
    src = tmp_path / "zenodo"
    src.mkdir()
    files = {}
    for prefix, seed in (("Herwig", 10), ("Pythia26", 20), ("Pythia21", 30)):
        files[prefix] = [release_file(src / f"{prefix}_Zjet_pTZ-200GeV_{i}.npz", 25, seed + i) for i in range(2)]
    return src, files


def test_converts_both_samples_into_disjoint_paired_splits(release, tmp_path):
    src, files = release
    result = omnifold.preprocess(src, tmp_path / "out", progress=False)
    assert result.counts == {
        "mc_train": 40, "mc_val": 5, "mc_test": 5, "data_train": 40, "data_val": 5, "data_test": 5
    }  # fmt: skip
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        f"{s}_{k}.h5" for s in ("mc", "data") for k in ("train", "val", "test")
    )
    # the sequence split in order: train = file 0 + the first 15 of file 1, test = the last 5 of file 1
    herwig = files["Herwig"]
    for lvl in ("gen", "sim"):
        train = paired.read_level(tmp_path / "out" / "data_train.h5", lvl)
        test = paired.read_level(tmp_path / "out" / "data_test.h5", lvl)
        np.testing.assert_allclose(train.obs[:25, 0], herwig[0][f"{lvl}_jets"][:, 3], rtol=1e-6)
        np.testing.assert_allclose(test.obs[:, 0], herwig[1][f"{lvl}_jets"][20:, 3], rtol=1e-6)
        mc = paired.read_level(tmp_path / "out" / "mc_train.h5", lvl)
        np.testing.assert_allclose(mc.obs[:25, 1], files["Pythia26"][0][f"{lvl}_mults"], rtol=1e-6)


def test_observables_and_features_follow_the_released_arrays(release, tmp_path):
    src, files = release
    omnifold.preprocess(src, tmp_path / "out", progress=False)
    f = files["Herwig"][0]
    sim = paired.read_level(tmp_path / "out" / "data_train.h5", "sim")
    n = 25
    expected = np.stack(
        [
            f["sim_jets"][:, 3],
            f["sim_mults"],
            f["sim_widths"],
            2 * np.log(f["sim_sdms"] / f["sim_jets"][:, 0]),
            f["sim_tau2s"] / f["sim_widths"],
            f["sim_zgs"],
        ],
        -1,
    )
    np.testing.assert_allclose(sim.obs[:n], expected, rtol=1e-5)
    # one jet's particles: multiplicity, pT order and the PID columns of every code
    col = {name: i for i, name in enumerate(PARTICLE_FEATURES)}
    for i in range(n):
        parts = f["sim_particles"][i]
        real = parts[:, 0] > 0
        assert sim.jet[i, 3] == real.sum()
        rows = sim.data[i, : real.sum()]
        order = np.argsort(-parts[real, 0], kind="stable")
        codes = np.rint(parts[real, 3][order] * 10).astype(int)
        charge = np.array([0, 1, -1, 0, -1, 1, -1, 1, 1, -1, 1, -1, 0, 0])[codes]
        np.testing.assert_array_equal(rows[:, col["charge"]], charge)
        np.testing.assert_array_equal(rows[:, col["is_photon"]], codes == 0)
        np.testing.assert_array_equal(rows[:, col["is_electron"]], np.isin(codes, (4, 5)))
        np.testing.assert_array_equal(rows[:, col["is_muon"]], np.isin(codes, (6, 7)))
        np.testing.assert_array_equal(rows[:, col["is_neutral_hadron"]], np.isin(codes, (3, 12, 13)))
        np.testing.assert_array_equal(rows[:, col["is_charged_hadron"]], np.isin(codes, (1, 2, 8, 9, 10, 11)))
        np.testing.assert_allclose(np.exp(rows[:, col["log_pt"]]), 100 * parts[real, 0][order], rtol=1e-5)
        assert not sim.data[i, real.sum() :].any()


def test_other_tunes_and_a_cap_on_events(release, tmp_path):
    src, files = release
    result = omnifold.preprocess(src, tmp_path / "out", mc="pythia21", max_jets=30, progress=False)
    assert result.counts["mc_train"] == 24 and result.counts["mc_test"] == 3
    mc = paired.read_level(tmp_path / "out" / "mc_train.h5", "gen")
    np.testing.assert_allclose(mc.obs[:24, 0], files["Pythia21"][0]["gen_jets"][:24, 3], rtol=1e-6)
    with pytest.raises(ValueError, match="two different"):
        omnifold.preprocess(src, tmp_path / "x", data="herwig", mc="herwig")


def test_registered_as_a_paired_dataset(tmp_path):
    ds = registry.get("omnifold")
    assert ds.layout == "paired" and ds.files(tmp_path, "val") == [
        tmp_path / "omnifold" / "mc_val.h5",
        tmp_path / "omnifold" / "data_val.h5",
    ]
    assert registry.get("omnifold_pythia").classes == ("mc", "data")


@pytest.mark.parametrize(
    "override, message",
    [
        ({"sim_zgs": None}, r"missing arrays \['sim_zgs'\]"),
        ({"sim_mults": np.ones(24)}, "gen and sim must be paired"),
        ({"gen_widths": np.full(25, np.nan)}, "non-finite values in gen_widths"),
        ({"gen_particles": np.zeros((25, 4))}, r"gen_particles must be \(N, M, 4\)"),
    ],
)
def test_bad_input_is_one_clear_error_and_nothing_is_written(release, tmp_path, override, message):
    src, _ = release
    release_file(src / "Herwig_Zjet_pTZ-200GeV_1.npz", 25, 11, **override)
    with pytest.raises(DataFormatError, match=message) as err:
        omnifold.preprocess(src, tmp_path / "out", progress=False)
    assert "Herwig_Zjet_pTZ-200GeV_1.npz" in str(err.value)
    assert not list((tmp_path / "out").rglob("*.h5*"))


def test_unknown_pid_code_and_missing_files(release, tmp_path):
    src, files = release
    bad = files["Herwig"][1]["gen_particles"].copy()
    bad[0, 0, 3] = 1.7
    release_file(src / "Herwig_Zjet_pTZ-200GeV_1.npz", 25, 11, gen_particles=bad)
    with pytest.raises(DataFormatError, match="unknown particle-id code"):
        omnifold.preprocess(src, tmp_path / "out", progress=False)
    with pytest.raises(DataFormatError, match="no pythia25 OmniFold Z\\+jet files"):
        omnifold.preprocess(src, tmp_path / "out", mc="pythia25", progress=False)


def test_preprocess_command(release, tmp_path, capsys):
    from omnilearn.cli import main

    src, _ = release
    argv = ["preprocess", "--dataset", "omnifold", "--input", str(src), "--data_dir", str(tmp_path), "--quiet"]
    assert main([*argv, "--num_particles", "8"]) == 0
    assert "mc_train" in capsys.readouterr().out
    gen = paired.read_level(tmp_path / "omnifold" / "mc_train.h5", "gen")
    assert gen.data.shape == (40, 8, 13)
    assert main([*argv, "--input", str(tmp_path / "nothing")]) == 1  # one line, exit code 1
    err = capsys.readouterr().err
    assert "no such file or directory" in err and len(err.strip().splitlines()) == 1
