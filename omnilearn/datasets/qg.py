"""Pythia quark/gluon dataset (Komiske, Metodiev, Thaler, arXiv:1810.05165; Zenodo 3164691) → unified.

Input: ``QG_jets.npz``, ``QG_jets_1.npz`` … ``QG_jets_19.npz`` (100 k jets each; a directory,
searched recursively for exactly these names, or one file). The energyflow cache also holds
``QG_jets_withbc_*.npz`` (c and b quarks allowed) and ``QG_jets_herwig_*.npz``: they are skipped
unless ``with_bc=True``, which takes the ``withbc`` Pythia files instead. Each holds ``X`` ``(jets, M, 4)`` = (pT,
rapidity y, phi, PDG id) per particle, zero padded (M differs between files), and ``y``
``(jets,)`` = 1 for quark (Z + uds), 0 for gluon (Z + g) jets; anti-kT R = 0.4, pT in
[500, 550] GeV, |y| < 1.7, stable particles without neutrinos, no detector simulation.

The PDG id gives the mass needed to turn rapidity into pseudorapidity (E = m_T cosh y,
p_z = m_T sinh y, eta = asinh(p_z / pT)) and the charge (a small table of the stable hadrons
and leptons Pythia leaves; an id outside it stops the conversion with a DataFormatError).

``X`` is streamed from the zip member row block by row block (``np.load`` would inflate a whole
~0.5 GB file). The files are taken in order (natural sort) as one sequence and split 80/10/10 %
into train/val/test, as in the OmniLearn preprocessing (1.6 M / 200 k / 200 k of 2 M). Classes:
``gluon`` = 0, ``quark`` = 1.
"""

from __future__ import annotations

import os
import re
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ..data.format import DataFormatError
from .convert import (
    PreprocessResult,
    Rows,
    Source,
    contiguous_assign,
    input_files,
    ptyphim_to_ptetaphie,
    require,
    require_finite,
    require_labels,
    require_numeric,
    unified_rows,
    write_splits,
)

CLASSES: tuple[str, ...] = ("gluon", "quark")
#: Particles kept per jet (OmniLearn's quark/gluon preprocessing keeps 100).
NUM_PARTICLES = 100
FRACTIONS = (0.8, 0.1, 0.1)
_NAMES = {False: re.compile(r"^QG_jets(_\d+)?\.npz$"), True: re.compile(r"^QG_jets_withbc_\d+\.npz$")}

#: |PDG id| → (mass in GeV, charge of the particle with the positive id) for the final-state
#: particles of the sample (PDG 2024 masses).
PDG_TABLE: dict[int, tuple[float, float]] = {
    22: (0.0, 0.0),  # photon
    11: (0.000511, -1.0),  # e-
    13: (0.105658, -1.0),  # mu-
    211: (0.139570, 1.0),  # pi+
    321: (0.493677, 1.0),  # K+
    130: (0.497611, 0.0),  # K0_L
    2212: (0.938272, 1.0),  # p
    2112: (0.939565, 0.0),  # n
}
_IDS = np.array(sorted(PDG_TABLE))
_MASS = np.array([PDG_TABLE[i][0] for i in _IDS])
_CHARGE = np.array([PDG_TABLE[i][1] for i in _IDS])


def mass_and_charge(pdg_id: np.ndarray, path: str | os.PathLike = "") -> tuple[np.ndarray, np.ndarray]:
    """Mass and charge per particle from its PDG id (0 = padding → 0, 0); any shape."""
    pid = np.asarray(pdg_id).astype(np.int64)
    a = np.abs(pid)
    k = np.searchsorted(_IDS, a).clip(0, len(_IDS) - 1)
    known = _IDS[k] == a
    unknown = np.unique(pid[~known & (pid != 0)])
    if unknown.size:
        raise DataFormatError(f"{path}: PDG id(s) {unknown.tolist()[:10]} not in the table {sorted(PDG_TABLE)}")
    mass = np.where(known, _MASS[k], 0.0)
    charge = np.where(known, np.sign(pid) * _CHARGE[k], 0.0)
    return mass, charge


