"""Machinery shared by the real-format preprocessors (:mod:`.top`, :mod:`.qg`, :mod:`.cms`,
:mod:`.atlas`, :mod:`.h1`, :mod:`.jetclass`).

Each preprocessor checks its input, decides for every input jet which split it goes to (or
none), and hands :func:`write_splits` a list of :class:`Source` objects: one per input file or
tree, each with a per-jet split assignment and a ``read(start, stop, keep)`` that converts a
block of input jets into unified rows with :func:`unified_rows`. :func:`write_splits` then

* reads the blocks of all sources in a random interleaving that keeps each source's own
  order (so streamed formats are read front to back, and inputs ordered by class or by
  generator pT bin still give mixed output),
* shuffles the rows once more in a per-split write buffer of a few thousand jets,
* writes ``train``, ``val`` and ``test`` at once in a staging directory, closes ``train``
  first and gives its normalisation to ``val``/``test``, and only when all three are complete
  moves them into ``outdir``. On any error the staging directory is removed, so a run leaves
  either all three files or none (a previous complete set in ``outdir`` is left untouched).
  A run killed with ``kill -9`` leaves its staging directory (``.staging-<host>-<pid>-*``); the
  next run removes it at its start (:func:`remove_stale_staging`), and if the kill fell between
  the moves of the three files (marked by a ``COMMITTING`` file in the staging directory), first
  moves the remaining ones in, so ``outdir`` never keeps a mix of two runs' files.

Jet array convention (the unified ``jet`` = pT, eta, mass, multiplicity): datasets that only
ship constituents (top, qg) use the four-vector sum of the *kept* constituents, as
:mod:`.pythia` does; datasets that ship a reconstructed (calibrated, groomed) jet (CMS, ATLAS,
H1, JetClass) use that jet, and the particle fractions are taken relative to it, as the OmniLearn
preprocessing does. The multiplicity is always the number of particles stored in ``data``.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .. import atomic
from ..data.features import (
    JET_FEATURES,
    NUM_KINEMATIC_FEATURES,
    NUM_PARTICLE_FEATURES,
    PARTICLE_FEATURES,
    jet_array,
    jet_kinematics,
    particle_features,
)
from ..data.format import SPLITS, DataFormatError, Normalization, UnifiedWriter

#: The columns a dataset without charge or particle type fills (top tagging, ATLAS, JetNet); the
#: others stay 0, and the files say so (their ``present_features`` attribute).
KINEMATICS: tuple[str, ...] = PARTICLE_FEATURES[:NUM_KINEMATIC_FEATURES]
#: H1: the charge is known, the particle type is not.
KINEMATICS_AND_CHARGE: tuple[str, ...] = KINEMATICS + ("charge",)


class Rows(NamedTuple):
    """Converted jets: ``data`` (n, P, 13), ``jet`` (n, 4), ``pid`` (n,), ``weight`` (n,) or None."""

    data: np.ndarray
    jet: np.ndarray
    pid: np.ndarray
    weight: np.ndarray | None = None


@dataclass
class Source:
    """One input stream of jets.

    Attributes:
        name: shown in error messages (file, or file and tree).
        assign: ``(n,)`` int8, split index (0 train, 1 val, 2 test) of every input jet, -1 to skip.
        read: ``read(start, stop, keep)`` converts input jets ``start:stop`` where the boolean
            ``keep`` ``(stop - start,)`` is set into :class:`Rows` (one row per kept jet, in order).
            Calls come in increasing, contiguous ``start`` order.
        unit: what one input row is, in error messages ("jet", or "entry" for a ROOT tree).
    """

    name: str
    assign: np.ndarray
    read: Callable[[int, int, np.ndarray], Rows]
    unit: str = "jet"

    @property
    def size(self) -> int:
        return len(self.assign)


@dataclass(frozen=True)
class PreprocessResult:
    """Where the unified files went and how many jets each holds."""

    paths: dict[str, Path]
    counts: dict[str, int]
    classes: tuple[str, ...]


# ----------------------------------------------------------------------------------------------
# Input checks


def require(condition: bool, path: str | os.PathLike, problem: str) -> None:
    """Raise :class:`DataFormatError` ``"<path>: <problem>"`` unless ``condition``."""
    if not condition:
        raise DataFormatError(f"{path}: {problem}")


def _row(rows: int | np.ndarray, i: int) -> int:
    """The input index of the ``i``-th jet of a block: ``rows + i`` or ``rows[i]``."""
    return int(rows + i) if np.ndim(rows) == 0 else int(np.asarray(rows)[i])


def require_finite(path: str | os.PathLike, *, rows: int | np.ndarray = 0, unit: str = "jet", **arrays) -> None:
    """A NaN/inf in the input is a broken file, not something to carry into training.

    Axis 0 of every array runs over the jets of a block; ``rows`` is their index in the input
    (the first one's, or one per jet), so the error names the first bad one: ``"<path>: jet 17:
    non-finite value in 'X' (3 jets)"`` (``unit`` names what a row is: jet, entry, event).
    """
    for name, arr in arrays.items():
        arr = np.asarray(arr)
        require_numeric(path, name, arr.dtype)
        if arr.size and not np.isfinite(arr).all():
            bad = ~np.isfinite(arr.reshape(len(arr), -1)).all(axis=1)
            first = _row(rows, int(np.argmax(bad)))
            raise DataFormatError(
                f"{path}: {unit} {first}: non-finite value in '{name}' ({count(int(bad.sum()), unit)})"
            )


def require_labels(
    path: str | os.PathLike,
    labels: np.ndarray,
    allowed: Sequence[int],
    name: str,
    *,
    rows: int | np.ndarray = 0,
    unit: str = "jet",
) -> None:
    """Every label one of ``allowed``; else the error names the first bad jet and its value."""
    labels = np.asarray(labels)
    require_numeric(path, name, labels.dtype)
    bad = ~np.isin(labels, allowed)
    if bad.any():
        i = int(np.argmax(bad))
        raise DataFormatError(
            f"{path}: {unit} {_row(rows, i)}: '{name}' is {labels[i]:g}, expected one of {list(allowed)} "
            f"({count(int(bad.sum()), unit)})"
        )


def require_numeric(path: str | os.PathLike, name: str, dtype: np.dtype) -> None:
    """Numbers, not strings (or objects): ``"1.5"`` in a numeric column means a broken export."""
    if np.dtype(dtype).kind not in "biuf":
        raise DataFormatError(f"{path}: '{name}' holds {np.dtype(dtype)} values, expected numbers")


#: What reading a damaged input raises (h5py and uproot: OSError; zip and zlib streams).
READ_ERRORS: tuple[type[BaseException], ...] = (OSError, EOFError, zipfile.BadZipFile, zlib.error)


def one_line(err: BaseException, limit: int = 300) -> str:
    """An error from a reader library as one line (uproot's span several), at most ``limit`` characters."""
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def count(n: int, unit: str) -> str:
    """``"1 jet"``, ``"3 jets"``, ``"2 entries"``."""
    if n == 1:
        return f"1 {unit}"
    return f"{n} {unit[:-1]}ies" if unit.endswith("y") else f"{n} {unit}s"


class InputH5:
    """One public-format HDF5 input, opened read-only and checked by the subclass's ``_check``.

    A file that is not HDF5, or fails the check, raises :class:`DataFormatError` naming it and
    is closed again, so a bad input never leaves a handle open.
    """

    def __init__(self, path: str | os.PathLike):
        import h5py  # lazily: only the h5 formats need it

        self.path = Path(path)
        try:
            self.file = h5py.File(self.path, "r")
        except OSError as err:
            raise DataFormatError(f"{self.path}: not a readable HDF5 file ({err})") from None
        try:
            self._check()
        except BaseException:
            self.file.close()
            raise

    def _check(self) -> None:
        """Raise :class:`DataFormatError` if the file is not in the format (subclasses)."""

    def close(self) -> None:
        self.file.close()


def import_uproot(what: str):
    """``(uproot, awkward)`` for the ROOT converters, or an ImportError saying how to install them."""
    try:
        import awkward as ak
        import uproot
    except ImportError as err:  # an optional dependency: pip install .[rootio]
        raise ImportError(f"the {what} preprocessor needs uproot and awkward (pip install -e .[rootio])") from err
    return uproot, ak


def padded(jagged, width: int) -> np.ndarray:
    """An awkward ``(n, var)`` array as float64 ``(n, width)``, cut at ``width`` and zero-padded."""
    _, ak = import_uproot("ROOT")
    return ak.to_numpy(ak.fill_none(ak.pad_none(jagged, width, axis=1, clip=True), 0.0)).astype(np.float64)


def input_files(input: str | os.PathLike, pattern: str, what: str) -> list[Path]:
    """``input`` itself if it is a file, else the files under it matching ``pattern`` (sorted
    naturally: ``x_2`` before ``x_10``)."""
    path = Path(input)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise DataFormatError(f"{path}: no such file or directory ({what} expected)")
    files = sorted((p for p in path.rglob(pattern) if p.is_file()), key=_natural_key)
    if not files:
        raise DataFormatError(f"{path}: no {what} ({pattern}) found")
    return files


def _natural_key(path: Path) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(path))]


