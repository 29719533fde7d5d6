"""Streaming loader: batch contents, normalisation, sharding/shuffling coverage, error paths."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
import tensorflow as tf

from omnilearn.data.format import DataFormatError, Normalization, UnifiedWriter, inspect_file
from omnilearn.data.loader import JetLoader, make_dataset, plan_chunks, shard_range

P, F = 20, 13
CLASSES = ["a", "b", "c"]
SIZES = (1000, 777, 1234)  # three files; the middle one carries weights
SMALL = dict(chunk_size=128, shuffle_buffer=300)  # many chunks even in small files


def fake_jets(rng: np.random.Generator, ids: np.ndarray, num_particles: int = P, num_features: int = F):
    """Jets whose pT is their global index (a unique tag that survives shuffling).

    Returns data (n, P, F) zero-padded after a random multiplicity in 1..P, jet (n, 4), pid (n,).
    """
    n = len(ids)
    mult = rng.integers(1, num_particles + 1, n)
    data = rng.normal(0.5, 2.0, (n, num_particles, num_features)).astype(np.float32)
    data[np.arange(num_particles)[None, :] >= mult[:, None]] = 0.0
    jet = np.stack([ids, rng.normal(0, 1, n), rng.uniform(10, 200, n), mult], -1).astype(np.float32)
    return data, jet, rng.integers(0, len(CLASSES), n).astype(np.int32)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict:
    """Three unified files; returns paths and the concatenated arrays they hold."""
    root = tmp_path_factory.mktemp("unified")
    rng = np.random.default_rng(0)
    paths, parts, norm, offset = [], [], None, 0
    for i, n in enumerate(SIZES):
        data, jet, pid = fake_jets(rng, np.arange(offset, offset + n))
        weight = rng.uniform(0.5, 2.0, n).astype(np.float32) if i == 1 else None
        path = root / f"part{i}.h5"
        # the middle file reuses the first file's statistics (as val/test splits do), the last
        # stores its own, so the loader's choice is visible
        with UnifiedWriter(
            path,
            P,
            CLASSES,
            num_features=F,
            with_weight=weight is not None,
            normalization=norm if i == 1 else None,
            chunk=100,
        ) as w:
            w.append(data, jet, pid, weight)
        norm = w.normalization if i == 0 else norm
        paths.append(path)
        parts.append((data, jet, pid, np.ones(n, np.float32) if weight is None else weight))
        offset += n
    data, jet, pid, weight = (np.concatenate(a) for a in zip(*parts))
    norm = inspect_file(paths[0]).normalization  # float32, as stored
    return {"paths": paths, "data": data, "jet": jet, "pid": pid, "weight": weight, "norm": norm}


def collect(batches) -> dict[str, np.ndarray]:
    """Concatenate dict batches (tensors or arrays) into numpy arrays."""
    out: dict[str, list] = {}
    for b in batches:
        for k, v in b.items():
            out.setdefault(k, []).append(np.asarray(v))
    return {k: np.concatenate(v) for k, v in out.items()}


def jet_ids(batch: dict[str, np.ndarray], norm: Normalization) -> np.ndarray:
    """Undo the jet normalisation of pT = global index."""
    pt = batch["jet"][:, 0].astype(np.float64) * norm.jet_std[0] + norm.jet_mean[0]
    ids = np.rint(pt).astype(np.int64)
    assert np.abs(pt - ids).max() < 0.05
    return ids


def epoch_ids(ds: tf.data.Dataset, norm: Normalization) -> np.ndarray:
    return jet_ids(collect(ds.as_numpy_iterator()), norm)


# --------------------------------------------------------------------------------------------
# batch contents


def test_batch_shapes_and_dtypes(files):
    loader = JetLoader(files["paths"], 64, **SMALL)
    n = sum(SIZES)
    assert (loader.num_jets, loader.total_jets, loader.classes) == (n, n, tuple(CLASSES))
    batches = list(loader.dataset().as_numpy_iterator())
    assert len(batches) == loader.steps_per_epoch == len(loader) == -(-n // 64)
    for i, b in enumerate(batches):
        bsz = 64 if i < len(batches) - 1 else n % 64
        assert set(b) == {"particles", "mask", "jet", "label", "weight"}
        assert b["particles"].shape == (bsz, P, F)
        assert b["mask"].shape == (bsz, P)
        assert b["jet"].shape == (bsz, 4)
        assert b["label"].shape == (bsz, len(CLASSES))
        assert b["weight"].shape == (bsz,)
        assert all(v.dtype == np.float32 for v in b.values())


def test_drop_remainder_gives_static_batches(files):
    loader = JetLoader(files["paths"], 64, drop_remainder=True, **SMALL)
    assert loader.dataset().element_spec["particles"].shape.as_list() == [64, P, F]
    sizes = [len(b["weight"]) for b in loader.dataset().as_numpy_iterator()]
    assert sizes == [64] * (sum(SIZES) // 64) and loader.steps_per_epoch == len(sizes)


def test_mask_padding_and_normalisation(files):
    loader = JetLoader(files["paths"], 50, shuffle=False, **SMALL)
    norm = loader.normalization
    out = collect(loader.dataset().as_numpy_iterator())
    ids = jet_ids(out, norm)
    np.testing.assert_array_equal(ids, np.arange(sum(SIZES)))  # file order without shuffling
    data, jet = files["data"], files["jet"]
    mult = jet[:, 3].astype(int)

    # mask: exactly the written multiplicity, real particles first
    np.testing.assert_array_equal(out["mask"], (np.arange(P)[None, :] < mult[:, None]).astype(np.float32))
    # padding stays exactly +0.0 after normalisation
    pad = out["mask"] == 0
    assert pad.any() and np.all(out["particles"][pad] == 0) and not np.signbit(out["particles"][pad]).any()

    # one jet by hand (in the second file, which has weights)
    j = SIZES[0] + 123
    m = mult[j]
    expected = (data[j, :m] - norm.particle_mean) / norm.particle_std
    np.testing.assert_allclose(out["particles"][j, :m], expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(out["jet"][j], (jet[j] - norm.jet_mean) / norm.jet_std, rtol=1e-6, atol=1e-6)
    # and all jets at once
    real = ~pad
    full = (data - norm.particle_mean) / norm.particle_std
    np.testing.assert_allclose(out["particles"][real], full[real], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out["jet"], (jet - norm.jet_mean) / norm.jet_std, rtol=1e-5, atol=1e-4)

    np.testing.assert_array_equal(out["label"], np.eye(len(CLASSES), dtype=np.float32)[files["pid"]])
    np.testing.assert_array_equal(out["weight"], files["weight"])  # ones where a file has none
    assert np.any(out["weight"] != 1)


def test_normalisation_from_first_file(files):
    last = inspect_file(files["paths"][2]).normalization
    assert not np.allclose(last.jet_mean, files["norm"].jet_mean)
    loader = JetLoader(files["paths"], 64, **SMALL)
    for k in ("particle_mean", "particle_std", "jet_mean", "jet_std"):
        np.testing.assert_array_equal(getattr(loader.normalization, k), getattr(files["norm"], k))


def test_explicit_normalization_and_num_classes(files, tmp_path):
    norm = Normalization(np.full(F, 1.0), np.full(F, 2.0), np.zeros(4), np.ones(4))
    norm.save(tmp_path / "pretrained.npz")
    for given in (norm, tmp_path / "pretrained.npz"):
        loader = JetLoader(files["paths"][:1], 100, shuffle=False, normalization=given, num_classes=7, **SMALL)
        out = collect(loader.dataset().as_numpy_iterator())
        real = out["mask"] == 1
        raw = files["data"][: SIZES[0]][real]
        np.testing.assert_allclose(out["particles"][real][:, :6], (raw[:, :6] - 1.0) / 2.0, rtol=1e-6)
        # ΔR, charge and PID flags are never shifted or scaled (Normalization)
        np.testing.assert_array_equal(out["particles"][real][:, 6:], raw[:, 6:])
        assert np.all(out["particles"][~real] == 0)
        np.testing.assert_array_equal(out["jet"], files["jet"][: SIZES[0]])
        assert out["label"].shape == (SIZES[0], 7)
        np.testing.assert_array_equal(out["label"].argmax(1), files["pid"][: SIZES[0]])
    with pytest.raises(ValueError, match="num_classes"):
        JetLoader(files["paths"], 10, num_classes=2)
    with pytest.raises(ValueError, match="normalization shapes"):
        JetLoader(files["paths"], 10, normalization=Normalization(np.zeros(5), np.ones(5), np.zeros(4), np.ones(4)))


def test_num_particles_truncates(files):
    loader = JetLoader(files["paths"], 64, shuffle=False, num_particles=8, **SMALL)
    out = collect(loader.dataset().as_numpy_iterator())
    assert out["particles"].shape == (sum(SIZES), 8, F)
    np.testing.assert_array_equal(out["mask"].sum(1), np.minimum(files["jet"][:, 3], 8))
    full = collect(JetLoader(files["paths"], 64, shuffle=False, **SMALL).dataset().as_numpy_iterator())
    np.testing.assert_array_equal(out["particles"], full["particles"][:, :8])
    with pytest.raises(ValueError, match="num_particles"):
        JetLoader(files["paths"], 64, num_particles=P + 1)


def test_batches_held_by_the_consumer_stay_intact(files):
    # batch memory is recycled once unreferenced; tensors still held must never be rewritten
    loader = JetLoader(files["paths"], 64, seed=3, **SMALL)
    held = list(loader.dataset())  # epoch 0, kept as tensors (TF may alias the numpy memory)
    expected = [{k: v.copy() for k, v in b.items()} for b in loader.epoch_batches(0)]
    assert len(held) == len(expected)
    for got, want in zip(held, expected):
        for k in want:
            np.testing.assert_array_equal(got[k].numpy(), want[k])


def test_make_dataset_and_iteration(files):
    ds = make_dataset(files["paths"][:1], 256, shuffle=False)
    ids = epoch_ids(ds, files["norm"])
    np.testing.assert_array_equal(ids, np.arange(SIZES[0]))
    loader = JetLoader(files["paths"][:1], 256, shuffle=False)
    assert sum(int(b["weight"].shape[0]) for b in loader) == SIZES[0]  # __iter__ yields tensors too


# --------------------------------------------------------------------------------------------
# sharding and shuffling


@pytest.mark.parametrize("shuffle", [False, True], ids=["ordered", "shuffled"])
@pytest.mark.parametrize("num_workers", [1, 2, 3])
def test_shards_cover_every_jet_once(files, num_workers, shuffle):
    total = sum(SIZES)
    loaders = [
        JetLoader(files["paths"], 64, shuffle=shuffle, rank=r, num_workers=num_workers, seed=11, **SMALL)
        for r in range(num_workers)
    ]
    sizes = [ld.num_jets for ld in loaders]
    assert sum(sizes) == total and max(sizes) - min(sizes) <= 1
    common = loaders[0].common_steps_per_epoch
    assert all(common == min(ld.steps_per_epoch for ld in loaders) == ld.common_steps_per_epoch for ld in loaders)
    datasets = [ld.dataset() for ld in loaders]
    epochs = []
    for _ in range(2):
        per_rank = [epoch_ids(ds, files["norm"]) for ds in datasets]
        for ld, ids in zip(loaders, per_rank):
            assert len(ids) == ld.num_jets
            if not shuffle:  # contiguous shard, in file order
                np.testing.assert_array_equal(ids, np.arange(*ld.shard))
        everything = np.concatenate(per_rank)
        np.testing.assert_array_equal(np.sort(everything), np.arange(total))  # each jet exactly once
        epochs.append(per_rank)
    for r in range(num_workers):
        first, second = epochs[0][r], epochs[1][r]
        if shuffle:
            assert not np.array_equal(first, second), "the next epoch must be reshuffled"
            assert not np.array_equal(first, np.sort(first))
        else:
            np.testing.assert_array_equal(first, second)


def test_shuffle_is_seeded_and_mixes_chunks(files):
    def ids(seed: int, epoch: int = 0) -> np.ndarray:
        loader = JetLoader(files["paths"], 64, seed=seed, **SMALL)
        loader.set_epoch(epoch)
        return epoch_ids(loader.dataset(), files["norm"])

    a, b = ids(5), ids(5)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, ids(6))
    assert not np.array_equal(a, ids(5, epoch=1))
    # a batch draws from the buffer, which holds several chunks (and files)
    chunks_in_first_batch = np.unique(a[:64] // SMALL["chunk_size"])
    assert len(chunks_in_first_batch) > 1


def test_repeat_reshuffles_each_epoch(files):
    loader = JetLoader(files["paths"], 100, repeat=True, **SMALL)
    steps = loader.steps_per_epoch
    out = collect(loader.dataset().take(2 * steps).as_numpy_iterator())
    ids = jet_ids(out, files["norm"])
    total = sum(SIZES)
    first, second = ids[:total], ids[total:]
    np.testing.assert_array_equal(np.sort(first), np.arange(total))
    np.testing.assert_array_equal(np.sort(second), np.arange(total))
    assert not np.array_equal(first, second)


def test_shard_range_sizes():
    for total in list(range(0, 40)) + [10**8 + 7]:
        for workers in range(1, 8):
            ranges = [shard_range(total, r, workers) for r in range(workers)]
            assert ranges[0][0] == 0 and ranges[-1][1] == total
            assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))
            sizes = [b - a for a, b in ranges]
            assert max(sizes) - min(sizes) <= 1
    with pytest.raises(ValueError):
        shard_range(10, 3, 3)


def test_plan_chunks_stay_in_files_and_on_grid():
    sizes = [1000, 777, 1234]
    offsets = np.cumsum([0] + sizes)
    for start, stop in [(0, 3011), (500, 2500), (999, 1001), (1777, 1777)]:
        chunks = plan_chunks(sizes, start, stop, 128)
        covered = np.concatenate([np.arange(c.start, c.stop) + offsets[c.file] for c in chunks] or [np.array([], int)])
        np.testing.assert_array_equal(covered, np.arange(start, stop))
        for c in chunks:
            assert 0 <= c.start < c.stop <= sizes[c.file] and c.stop - c.start <= 128
            assert c.start // 128 == (c.stop - 1) // 128  # never straddles a grid line


# --------------------------------------------------------------------------------------------
# malformed input


def _write(path: Path, n: int = 300, num_particles: int = P, num_features: int = F, classes=CLASSES) -> Path:
    data, jet, pid = fake_jets(np.random.default_rng(1), np.arange(n), num_particles, num_features)
    with UnifiedWriter(path, num_particles, classes, num_features=num_features) as w:
        w.append(data, jet, pid)
    return path


@pytest.mark.parametrize(
    "kind, kwargs, message",
    [
        ("particles", dict(num_particles=10), r"num_particles 10 differs from 20"),
        ("features", dict(num_features=7), r"num_features 7 differs from 13"),
        ("classes", dict(classes=["a", "c", "b"]), r"classes .* differs from"),
    ],
)
def test_files_must_agree(files, tmp_path, kind, kwargs, message):
    odd = _write(tmp_path / f"odd_{kind}.h5", **kwargs)
    with pytest.raises(DataFormatError, match=message) as err:
        JetLoader([files["paths"][0], odd], 64)
    assert str(odd) in str(err.value)


def test_malformed_file_is_named_up_front(files, tmp_path):
    bad = _write(tmp_path / "bad.h5")
    with h5py.File(bad, "a") as f:
        del f["jet"]
    with pytest.raises(DataFormatError, match=r"bad\.h5: missing dataset\(s\) \['jet'\]"):
        JetLoader([files["paths"][0], bad], 64)
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"\x00" * 100)
    with pytest.raises(DataFormatError, match="not a readable HDF5 file"):
        JetLoader([junk], 64)


@pytest.mark.parametrize(
    "key, index, value, message",
    [
        ("data", (600, 0, 3), np.nan, r"non-finite values in 'data' \(1 jets, first at jet 600\)"),
        ("jet", (601, 2), np.inf, r"non-finite values in 'jet' \(1 jets, first at jet 601\)"),
        ("pid", (602,), 9, r"'pid' outside 0\.\.2"),
        ("data", (603,), 0.0, r"1 jets without any particle, first at jet 603"),
    ],
)
def test_bad_values_raise_when_their_chunk_is_read(files, tmp_path, key, index, value, message):
    bad = tmp_path / "bad.h5"
    shutil.copy(files["paths"][0], bad)
    with h5py.File(bad, "a") as f:
        f[key][index] = value
    loader = JetLoader([bad], 64, shuffle=False, **SMALL)  # construction does not scan values
    seen = 0
    with pytest.raises(DataFormatError, match=message) as err:
        for batch in loader:
            seen += int(batch["weight"].shape[0])
    assert f"{bad}: jets 512..639" in str(err.value)  # the chunk holding jet 600
    assert 0 < seen <= 512  # earlier chunks streamed before the error
    # through tf.data alone the message survives in the TF error
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        list(loader.dataset().as_numpy_iterator())


@pytest.mark.parametrize("index, value", [((700, 0, 3), np.nan), ((700,), 0.0)])
def test_check_values_finds_a_bad_jet_before_any_batch(files, tmp_path, index, value):
    """``check_values`` (run by training on its validation files) reads the whole shard up front
    and names the file and the first bad jet, whatever chunk it is in."""
    bad = tmp_path / "bad.h5"
    shutil.copy(files["paths"][0], bad)
    JetLoader([files["paths"][0], bad], 64, shuffle=False, **SMALL).check_values(progress=False)  # clean
    with h5py.File(bad, "a") as f:
        f["data"][index] = value
    with pytest.raises(DataFormatError, match=rf"{bad}: jets 640\.\.767: .*first at jet 700"):
        JetLoader([files["paths"][0], bad], 64, shuffle=False, **SMALL).check_values(progress=False)


def test_data_errors_turn_the_tf_error_back_into_the_data_error(files, tmp_path):
    bad = tmp_path / "bad.h5"
    shutil.copy(files["paths"][0], bad)
    with h5py.File(bad, "a") as f:
        f["jet"][5, 0] = np.nan
    good, broken = JetLoader(files["paths"][:1], 64), JetLoader([bad], 64, shuffle=False)
    with pytest.raises(DataFormatError, match=rf"{bad}: jets 0\.\.\d+: non-finite values in 'jet'"):
        with good.data_errors(broken):
            list(broken.dataset().as_numpy_iterator())


def test_bad_arguments(files):
    with pytest.raises(ValueError, match="no input files"):
        JetLoader([], 64)
    with pytest.raises(ValueError, match="rank"):
        JetLoader(files["paths"], 64, rank=2, num_workers=2)
    with pytest.raises(ValueError, match="batch_size"):
        JetLoader(files["paths"], 0)


# --------------------------------------------------------------------------------------------
# memory


def _rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


@pytest.mark.slow
def test_streaming_memory_stays_bounded(tmp_path, capsys):
    num_p, n = 150, 40_000  # ~310 MB on disk
    path = tmp_path / "big.h5"
    rng = np.random.default_rng(0)
    with UnifiedWriter(path, num_p, CLASSES) as w:
        for a in range(0, n, 2000):
            w.append(*fake_jets(rng, np.arange(a, a + 2000), num_p))
    size_mib = path.stat().st_size / 2**20
    assert size_mib > 280

    loader = JetLoader(path, 256)  # default chunk and shuffle buffer
    ds = loader.dataset()
    next(iter(ds))  # TF start-up allocations are not the loader's
    base = peak = _rss_kib()
    seen = 0
    start = time.perf_counter()
    for batch in ds:
        seen += int(batch["weight"].shape[0])
        peak = max(peak, _rss_kib())
    elapsed = time.perf_counter() - start
    growth_mib = (peak - base) / 1024
    assert seen == n
    with capsys.disabled():
        print(f"\n[loader] {size_mib:.0f} MiB file: {seen / elapsed:,.0f} jets/s, RSS growth {growth_mib:.0f} MiB")
    assert growth_mib < 0.5 * size_mib


# --------------------------------------------------------------------------------------------
# registry


def test_registry(tmp_path):
    from omnilearn.datasets import registry

    jetclass = registry.get("jetclass")
    assert jetclass.num_classes == 10 and jetclass.classes[0] == "QCD"
    assert registry.get("pythia").classes == ("qcd", "top", "wqq", "zqq", "hbb")
    assert registry.get("toptag_pythia").classes == ("qcd", "top")
    assert jetclass.files(tmp_path, "val") == [tmp_path / "jetclass" / "val.h5"]
    with pytest.raises(ValueError, match="split"):
        jetclass.files(tmp_path, "training")
    with pytest.raises(KeyError, match=r"unknown dataset 'nope'.*jetclass.*pythia"):
        registry.get("nope")

    @registry.register("unit_test_dataset")
    class Extra(registry.Dataset):
        classes = ("x", "y")

    try:
        assert registry.get("unit_test_dataset").files(tmp_path, "test") == [tmp_path / "unit_test_dataset" / "test.h5"]
        with pytest.raises(ValueError, match="already registered"):
            registry.register("unit_test_dataset")(type("Other", (registry.Dataset,), {}))
    finally:
        registry.DATASETS.pop("unit_test_dataset")
