"""The unified HDF5 format: UnifiedWriter (atomicity, statistics, input checks) and inspect_file."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from omnilearn.data.features import JET_FEATURES, PARTICLE_FEATURES
from omnilearn.data.format import DataFormatError, Normalization, UnifiedWriter, inspect_file

P, F = 20, len(PARTICLE_FEATURES)
CLASSES = ["qcd", "top", "w"]


def fake_jets(rng: np.random.Generator, n: int, num_particles: int = P) -> tuple[np.ndarray, ...]:
    """``n`` jets: data (n, P, F) zero-padded after a random multiplicity, jet (n, 4), pid (n,).

    Kinematic columns are Gaussians with distinct means/scales; the PID flags are one-hot, and
    ``is_muon`` never fires, so it is a constant column.
    """
    mult = rng.integers(1, num_particles + 1, n)
    real = np.arange(num_particles)[None, :] < mult[:, None]
    data = np.zeros((n, num_particles, F), np.float32)
    data[..., :8] = rng.normal(loc=np.arange(8) * 0.5 - 1, scale=np.arange(1, 9) * 0.3, size=(n, num_particles, 8))
    data[..., 1] *= 3.0  # delta_phi wider than delta_eta: the common scale must differ from both
    flag = rng.choice([8, 10, 11, 12], size=(n, num_particles))
    np.put_along_axis(data, flag[..., None], 1.0, axis=-1)
    data[~real] = 0.0
    jet = np.stack([rng.uniform(300, 900, n), rng.normal(0, 1, n), rng.uniform(10, 200, n), mult], -1).astype(
        np.float32
    )
    return data, jet, rng.integers(0, len(CLASSES), n).astype(np.int32)


def write(path: Path, n: int = 500, seed: int = 0, classes=CLASSES, **kw) -> tuple[Path, tuple[np.ndarray, ...]]:
    rng = np.random.default_rng(seed)
    data, jet, pid = fake_jets(rng, n)
    with UnifiedWriter(path, num_particles=P, classes=classes, chunk=64, **kw) as w:
        for a in range(0, n, 128):  # several appends, uneven last one
            w.append(data[a : a + 128], jet[a : a + 128], pid[a : a + 128])
    return path, (data, jet, pid)


# --------------------------------------------------------------------------------------------
# UnifiedWriter


def test_round_trip(tmp_path):
    path, (data, jet, pid) = write(tmp_path / "train.h5")
    info = inspect_file(path)
    assert (info.num_jets, info.num_particles, info.num_features) == (500, P, F)
    assert info.classes == tuple(CLASSES) and not info.has_weight
    with h5py.File(path, "r") as f:
        np.testing.assert_array_equal(f["data"][:], data)
        np.testing.assert_array_equal(f["jet"][:], jet)
        np.testing.assert_array_equal(f["pid"][:], pid)
        assert [s.decode() if isinstance(s, bytes) else s for s in f.attrs["particle_features"]] == list(
            PARTICLE_FEATURES
        )
    assert not path.with_name(path.name + ".tmp").exists()


def test_files_record_the_features_really_present(tmp_path):
    """``present_features``: the columns the source provides (a dataset without PID leaves the
    charge and flags at 0 and says so); a file written before the attribute counts as all."""
    kinematic = PARTICLE_FEATURES[:7]
    path, _ = write(tmp_path / "top.h5", present_features=kinematic)
    info = inspect_file(path)
    assert info.present_features == kinematic and info.particle_features == PARTICLE_FEATURES
    path, _ = write(tmp_path / "old.h5")
    with h5py.File(path, "a") as f:
        del f.attrs["present_features"]
    assert inspect_file(path).present_features == PARTICLE_FEATURES
    with pytest.raises(ValueError, match=r"\['spin'\] are not among the columns"):
        UnifiedWriter(tmp_path / "x.h5", P, CLASSES, present_features=["log_pt", "spin"])


def test_writer_is_atomic(tmp_path):
    path = tmp_path / "sub" / "train.h5"
    rng = np.random.default_rng(1)
    with pytest.raises(RuntimeError, match="boom"):
        with UnifiedWriter(path, num_particles=P, classes=CLASSES) as w:
            w.append(*fake_jets(rng, 10))
            assert path.with_name("train.h5.tmp").exists() and not path.exists()
            raise RuntimeError("boom")
    assert not path.exists()
    assert not path.with_name("train.h5.tmp").exists()


def test_writer_statistics_match_numpy(tmp_path):
    path, (data, jet, _) = write(tmp_path / "train.h5", n=700)
    norm = inspect_file(path).normalization
    real = data[np.any(data != 0, axis=-1)].astype(np.float64)  # (particles, F)
    mean, std = real.mean(0), real.std(0)
    # (delta_eta, delta_phi): zero mean and one common scale (RMS of the two stds), so the
    # kNN distance stays isotropic
    common = np.sqrt((std[0] ** 2 + std[1] ** 2) / 2)
    np.testing.assert_allclose(norm.particle_mean[:2], 0.0)
    np.testing.assert_allclose(norm.particle_std[:2], common, rtol=1e-5)
    assert not np.isclose(common, std[0], rtol=0.05) and not np.isclose(common, std[1], rtol=0.05)
    np.testing.assert_allclose(norm.particle_mean[2:6], mean[2:6], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(norm.particle_std[2:6], std[2:6], rtol=1e-4)
    # ΔR, charge and the PID flags are left as they are: zero stays zero
    np.testing.assert_array_equal(norm.particle_mean[6:], 0.0)
    np.testing.assert_array_equal(norm.particle_std[6:], 1.0)
    assert np.all(np.abs(mean[6:9]) > 1e-3)  # not vacuous: the raw means are not zero
    np.testing.assert_allclose(norm.jet_mean, jet.astype(np.float64).mean(0), rtol=1e-5)
    np.testing.assert_allclose(norm.jet_std, jet.astype(np.float64).std(0), rtol=1e-4)


def test_given_normalization_is_stored(tmp_path):
    _, _ = write(tmp_path / "train.h5")
    train_norm = inspect_file(tmp_path / "train.h5").normalization
    path, _ = write(tmp_path / "val.h5", seed=3, normalization=train_norm)
    val_norm = inspect_file(path).normalization
    for k in ("particle_mean", "particle_std", "jet_mean", "jet_std"):
        np.testing.assert_array_equal(getattr(val_norm, k), getattr(train_norm, k))
    train_norm.save(tmp_path / "norm.npz")
    np.testing.assert_array_equal(Normalization.load(tmp_path / "norm.npz").jet_std, train_norm.jet_std)


@pytest.mark.parametrize("bad", ["nan_data", "inf_jet", "nan_weight"])
def test_writer_rejects_non_finite(tmp_path, bad):
    data, jet, pid = fake_jets(np.random.default_rng(2), 8)
    weight = np.ones(8, np.float32)
    if bad == "nan_data":
        data[3, 0, 2] = np.nan
    elif bad == "inf_jet":
        jet[1, 0] = np.inf
    else:
        weight[5] = np.nan
    path = tmp_path / "x.h5"
    with pytest.raises(ValueError, match="non-finite"):
        with UnifiedWriter(path, num_particles=P, classes=CLASSES, with_weight=True) as w:
            w.append(data, jet, pid, weight)
    assert not path.exists() and not path.with_name("x.h5.tmp").exists()


@pytest.mark.parametrize("value", [-1, len(CLASSES)])
def test_writer_rejects_out_of_range_pid(tmp_path, value):
    data, jet, pid = fake_jets(np.random.default_rng(3), 8)
    pid[4] = value
    with pytest.raises(ValueError, match="pid outside"):
        with UnifiedWriter(tmp_path / "x.h5", num_particles=P, classes=CLASSES) as w:
            w.append(data, jet, pid)
    assert not (tmp_path / "x.h5").exists()


def test_writer_rejects_bad_shapes(tmp_path):
    data, jet, pid = fake_jets(np.random.default_rng(4), 8)
    with UnifiedWriter(tmp_path / "x.h5", num_particles=P, classes=CLASSES, with_weight=True) as w:
        with pytest.raises(ValueError, match="expected"):
            w.append(data[:, :10], jet, pid, np.ones(8, np.float32))
        with pytest.raises(ValueError, match="do not match"):
            w.append(data, jet[:5], pid, np.ones(8, np.float32))
        with pytest.raises(ValueError, match="with_weight"):
            w.append(data, jet, pid)
        with pytest.raises(ValueError, match="weight"):
            w.append(data, jet, pid, np.ones(1, np.float32))  # would broadcast silently
        w.append(data, jet, pid, np.ones(8, np.float32))
    assert inspect_file(tmp_path / "x.h5").num_jets == 8


# --------------------------------------------------------------------------------------------
# inspect_file on malformed files


def _corrupt(path: Path, edit) -> Path:
    with h5py.File(path, "a") as f:
        edit(f)
    return path


def _replace(name: str, value):
    def edit(f):
        del f[name]
        f[name] = value

    return edit


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda f: f.__delitem__("pid"), r"missing dataset\(s\) \['pid'\]"),
        (_replace("data", np.zeros((500, P * F), np.float32)), r"'data' must have rank 3"),
        (_replace("jet", np.zeros((499, 4), np.float32)), r"'data' has 500 jets but \{'jet': 499\}"),
        (_replace("pid", np.zeros(501, np.int32)), r"'data' has 500 jets but \{'pid': 501\}"),
        (_replace("jet", np.zeros((500, 3), np.float32)), r"'jet' must have shape \(jets, 4\)"),
        (lambda f: f.create_dataset("weight", data=np.ones(10, np.float32)), r"\{'weight': 10\}"),
        (lambda f: f.attrs.__delitem__("jet_std"), r"normalisation attribute\(s\) \['jet_std'\] missing"),
        (lambda f: f.attrs.__delitem__("classes"), r"attribute 'classes' missing"),
        (lambda f: f.attrs.__setitem__("particle_mean", np.zeros(5, np.float32)), r"normalisation shapes"),
    ],
    ids=[
        "missing_key",
        "data_rank",
        "jet_length",
        "pid_length",
        "jet_width",
        "weight_length",
        "missing_norm",
        "missing_classes",
        "norm_shape",
    ],
)
def test_inspect_rejects_malformed(tmp_path, edit, message):
    path, _ = write(tmp_path / "bad.h5")
    _corrupt(path, edit)
    with pytest.raises(DataFormatError, match=message) as err:
        inspect_file(path)
    assert str(path) in str(err.value)


def test_inspect_rejects_non_hdf5_and_missing(tmp_path):
    junk = tmp_path / "junk.h5"
    junk.write_text("not an HDF5 file\n")
    with pytest.raises(DataFormatError, match="not a readable HDF5 file") as err:
        inspect_file(junk)
    assert str(junk) in str(err.value)
    with pytest.raises(DataFormatError, match="no such file"):
        inspect_file(tmp_path / "absent.h5")


def test_jet_feature_order():
    # The loader, the writer's statistics and the models all index jets by this order.
    assert JET_FEATURES == ("pt", "eta", "mass", "multiplicity")