# ----------------------------------------------------------------------------------------------
# Split assignment


def split_counts(n: int, fractions: Sequence[float]) -> list[int]:
    """Jets per split: ``floor(n * f)`` for all but the last split, which takes the rest."""
    if len(fractions) != len(SPLITS) or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(f"split fractions must be {len(SPLITS)} non-negative numbers summing to 1, got {fractions}")
    counts = [int(n * f) for f in fractions[:-1]]
    return counts + [n - sum(counts)]


def contiguous_assign(n: int, fractions: Sequence[float]) -> np.ndarray:
    """Split ids for ``n`` jets taken in order: the first ``floor(n * f_train)`` are train, ..."""
    return np.repeat(np.arange(len(SPLITS), dtype=np.int8), split_counts(n, fractions))


def random_assign(selected: np.ndarray, fractions: Sequence[float], rng: np.random.Generator) -> np.ndarray:
    """Split ids (-1 where not ``selected``) with the selected jets spread at random over splits."""
    out = np.full(len(selected), -1, dtype=np.int8)
    idx = np.flatnonzero(selected)
    out[rng.permutation(idx)] = contiguous_assign(len(idx), fractions)
    return out


def balance_classes(labels: np.ndarray, num_classes: int, rng: np.random.Generator) -> np.ndarray:
    """Mask keeping the same number of jets of every class (labels < 0 are never kept): a random
    subset of each larger class, as many as the smallest class has."""
    keep = np.zeros(len(labels), dtype=bool)
    per_class = [np.flatnonzero(labels == c) for c in range(num_classes)]
    n = min(len(i) for i in per_class)
    for idx in per_class:
        keep[rng.choice(idx, n, replace=False)] = True
    return keep