class NpyStream:
    """Reads an ``.npy`` member of an ``.npz`` row block by row block, front to back."""

    def __init__(self, path: Path, key: str):
        self.path = path
        try:
            self.zip = zipfile.ZipFile(path)
        except (OSError, zipfile.BadZipFile) as err:
            raise DataFormatError(f"{path}: not an npz file ({err})") from None
        member = f"{key}.npy"
        if member not in self.zip.namelist():
            keys = [n.removesuffix(".npy") for n in self.zip.namelist()]
            self.zip.close()
            raise DataFormatError(f"{path}: array '{key}' missing (found {keys})")
        try:
            self.fp = self.zip.open(member)
            version = np.lib.format.read_magic(self.fp)
            fmt = np.lib.format
            read_header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
            self.shape, fortran, self.dtype = read_header(self.fp)
        except (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error) as err:
            self.zip.close()
            raise DataFormatError(f"{path}: cannot read '{key}' ({err})") from None
        self.whole = None
        try:
            require_numeric(path, key, self.dtype)
        except DataFormatError:
            self.close()
            raise
        if fortran or self.dtype.hasobject:
            # Fortran order cannot be read by rows: fall back to this one member in memory.
            self.fp.close()
            with np.load(path, allow_pickle=False) as f:
                self.whole = f[key]
        self.row_bytes = int(np.prod(self.shape[1:], dtype=np.int64)) * self.dtype.itemsize
        self.pos = 0

    def read(self, n: int) -> np.ndarray:
        n = min(n, self.shape[0] - self.pos)
        if self.whole is not None:
            out = self.whole[self.pos : self.pos + n]
        else:
            buf = bytearray()
            want = n * self.row_bytes
            while len(buf) < want:
                chunk = self.fp.read(want - len(buf))
                if not chunk:
                    rows = self.pos + len(buf) // max(self.row_bytes, 1)
                    raise DataFormatError(f"{self.path}: 'X' ends after {rows} of {self.shape[0]} rows")
                buf += chunk
            out = np.frombuffer(bytes(buf), dtype=self.dtype).reshape((n,) + tuple(self.shape[1:]))
        self.pos += n
        return out

    def close(self) -> None:
        if self.whole is None:
            self.fp.close()
        self.zip.close()


class QGFile:
    """One ``QG_jets*.npz``: the labels in memory, the particles streamed."""

    def __init__(self, path: Path, num_particles: int):
        self.path = path
        self.num_particles = num_particles
        self.x = NpyStream(path, "X")
        try:
            require(
                len(self.x.shape) == 3 and self.x.shape[2] == 4,
                path,
                f"'X' must have shape (jets, particles, 4) = (pT, y, phi, pid), got {self.x.shape}",
            )
            try:
                with np.load(path, allow_pickle=False) as f:
                    require("y" in f.files, path, f"array 'y' (labels) missing (found {f.files})")
                    self.labels = np.asarray(f["y"])
            except DataFormatError:
                raise
            except ValueError as err:  # e.g. an array of Python objects, which needs unpickling
                raise DataFormatError(f"{path}: cannot read 'y' ({err})") from None
            require(
                self.labels.shape == (self.x.shape[0],),
                path,
                f"'y' has shape {self.labels.shape}, expected ({self.x.shape[0]},) to match 'X'",
            )
            require_labels(path, self.labels, (0, 1), "y (0 gluon, 1 quark)")
        except BaseException:
            self.x.close()
            raise

    def read(self, start: int, stop: int, keep: np.ndarray) -> Rows:
        if start != self.x.pos:
            raise RuntimeError(f"{self.path}: blocks must be read in order ({start} != {self.x.pos})")
        x = self.x.read(stop - start)[keep].astype(np.float64)
        require_finite(self.path, rows=start + np.flatnonzero(keep), X=x)
        pt, y, phi, pid = x[..., 0], x[..., 1], x[..., 2], x[..., 3]
        pid = np.where(pt > 0, pid, 0)
        mass, charge = mass_and_charge(pid, self.path)
        pt, eta, phi, energy = ptyphim_to_ptetaphie(pt, y, phi, mass)
        data, jet = unified_rows(pt, eta, phi, energy, self.num_particles, charge=charge, pdg_id=pid)
        return Rows(data, jet, self.labels[start:stop][keep].astype(np.int32))


def preprocess(
    input: str | os.PathLike,
    outdir: str | os.PathLike,
    *,
    max_jets: int | None = None,
    num_particles: int = NUM_PARTICLES,
    with_bc: bool = False,
    seed: int = 0,
    progress: bool = True,
) -> PreprocessResult:
    """Convert the ``QG_jets*.npz`` file(s) at ``input`` into ``outdir/{train,val,test}.h5``.

    ``max_jets`` caps the jets read (the first ones, in file order) before the 80/10/10 split.
    """
    paths = input_files(input, "QG_jets*.npz", "quark/gluon npz files")
    if Path(input).is_dir():  # a single file is taken as given
        paths = [p for p in paths if _NAMES[with_bc].match(p.name)]
        require(bool(paths), input, f"no file named like {_NAMES[with_bc].pattern}")
    files: list[QGFile] = []
    try:
        for p in paths:
            files.append(QGFile(p, num_particles))
        sizes, left = [], max_jets if max_jets is not None else float("inf")
        for f in files:
            n = int(min(f.x.shape[0], left))
            sizes.append(n)
            left -= n
        assign = contiguous_assign(sum(sizes), FRACTIONS)
        offsets = np.cumsum([0] + sizes)
        sources = [
            Source(str(f.path), assign[offsets[i] : offsets[i + 1]], f.read)
            for i, f in enumerate(files)
            if sizes[i] > 0
        ]
        return write_splits(sources, outdir, CLASSES, num_particles, seed=seed, progress=progress, desc="qg")
    finally:
        for f in files:
            f.x.close()
