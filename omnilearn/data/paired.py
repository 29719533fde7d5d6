"""Paired particle-level / detector-level files for unfolding (OmniFold, paper Sec. VII).

One HDF5 file holds one sample ("mc" or "data") of one split: ``<dir>/<sample>_<split>.h5``.
Row ``i`` of every array is the same event, at particle level (group ``gen``) and detector
level (group ``sim``):

===============  =================  =====================================================
key              shape, dtype       content
===============  =================  =====================================================
``<lvl>/data``   (N, P, 13) float32  Table X particle features, pT-sorted, zero-padded
``<lvl>/jet``    (N, 4) float32      jet pT, eta, mass, multiplicity (of the kept particles)
``<lvl>/obs``    (N, 6) float32      :data:`OBSERVABLES` (from all the jet's constituents)
===============  =================  =====================================================

Attributes: ``sample``, ``source`` (what made it), ``observables``, ``particle_features``.
Written to ``<name>.tmp`` and renamed when complete, like the unified files.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from .features import JET_FEATURES, PARTICLE_FEATURES
from .format import SPLITS, AtomicH5Writer, DataFormatError

LEVELS: tuple[str, ...] = ("gen", "sim")
SAMPLES: tuple[str, ...] = ("mc", "data")
#: The six observables of the OmniFold paper (arXiv:1911.09107) and of Tables VIII–IX: jet mass,
#: constituent multiplicity N, jet width (β = 1 angularity), ln ρ = 2 ln(m_SD / pT) (soft drop
#: z_cut = 0.1, β = 0), τ21 = τ2 / τ1 (β = 1) and the groomed momentum fraction z_g.
OBSERVABLES: tuple[str, ...] = ("mass", "multiplicity", "width", "log_rho", "tau21", "z_g")


def paired_path(directory: str | os.PathLike, sample: str, split: str) -> Path:
    if sample not in SAMPLES or split not in SPLITS:
        raise ValueError(f"sample must be one of {SAMPLES} and split one of {SPLITS}, got {sample!r}, {split!r}")
    return Path(directory) / f"{sample}_{split}.h5"


class PairedWriter(AtomicH5Writer):
    """Append events (both levels at once) to a paired file; atomic on close. A context manager."""

    def __init__(self, path: str | os.PathLike, num_particles: int, sample: str, source: dict | None = None):
        self.num_particles = num_particles
        super().__init__(path)
        self._file.attrs["sample"] = sample
        self._file.attrs["source"] = json.dumps(source or {})
        self._file.attrs["observables"] = np.array(OBSERVABLES, dtype=h5py.string_dtype())
        self._file.attrs["particle_features"] = np.array(PARTICLE_FEATURES, dtype=h5py.string_dtype())
        shapes = {
            "data": (num_particles, len(PARTICLE_FEATURES)),
            "jet": (len(JET_FEATURES),),
            "obs": (len(OBSERVABLES),),
        }
        for level in LEVELS:
            for key, shape in shapes.items():
                self._file.create_dataset(
                    f"{level}/{key}", (0, *shape), maxshape=(None, *shape), dtype="f4", chunks=(256, *shape)
                )

    def append(self, gen: dict[str, np.ndarray], sim: dict[str, np.ndarray]) -> None:
        """``gen`` and ``sim``: dicts with ``data``, ``jet``, ``obs`` of the same ``n`` events."""
        n = len(gen["data"])
        for level, arrays in (("gen", gen), ("sim", sim)):
            for key in ("data", "jet", "obs"):
                arr = np.asarray(arrays[key], dtype=np.float32)
                ds = self._file[f"{level}/{key}"]
                if arr.shape != (n, *ds.shape[1:]):
                    raise ValueError(f"{level}/{key} has shape {arr.shape}, expected {(n, *ds.shape[1:])}")
                if not np.isfinite(arr).all():
                    raise ValueError(f"non-finite values in {level}/{key} written to {self.path}")
                ds.resize(self.count + n, axis=0)
                ds[self.count :] = arr
        self.count += n


@dataclass
class Level:
    """One level of a paired file: ``data`` (N, P, 13), ``jet`` (N, 4), ``obs`` (N, 6)."""

    data: np.ndarray
    jet: np.ndarray
    obs: np.ndarray

    def __len__(self) -> int:
        return len(self.jet)


def read_level(
    path: str | os.PathLike, level: str, num_particles: int | None = None, start: int = 0, stop: int | None = None
) -> Level:
    """Events ``start:stop`` of one level of a paired file (the first ``num_particles`` particles)."""
    path = Path(path)
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    if not path.exists():
        raise DataFormatError(f"{path}: no such paired file (generate or preprocess the dataset first)")
    try:
        with h5py.File(path, "r") as f:
            missing = [f"{level}/{k}" for k in ("data", "jet", "obs") if f"{level}/{k}" not in f]
            if missing:
                raise DataFormatError(f"{path}: not a paired file, missing {missing}")
            sl = slice(start, stop)
            return Level(
                np.asarray(f[f"{level}/data"][sl, :num_particles]),
                np.asarray(f[f"{level}/jet"][sl]),
                np.asarray(f[f"{level}/obs"][sl]),
            )
    except OSError as err:
        raise DataFormatError(f"{path}: unreadable paired file ({err})") from None


def count_events(path: str | os.PathLike) -> int:
    with h5py.File(path, "r") as f:
        return int(f["gen/jet"].shape[0])