# ----------------------------------------------------------------------------------------------
# Kinematics → unified rows


def ptyphim_to_ptetaphie(pt, y, phi, m) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(pT, rapidity, phi, mass) → (pT, pseudorapidity, phi, energy); entries with pT = 0 stay 0.

    With m_T = sqrt(pT² + m²): E = m_T cosh y, p_z = m_T sinh y, eta = asinh(p_z / pT).
    """
    pt, y, phi, m = (np.asarray(a, dtype=np.float64) for a in (pt, y, phi, m))
    real = pt > 0
    mt = np.sqrt(pt**2 + m**2)
    pz = mt * np.sinh(y)
    eta = np.arcsinh(np.divide(pz, pt, out=np.zeros_like(pz), where=real))
    return (
        np.where(real, pt, 0.0),
        np.where(real, eta, 0.0),
        np.where(real, phi, 0.0),
        np.where(real, mt * np.cosh(y), 0.0),
    )


def stored_jet(pt, eta, phi, mass=None, energy=None) -> dict[str, np.ndarray]:
    """A dataset's reconstructed jet as the dict :func:`unified_rows` takes; give ``mass`` or
    ``energy`` (the other follows from |p| = pT cosh eta). Shapes ``(jets,)``."""
    pt, eta, phi = (np.asarray(a, dtype=np.float64) for a in (pt, eta, phi))
    p = pt * np.cosh(eta)
    if energy is None:
        m = np.asarray(mass, dtype=np.float64)
        energy = np.sqrt(p**2 + m**2)
    else:
        energy = np.asarray(energy, dtype=np.float64)
        m = np.sqrt(np.clip(energy**2 - p**2, 0.0, None))
    return {"pt": pt, "eta": eta, "phi": phi, "energy": energy, "mass": m}


def pad_columns(arr: np.ndarray, width: int) -> np.ndarray:
    """``(n, k)`` → ``(n, width)``: cut or zero-pad the particle axis."""
    if arr.shape[1] >= width:
        return arr[:, :width]
    return np.pad(arr, ((0, 0), (0, width - arr.shape[1])))


def unified_rows(
    pt: np.ndarray,
    eta: np.ndarray,
    phi: np.ndarray,
    energy: np.ndarray,
    num_particles: int,
    jet: dict[str, np.ndarray] | None = None,
    charge: np.ndarray | None = None,
    pdg_id: np.ndarray | None = None,
    charge_only: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """The unified ``data`` and ``jet`` arrays of a block of jets.

    Args:
        pt, eta, phi, energy: constituents ``(jets, k)``, any order, padding has ``pt == 0``.
        num_particles: P; the P hardest constituents are kept, in decreasing pT.
        jet: the dataset's reconstructed jet (see :func:`stored_jet`); None uses the sum of the
            kept constituents.
        charge, pdg_id: ``(jets, k)`` for datasets with PID (passed to ``particle_features``).
        charge_only: the dataset knows the charge but not the particle type (H1): only the
            charge column is filled, the PID flags stay 0 rather than being guessed.

    Returns:
        ``data`` ``(jets, P, 13)`` float32 and ``jet`` ``(jets, 4)`` float32.
    """
    pt = np.asarray(pt, dtype=np.float64)
    order = np.argsort(-pt, axis=1, kind="stable")[:, :num_particles]

    def take(a):
        return pad_columns(np.take_along_axis(np.asarray(a), order, axis=1), num_particles)

    pt, eta, phi, energy = take(pt), take(eta), take(phi), take(energy)
    q = None if charge is None else take(charge)
    pid = None if pdg_id is None else take(pdg_id)
    kin = jet_kinematics(pt, eta, phi, energy) if jet is None else jet
    if charge_only:
        data = particle_features(pt, eta, phi, energy, kin["pt"], kin["eta"], kin["phi"], kin["energy"])
        data[..., 7] = np.where(pt > 0, q, 0.0)
    else:
        data = particle_features(
            pt, eta, phi, energy, kin["pt"], kin["eta"], kin["phi"], kin["energy"], charge=q, pdg_id=pid
        )
    jets = jet_array({**kin, "multiplicity": (pt > 0).sum(1).astype(np.float64)})
    return data, jets


# ----------------------------------------------------------------------------------------------
# Writing


STAGING = ".staging-"
#: Written into a staging directory before its files are moved out; a killed run's next run
#: finishes the moves (the three files then all come from one run).
COMMITTING = "COMMITTING"
#: A staging directory of a writer on another host (whose process cannot be checked) is stale
#: when nothing in it changed for this long; a live conversion writes into it all the time.
STALE_STAGING_SECONDS = 3600.0


def remove_stale_staging(outdir: str | os.PathLike) -> list[Path]:
    """Remove the staging directories killed runs left in ``outdir`` (see :mod:`omnilearn.atomic`:
    only those whose writer is gone); one killed while moving its files out is finished first."""

    def finish_commit(staging: Path) -> None:
        if (staging / COMMITTING).exists():
            for name in (staging / COMMITTING).read_text().split():
                if (staging / name).exists():
                    os.replace(staging / name, staging.parent / name)

    return atomic.remove_stale(
        outdir,
        STAGING + "*",
        lambda name: name[len(STAGING) :].rpartition("-")[0],
        STALE_STAGING_SECONDS,
        before_removal=finish_commit,
    )


class _SplitWriters:
    """The three split writers in a staging directory, with a per-split shuffle buffer."""

    def __init__(
        self,
        outdir: Path,
        classes: Sequence[str],
        num_particles: int,
        with_weight: bool,
        buffer: int,
        rng: np.random.Generator | None,
        present_features: Sequence[str] | None = None,
    ):
        self.outdir = outdir
        self.created_outdir = not outdir.exists()
        outdir.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(outdir)
        # Same directory as the output, so the final moves are renames on one filesystem.
        self.staging = Path(tempfile.mkdtemp(prefix=f"{STAGING}{atomic.writer_tag()}-", dir=outdir))
        self.buffer = max(int(buffer), 1)
        self.rng = rng
        self.pending: list[list[Rows]] = [[] for _ in SPLITS]
        self.pending_n = [0] * len(SPLITS)
        # val/test get the train normalisation at close; a placeholder keeps them from
        # collecting statistics of their own meanwhile.
        placeholder = Normalization(
            np.zeros(NUM_PARTICLE_FEATURES),
            np.ones(NUM_PARTICLE_FEATURES),
            np.zeros(len(JET_FEATURES)),
            np.ones(len(JET_FEATURES)),
        )
        self.writers: list[UnifiedWriter] = []
        for split in SPLITS:
            self.writers.append(
                UnifiedWriter(
                    self.staging / f"{split}.h5",
                    num_particles,
                    classes,
                    with_weight=with_weight,
                    normalization=None if split == "train" else placeholder,
                    present_features=present_features,
                )
            )

    def add(self, split: int, rows: Rows) -> None:
        if len(rows.pid) == 0:
            return
        self.pending[split].append(rows)
        self.pending_n[split] += len(rows.pid)
        if self.pending_n[split] >= self.buffer:
            self._flush(split)

    def _flush(self, split: int) -> None:
        if not self.pending[split]:
            return
        parts = self.pending[split]
        weight = None if parts[0].weight is None else np.concatenate([r.weight for r in parts])
        rows = Rows(
            np.concatenate([r.data for r in parts]),
            np.concatenate([r.jet for r in parts]),
            np.concatenate([r.pid for r in parts]),
            weight,
        )
        if self.rng is not None:
            perm = self.rng.permutation(len(rows.pid))
            rows = Rows(*(None if a is None else a[perm] for a in rows))
        self.writers[split].append(rows.data, rows.jet, rows.pid.astype(np.int32), rows.weight)
        self.pending[split], self.pending_n[split] = [], 0

    def commit(self, allow_empty: Sequence[str] = ()) -> dict[str, Path]:
        for s in range(len(SPLITS)):
            self._flush(s)
        empty = [split for split, w in zip(SPLITS, self.writers) if w.count == 0 and split not in allow_empty]
        if empty:
            raise ValueError(f"no jets in split(s) {empty}: the input is too small or the selection too tight")
        train = self.writers[0]
        train.close()
        for w in self.writers[1:]:
            w.normalization = train.normalization
            w.close()
        names = [f"{split}.h5" for split in SPLITS]
        (self.staging / COMMITTING).write_text("\n".join(names))
        paths = {}
        for split in SPLITS:
            final = self.outdir / f"{split}.h5"
            os.replace(self.staging / f"{split}.h5", final)
            paths[split] = final
        shutil.rmtree(self.staging, ignore_errors=True)
        return paths

    def abort(self) -> None:
        for w in self.writers:
            if w.tmp.exists():
                w.abort()
        shutil.rmtree(self.staging, ignore_errors=True)
        if self.created_outdir:
            try:
                self.outdir.rmdir()  # only if empty
            except OSError:
                pass


def interleave_plan(sizes: Sequence[int], block: int, rng: np.random.Generator) -> list[tuple[int, int, int]]:
    """``(source, start, stop)`` blocks of all sources in a uniformly random interleaving that
    keeps each source's blocks in order."""
    keys, plan = [], []
    for s, n in enumerate(sizes):
        starts = list(range(0, n, block))
        plan += [(s, a, min(a + block, n)) for a in starts]
        # Sorted uniforms per source: a random merge that preserves the order inside a source.
        keys.append(np.sort(rng.random(len(starts))))
    if not plan:
        return []
    order = np.argsort(np.concatenate(keys), kind="stable")
    return [plan[i] for i in order]


