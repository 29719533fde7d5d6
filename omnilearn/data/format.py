"""The unified HDF5 format every preprocessor writes and the loader streams.

One file holds one split of one dataset:

==========  =================  ==========================================================
key         shape, dtype       content
==========  =================  ==========================================================
``data``    (N, P, F) float32  particle features (:data:`~omnilearn.data.features.PARTICLE_FEATURES`),
                               sorted by pT, real particles first, zero-padded to P
``jet``     (N, 4) float32     jet pT, eta, mass, particle multiplicity
``pid``     (N,) int           class label, 0 … C-1
``weight``  (N,) float32       optional per-jet training weight (ATLAS)
==========  =================  ==========================================================

File attributes: ``classes`` (names, length C), ``particle_features`` (the column names),
``present_features`` (the columns the source dataset really provides: top tagging, ATLAS and
JetNet have no charge or particle type, so those columns are zeros; files written before this
attribute existed count as having every column), and the normalisation
``particle_mean``/``particle_std`` (F,) over real particles and ``jet_mean``/``jet_std`` (4,)
of the split the statistics were taken from (a dataset's training split; its val/test files
carry the same numbers).

Files are written to ``<name>.tmp`` and renamed only when complete, so a crash or a bad input
never leaves a half-written file under the final name.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from ..errors import OmniLearnError
from .features import JET_FEATURES, NUM_STANDARDISED_FEATURES, PARTICLE_FEATURES

REQUIRED_KEYS = ("data", "jet", "pid")
#: Splits every dataset provides, one unified file each (split ids 0, 1, 2; train sets the normalisation).
SPLITS: tuple[str, ...] = ("train", "val", "test")


class DataFormatError(OmniLearnError, ValueError):
    """A file is not in the expected format; the message names the file and the problem."""


@dataclass(frozen=True)
class Normalization:
    """Per-feature mean and standard deviation applied to real particles and to jets.

    Particle columns from :data:`~omnilearn.data.features.NUM_STANDARDISED_FEATURES` on (ΔR,
    charge, PID flags) always get mean 0 and scale 1, whatever numbers are given (also those
    read from files or checkpoints written before this rule): zero then stays zero, so a jet
    without PID and a jet whose PID the feature drop removed are the same input to the body.
    """

    particle_mean: np.ndarray
    particle_std: np.ndarray
    jet_mean: np.ndarray
    jet_std: np.ndarray

    def __post_init__(self):
        mean = np.array(self.particle_mean, dtype=np.float32)
        std = np.array(self.particle_std, dtype=np.float32)
        mean[NUM_STANDARDISED_FEATURES:] = 0.0
        std[NUM_STANDARDISED_FEATURES:] = 1.0
        object.__setattr__(self, "particle_mean", mean)
        object.__setattr__(self, "particle_std", std)

    def as_attrs(self) -> dict[str, np.ndarray]:
        return {k: np.asarray(getattr(self, k), dtype=np.float32) for k in self._fields()}

    @classmethod
    def _fields(cls) -> tuple[str, ...]:
        return ("particle_mean", "particle_std", "jet_mean", "jet_std")

    @classmethod
    def from_attrs(cls, attrs, source: str = "") -> Normalization:
        missing = [k for k in cls._fields() if k not in attrs]
        if missing:
            raise DataFormatError(f"{source}: normalisation attribute(s) {missing} missing")
        return cls(**{k: np.asarray(attrs[k], dtype=np.float32) for k in cls._fields()})

    def save(self, path: str | os.PathLike) -> None:
        np.savez(path, **self.as_attrs())

    @classmethod
    def load(cls, path: str | os.PathLike) -> Normalization:
        with np.load(path) as f:
            return cls.from_attrs(f, str(path))


class RunningStats:
    """Streaming mean/std over real particles (rows with nonzero features) and over jets."""

    def __init__(self, num_features: int, num_jet: int = len(JET_FEATURES)):
        self.p_sum = np.zeros(num_features)
        self.p_sq = np.zeros(num_features)
        self.p_n = 0
        self.j_sum = np.zeros(num_jet)
        self.j_sq = np.zeros(num_jet)
        self.j_n = 0

    def update(self, data: np.ndarray, jet: np.ndarray) -> None:
        real = data[np.any(data != 0, axis=-1)].astype(np.float64)
        self.p_sum += real.sum(0)
        self.p_sq += (real**2).sum(0)
        self.p_n += len(real)
        self.j_sum += jet.sum(0)
        self.j_sq += (jet.astype(np.float64) ** 2).sum(0)
        self.j_n += len(jet)

    def result(self) -> Normalization:
        def mean_std(s, sq, n):
            n = max(n, 1)
            mean = s / n
            std = np.sqrt(np.clip(sq / n - mean**2, 0.0, None))
            # Binary or constant features (PID flags absent from a dataset) keep unit scale.
            return mean, np.where(std > 1e-6, std, 1.0)

        pm, ps = mean_std(self.p_sum, self.p_sq, self.p_n)
        # One common scale for (delta_eta, delta_phi) keeps the kNN metric isotropic.
        ps[:2] = np.sqrt(np.mean(ps[:2] ** 2))
        pm[:2] = 0.0
        jm, js = mean_std(self.j_sum, self.j_sq, self.j_n)
        return Normalization(pm, ps, jm, js)


class AtomicH5Writer:
    """An HDF5 file written to ``<path>.tmp`` and renamed into place by :meth:`close`;
    :meth:`abort`, or leaving a ``with`` block by an exception, removes it, so a failed run
    leaves nothing under the final name. Subclasses create their datasets after ``__init__``
    and put their last writes in :meth:`_finish`."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.tmp = self.path.with_name(self.path.name + ".tmp")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = h5py.File(self.tmp, "w")
        self.count = 0

    def _finish(self) -> None:
        """Writes due just before the file is moved into place (none by default)."""

    def close(self) -> Path:
        """Finish the file and move it into place."""
        self._finish()
        self._file.close()
        os.replace(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Drop the partial file."""
        try:
            self._file.close()
        finally:
            self.tmp.unlink(missing_ok=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class UnifiedWriter(AtomicH5Writer):
    """Append jets chunk by chunk to a unified file; atomic on close.

    Use as a context manager::

        with UnifiedWriter("train.h5", num_particles=150, classes=["qcd", "top"]) as w:
            w.append(data, jet, pid)

    If ``normalization`` is None the statistics of the written jets are stored (use this for a
    training split and pass the result, :attr:`normalization`, to its val/test writers).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        num_particles: int,
        classes: Sequence[str],
        num_features: int = len(PARTICLE_FEATURES),
        with_weight: bool = False,
        normalization: Normalization | None = None,
        chunk: int = 1024,
        present_features: Sequence[str] | None = None,
    ):
        self.path = Path(path)
        columns = PARTICLE_FEATURES[:num_features]
        self.present_features = tuple(columns if present_features is None else present_features)
        unknown = [name for name in self.present_features if name not in columns]
        if unknown:
            raise ValueError(f"present_features {unknown} are not among the columns {list(columns)}")
        self.num_particles = num_particles
        self.num_features = num_features
        self.classes = list(classes)
        self.with_weight = with_weight
        self.normalization = normalization
        self._stats = RunningStats(num_features) if normalization is None else None
        super().__init__(path)
        chunk = max(1, chunk)
        self._file.create_dataset(
            "data",
            (0, num_particles, num_features),
            maxshape=(None, num_particles, num_features),
            dtype="f4",
            chunks=(chunk, num_particles, num_features),
        )
        self._file.create_dataset(
            "jet",
            (0, len(JET_FEATURES)),
            maxshape=(None, len(JET_FEATURES)),
            dtype="f4",
            chunks=(chunk, len(JET_FEATURES)),
        )
        self._file.create_dataset("pid", (0,), maxshape=(None,), dtype="i4", chunks=(chunk,))
        if with_weight:
            self._file.create_dataset("weight", (0,), maxshape=(None,), dtype="f4", chunks=(chunk,))

    def append(self, data: np.ndarray, jet: np.ndarray, pid: np.ndarray, weight: np.ndarray | None = None) -> None:
        n = len(data)
        if data.shape[1:] != (self.num_particles, self.num_features):
            raise ValueError(
                f"data chunk has shape {data.shape}, expected (n, {self.num_particles}, {self.num_features})"
            )
        if jet.shape != (n, len(JET_FEATURES)) or np.shape(pid) != (n,):
            raise ValueError(f"jet {jet.shape} / pid {np.shape(pid)} do not match {n} jets")
        if self.with_weight != (weight is not None):
            raise ValueError("weight must be given for every chunk exactly when with_weight=True")
        if weight is not None and np.shape(weight) != (n,):
            # h5py would silently broadcast e.g. a length-1 weight over the whole chunk
            raise ValueError(f"weight {np.shape(weight)} does not match {n} jets")
        for name, arr in (("data", data), ("jet", jet)) + ((("weight", weight),) if weight is not None else ()):
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"non-finite values in the '{name}' chunk written to {self.path}")
        if np.any((np.asarray(pid) < 0) | (np.asarray(pid) >= len(self.classes))):
            raise ValueError(f"pid outside 0..{len(self.classes) - 1}")
        for name, arr in (("data", data), ("jet", jet), ("pid", pid)) + (
            (("weight", weight),) if weight is not None else ()
        ):
            ds = self._file[name]
            ds.resize(self.count + n, axis=0)
            ds[self.count :] = arr
        if self._stats is not None:
            self._stats.update(data, jet)
        self.count += n

    def _finish(self) -> None:
        """Write the attributes (the normalisation from the running statistics)."""
        if self._stats is not None:
            self.normalization = self._stats.result()
        attrs = self._file.attrs
        attrs["classes"] = np.array(self.classes, dtype=h5py.string_dtype())
        attrs["particle_features"] = np.array(PARTICLE_FEATURES[: self.num_features], dtype=h5py.string_dtype())
        attrs["present_features"] = np.array(self.present_features, dtype=h5py.string_dtype())
        for k, v in self.normalization.as_attrs().items():
            attrs[k] = v


