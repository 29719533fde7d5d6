"""ATLAS top tagging open data (ATL-PHYS-PUB-2022-039; CERN Open Data record 15013 / 80030) → unified.

Input: a directory with the training file(s) ``train*.h5`` and the test file(s) ``test*.h5``
(the release's ``train.h5``/``test.h5``, or ``train_nominal_*.h5``/``test_nominal_*.h5``); the
training files are taken in order (natural sort) as one sequence. Each is a flat HDF5 file:

========================================================  ==============  ====================
``fjet_clus_pt``, ``fjet_clus_eta``, ``fjet_clus_phi``,   (jets, M)       constituents (Unified
``fjet_clus_E``                                                           Flow Objects), zero padded
``fjet_pt``, ``fjet_eta``, ``fjet_phi``, ``fjet_m``       (jets,)         the groomed R = 1.0 jet
``labels``                                                (jets,)         1 top, 0 QCD
``training_weights`` (or ``weights``)                     (jets,)         per-jet training weight
========================================================  ==============  ====================

Momenta, energies and masses are in MeV and are converted to GeV. The weight dataset is named
``training_weights`` in the release documentation but ``weights`` in the file the OmniLearn
preprocessing read, so either is accepted (``training_weights`` first). The weights are
rescaled to mean 1 in every output split and stored as the unified ``weight``; the paper's
rule is that every jet's loss is weighted by it.

Splits, as the OmniLearn preprocessing: the first 80 % of the training sequence is ``train``,
the remaining 20 % ``val``, the test file(s) ``test``. ``train_fraction`` keeps only the first
part of the training sequence before that split: the registry's ``atlas_small`` uses 0.1 (the
paper's 4 M of 40 M jets), ``atlas`` all of it; the test set is always complete. No PID.
Classes: ``qcd`` = 0, ``top`` = 1.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..data.format import DataFormatError
from .convert import (
    KINEMATICS,
    InputH5,
    PreprocessResult,
    Rows,
    Source,
    contiguous_assign,
    input_files,
    require,
    require_finite,
    require_labels,
    require_numeric,
    stored_jet,
    unified_rows,
    write_splits,
)

CLASSES: tuple[str, ...] = ("qcd", "top")
#: Constituents kept per jet (OmniLearn's ATLAS preprocessing keeps 120).
NUM_PARTICLES = 120
#: train / val of the training sequence (the test file is the test split).
TRAIN_VAL = (0.8, 0.2, 0.0)
MEV = 1e-3
CONSTITUENTS = ("fjet_clus_pt", "fjet_clus_eta", "fjet_clus_phi", "fjet_clus_E")
JET = ("fjet_pt", "fjet_eta", "fjet_phi", "fjet_m")
LABEL = "labels"
WEIGHT_NAMES = ("training_weights", "weights")


class AtlasFile(InputH5):
    """One ATLAS h5 file."""

    def __init__(self, path: Path, num_particles: int):
        self.num_particles = num_particles
        super().__init__(path)

    def _check(self) -> None:
        f, path = self.file, self.path
        self.weight_key = next((k for k in WEIGHT_NAMES if k in f), None)
        missing = [k for k in CONSTITUENTS + JET + (LABEL,) if k not in f]
        if self.weight_key is None:
            missing.append(" or ".join(WEIGHT_NAMES))
        require(not missing, path, f"missing dataset(s) {missing}")
        shape = f[CONSTITUENTS[0]].shape
        require(len(shape) == 2, path, f"'{CONSTITUENTS[0]}' must have shape (jets, constituents), got {shape}")
        bad = [f"{k} {f[k].shape}" for k in CONSTITUENTS if f[k].shape != shape]
        bad += [f"{k} {f[k].shape}" for k in JET + (LABEL, self.weight_key) if f[k].shape != shape[:1]]
        require(not bad, path, f"shapes do not match {CONSTITUENTS[0]} {shape}: {bad}")
        for k in CONSTITUENTS + JET + (LABEL, self.weight_key):
            require_numeric(path, k, f[k].dtype)
        self.num_jets = shape[0]

    def weight_sums(self, assign: np.ndarray, chunk: int = 1 << 20) -> tuple[np.ndarray, np.ndarray]:
        """Sum and count of the weights per split (``assign`` covers the first jets of the file)."""
        s, c = np.zeros(3), np.zeros(3)
        for a in range(0, len(assign), chunk):
            b = min(a + chunk, len(assign))
            w = np.asarray(self.file[self.weight_key][a:b], dtype=np.float64)
            require_finite(self.path, rows=a, **{self.weight_key: w})
            sel = assign[a:b]
            used = sel >= 0
            s += np.bincount(sel[used], weights=w[used], minlength=3)
            c += np.bincount(sel[used], minlength=3)
        return s, c

    def read(self, start: int, stop: int, keep: np.ndarray, scale: np.ndarray) -> Rows:
        f = self.file
        pt, eta, phi, energy = (np.asarray(f[k][start:stop], dtype=np.float64)[keep] for k in CONSTITUENTS)
        jpt, jeta, jphi, jm = (np.asarray(f[k][start:stop], dtype=np.float64)[keep] for k in JET)
        label = np.asarray(f[LABEL][start:stop])[keep]
        weight = np.asarray(f[self.weight_key][start:stop], dtype=np.float64)[keep] * scale
        rows = start + np.flatnonzero(keep)
        require_finite(
            self.path, rows=rows, **dict(zip(CONSTITUENTS + JET, (pt, eta, phi, energy, jpt, jeta, jphi, jm)))
        )
        require_labels(self.path, label, (0, 1), LABEL, rows=rows)
        pt = np.where(pt > 0, pt, 0.0)  # padding may be 0 or negative sentinels; both mean no particle
        jet = stored_jet(jpt * MEV, jeta, jphi, mass=jm * MEV)
        data, jets = unified_rows(pt * MEV, eta, phi, energy * MEV, self.num_particles, jet=jet)
        return Rows(data, jets, label.astype(np.int32), weight.astype(np.float32))


def preprocess(
    input: str | os.PathLike,
    outdir: str | os.PathLike,
    *,
    train_fraction: float = 1.0,
    max_jets: int | None = None,
    num_particles: int = NUM_PARTICLES,
    seed: int = 0,
    progress: bool = True,
) -> PreprocessResult:
    """Convert ``input/train*.h5`` and ``input/test*.h5`` into ``outdir/{train,val,test}.h5``.

    Args:
        train_fraction: leading fraction of the training sequence used (0.1 for ``atlas_small``).
        max_jets: caps the jets taken from the training sequence (after ``train_fraction``) and,
            separately, from the test file(s).
    """
    input = Path(input)
    require(input.is_dir(), input, "expected a directory holding train*.h5 and test*.h5")
    if not 0 < train_fraction <= 1:
        raise ValueError(f"train_fraction must be in (0, 1], got {train_fraction}")
    train_paths = input_files(input, "train*.h5", "ATLAS training files")
    test_paths = input_files(input, "test*.h5", "ATLAS test files")
    files: list[AtlasFile] = []
    try:
        for p in train_paths + test_paths:
            files.append(AtlasFile(p, num_particles))
        train_files, test_files = files[: len(train_paths)], files[len(train_paths) :]
        cap = float("inf") if max_jets is None else max_jets

        def take(group: list[AtlasFile], n_total: float) -> list[int]:
            sizes, left = [], n_total
            for f in group:
                sizes.append(int(min(f.num_jets, left)))
                left -= sizes[-1]
            return sizes

        pool = int(sum(f.num_jets for f in train_files) * train_fraction)
        train_sizes = take(train_files, min(pool, cap))
        test_sizes = take(test_files, cap)
        pool_assign = contiguous_assign(sum(train_sizes), TRAIN_VAL)
        offsets = np.cumsum([0] + train_sizes)
        assigns = [pool_assign[offsets[i] : offsets[i + 1]] for i in range(len(train_files))]
        assigns += [np.full(n, 2, dtype=np.int8) for n in test_sizes]

        # Mean-1 weights per split need each split's total first (one pass over the weights only).
        total, count = np.zeros(3), np.zeros(3)
        for f, assign in zip(files, assigns):
            s, c = f.weight_sums(assign)
            total, count = total + s, count + c
        if np.any((count > 0) & (total <= 0)):
            raise DataFormatError(f"{input}: the training weights of a split sum to {total.tolist()} (must be > 0)")
        scale = np.divide(count, total, out=np.ones(3), where=total > 0)

        sources = [
            Source(str(f.path), assign, lambda a, b, k, f=f, assign=assign: f.read(a, b, k, scale[assign[a:b][k]]))
            for f, assign in zip(files, assigns)
            if len(assign)
        ]
        return write_splits(
            sources,
            outdir,
            CLASSES,
            num_particles,
            with_weight=True,
            seed=seed,
            progress=progress,
            desc="atlas",
            present_features=KINEMATICS,
        )
    finally:
        for f in files:
            f.close()