def write_splits(
    sources: Sequence[Source],
    outdir: str | os.PathLike,
    classes: Sequence[str],
    num_particles: int,
    *,
    with_weight: bool = False,
    seed: int = 0,
    block: int = 2048,
    buffer: int = 8192,
    progress: bool = True,
    desc: str = "preprocess",
    allow_empty: Sequence[str] = (),
    present_features: Sequence[str] | None = None,
) -> PreprocessResult:
    """Stream every source into ``outdir/{train,val,test}.h5`` (all three or none, see module doc).

    Args:
        sources: the inputs, with their per-jet split assignment.
        classes: class names, label order.
        num_particles: P of the output.
        with_weight: every :class:`Rows` carries a weight and the files get a ``weight`` dataset.
        seed: seeds the interleaving and the write-buffer shuffle.
        block: input jets read per ``Source.read`` call.
        buffer: jets per split shuffled together before each write.
        progress: show a ``tqdm`` bar over input jets.
        allow_empty: splits that may end up with no jets (written as empty files); any other
            empty split is an error.
        present_features: the particle features the dataset really provides (e.g.
            :data:`KINEMATICS`), recorded in the files; None: all of them.
    """
    outdir = Path(outdir)
    rng = np.random.default_rng(seed)
    plan = interleave_plan([s.size for s in sources], block, rng)
    bar = _progress_bar(sum(s.size for s in sources), progress, desc)
    writers = _SplitWriters(outdir, classes, num_particles, with_weight, buffer, rng, present_features)
    try:
        for s, a, b in plan:
            src = sources[s]
            assign = src.assign[a:b]
            keep = assign >= 0
            if keep.any():
                try:
                    rows = src.read(a, b, keep)
                except READ_ERRORS as err:  # a damaged input (truncated, corrupt block), not our output
                    raise DataFormatError(
                        f"{src.name}: {src.unit}s {a}..{b - 1} cannot be read ({one_line(err)})"
                    ) from None
                which = assign[keep]
                if len(which) != len(rows.pid):
                    raise RuntimeError(f"{src.name}: read returned {len(rows.pid)} rows for {len(which)} kept jets")
                check_rows(src, rows, a + np.flatnonzero(keep), len(classes))
                for split in range(len(SPLITS)):
                    sel = which == split
                    if sel.any():
                        writers.add(split, Rows(*(None if x is None else x[sel] for x in rows)))
            bar.update(b - a)
        paths = writers.commit(allow_empty)
    except BaseException:
        writers.abort()
        raise
    finally:
        bar.close()
    counts = {split: w.count for split, w in zip(SPLITS, writers.writers)}
    return PreprocessResult(paths, counts, tuple(classes))