@dataclass(frozen=True)
class FileInfo:
    """What :func:`inspect_file` learned about one unified file."""

    path: str
    num_jets: int
    num_particles: int
    num_features: int
    classes: tuple[str, ...]
    has_weight: bool
    normalization: Normalization
    #: names of the columns of ``data`` (:data:`~omnilearn.data.features.PARTICLE_FEATURES`)
    particle_features: tuple[str, ...] = ()
    #: the columns the source dataset really provides (the others hold zeros)
    present_features: tuple[str, ...] = ()


def inspect_file(path: str | os.PathLike) -> FileInfo:
    """Check the structure of a unified file (keys, ranks, lengths, attributes).

    Raises:
        DataFormatError: naming the file and what is wrong. Values are checked for NaN/inf
            chunk by chunk as the loader reads them (a full scan of a 100 M-jet file up front
            would cost as much as an epoch).
    """
    path = str(path)
    if not os.path.exists(path):
        raise DataFormatError(f"{path}: no such file")
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise DataFormatError(f"{path}: not a readable HDF5 file ({err})") from None
    with f:
        missing = [k for k in REQUIRED_KEYS if k not in f]
        if missing:
            raise DataFormatError(f"{path}: missing dataset(s) {missing}; a unified file needs {list(REQUIRED_KEYS)}")
        data, jet, pid = f["data"], f["jet"], f["pid"]
        if data.ndim != 3:
            raise DataFormatError(
                f"{path}: 'data' must have rank 3 (jets, particles, features), got shape {data.shape}"
            )
        if jet.ndim != 2 or jet.shape[1] != len(JET_FEATURES):
            raise DataFormatError(f"{path}: 'jet' must have shape (jets, {len(JET_FEATURES)}), got {jet.shape}")
        if pid.ndim != 1:
            raise DataFormatError(f"{path}: 'pid' must have rank 1, got shape {pid.shape}")
        n = data.shape[0]
        lengths = {"jet": jet.shape[0], "pid": pid.shape[0]}
        if "weight" in f:
            if f["weight"].ndim != 1:
                raise DataFormatError(f"{path}: 'weight' must have rank 1, got shape {f['weight'].shape}")
            lengths["weight"] = f["weight"].shape[0]
        bad = {k: v for k, v in lengths.items() if v != n}
        if bad:
            raise DataFormatError(f"{path}: 'data' has {n} jets but {bad}")
        if "classes" not in f.attrs:
            raise DataFormatError(f"{path}: attribute 'classes' missing")
        classes = tuple(c.decode() if isinstance(c, bytes) else str(c) for c in f.attrs["classes"])
        norm = Normalization.from_attrs(f.attrs, path)
        if norm.particle_mean.shape != (data.shape[2],) or norm.jet_mean.shape != (len(JET_FEATURES),):
            raise DataFormatError(f"{path}: normalisation shapes do not match the features")
        columns = _names(f.attrs, "particle_features") or PARTICLE_FEATURES[: data.shape[2]]
        present = _names(f.attrs, "present_features")
        present = columns if present is None else present  # written before the attribute existed: all
        return FileInfo(path, n, data.shape[1], data.shape[2], classes, "weight" in f, norm, columns, present)


def _names(attrs, key: str) -> tuple[str, ...] | None:
    if key not in attrs:
        return None
    return tuple(c.decode() if isinstance(c, bytes) else str(c) for c in attrs[key])