def check_rows(src: Source, rows: Rows, input_rows: np.ndarray, num_classes: int) -> None:
    """The converted jets of a block are fit to train on: finite, labelled 0 … C-1, and with at
    least one particle. Otherwise a :class:`DataFormatError` names the source and the input row
    (``input_rows``: the input index of each converted jet) of the first bad jet.

    The converters check their input as they read it; this is the one check every converter
    shares, so that no format can slip a bad jet into the output.
    """
    n = len(rows.pid)
    problems = []
    for what, arr in (("particle", rows.data), ("jet", rows.jet), ("weight", rows.weight)):
        if arr is not None:
            problems.append((~np.isfinite(arr.reshape(n, -1)).all(axis=1), f"non-finite {what} values"))
    pid = np.asarray(rows.pid)
    problems.append(((pid < 0) | (pid >= num_classes), f"label outside 0..{num_classes - 1}"))
    problems.append(
        (~np.any(rows.data != 0, axis=-1).any(axis=1), "no particle (none in the input, or none passing the cuts)")
    )
    for bad, what in problems:
        if bad.any():
            first = int(input_rows[int(np.argmax(bad))])
            raise DataFormatError(
                f"{src.name}: {src.unit} {first}: {what} ({count(int(bad.sum()), src.unit)} in this block)"
            )


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(total: int, enabled: bool, desc: str):
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit="jet", desc=desc, smoothing=0.1)
