"""LHC Olympics 2020 R&D dataset (Kasieczka, Nachman, Shih; Zenodo 4536377) → unified event files.

Input: ``events_anomalydetection_v2.h5``, a pandas HDF5 frame under key ``df`` in the table
layout (``df.to_hdf(path, key="df", format="table")``: compound dataset ``/df/table`` whose
``values_block_0`` field holds the 2101 float columns); the fixed layout is read as well.
Columns ``0 … 2099`` are up to 700 massless particles per event as (pT [GeV], η, φ) triplets,
zero-padded; column ``2100`` is the label (0 QCD dijet, 1 W′ → X(→qq) Y(→qq) signal). The
release holds 1.0 M background and 0.1 M signal events (Delphes, no particle type or charge).

Conversion, streamed in row blocks (paper Sec. VIII): anti-kT R = 1.0 with ``fastjet`` on the
particles with pT > 0; the two leading jets in pT; the event is kept if the leading one has
pT > 1.2 TeV (the release's trigger). Every particle of the two jets is kept, hardest first, up
to ``num_particles`` = 279 per jet (the paper's maximum); the jet four-vector is the FastJet jet
(the sum of all its particles, so a smaller ``num_particles`` does not shift m_jj; with 279 it
is also the sum of the kept ones), m_jj that of the two jets, the multiplicity the number of
particles kept. Events are assigned at random to ``train``/``val``/``test`` (``fractions``), and the
three files of the event format (:mod:`omnilearn.data.events`) are written together: all three
or none.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from .. import atomic
from ..data.events import EVENT_CLASSES, NUM_PARTICLES, EventWriter, dijet_mass
from ..data.features import particle_features
from ..data.format import SPLITS, DataFormatError
from .convert import (
    COMMITTING,
    KINEMATICS,
    STAGING,
    PreprocessResult,
    _progress_bar,
    count,
    remove_stale_staging,
    require,
    require_finite,
    require_labels,
)
from .top import PandasFrame

KEY = "df"
FILE_NAME = "events_anomalydetection_v2.h5"
JET_RADIUS = 1.0
MIN_LEADING_PT = 1200.0
#: Train / val / test fractions of the events (the paper's split is not stated).
FRACTIONS: tuple[float, float, float] = (0.6, 0.2, 0.2)


def dijet_events(
    pt: np.ndarray,
    eta: np.ndarray,
    phi: np.ndarray,
    energy: np.ndarray,
    counts: np.ndarray,
    num_particles: int = NUM_PARTICLES,
    min_leading_pt: float = MIN_LEADING_PT,
    radius: float = JET_RADIUS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cluster events and build their two-jet rows.

    Args:
        pt, eta, phi, energy: flat ``(sum(counts),)`` particle arrays of all events, event after
            event (only particles with pT > 0 given).
        counts: particles per event ``(N,)``.

    Returns:
        ``keep`` ``(N,)`` bool (events with two jets and a leading jet above ``min_leading_pt``),
        and for the kept events ``data`` ``(n, 2, P, 13)``, ``jet`` ``(n, 2, 5)``, ``mjj`` ``(n,)``.
    """
    import awkward as ak
    import fastjet

    counts = np.asarray(counts, dtype=np.int64)
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    vectors = ak.zip(
        {name: ak.unflatten(arr, counts) for name, arr in (("px", px), ("py", py), ("pz", pz), ("E", energy))}
    )
    cluster = fastjet.ClusterSequence(vectors, fastjet.JetDefinition(fastjet.antikt_algorithm, radius))
    jets = cluster.inclusive_jets()
    jet_pt = np.hypot(jets.px, jets.py)
    order = ak.argsort(jet_pt, axis=1, ascending=False)[:, :2]
    leading = ak.to_numpy(ak.fill_none(ak.firsts(jet_pt[order]), 0.0))
    keep = (ak.to_numpy(ak.num(order)) == 2) & (leading > min_leading_pt)
    empty = np.zeros((0, 2, num_particles, 13), np.float32)
    if not keep.any():
        return keep, empty, np.zeros((0, 2, 5), np.float32), np.zeros(0, np.float32)
    constituents = cluster.constituent_index()[order][keep]  # (n, 2, var)
    offsets = np.concatenate([[0], np.cumsum(counts)])[:-1][keep]
    per_jet = ak.flatten(constituents, axis=1)  # (2n, var)
    sizes = ak.to_numpy(ak.num(per_jet))
    jet_id = np.repeat(np.arange(len(sizes)), sizes)
    flat = ak.to_numpy(ak.flatten(per_jet)).astype(np.int64) + np.repeat(offsets, 2)[jet_id]
    # hardest first inside each jet, then scatter the first num_particles into padded rows
    order_in = np.lexsort((-pt[flat], jet_id))
    flat, jet_id = flat[order_in], jet_id[order_in]
    rank = np.arange(len(flat)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    sel = rank < num_particles
    shape = (len(sizes), num_particles)
    padded = []
    for arr in (pt, eta, phi, energy):
        out = np.zeros(shape)
        out[jet_id[sel], rank[sel]] = arr[flat[sel]]
        padded.append(out)
    # the jet is the sum of *all* its particles (the FastJet jet), so m_jj does not depend on P
    full = _kinematics(*(np.bincount(jet_id, arr[flat], minlength=len(sizes)) for arr in (px, py, pz, energy)))
    data = particle_features(*padded, full["pt"], full["eta"], full["phi"], full["energy"])
    full["multiplicity"] = (padded[0] > 0).sum(1).astype(np.float64)
    jet = np.stack([full[k] for k in ("pt", "eta", "phi", "mass", "multiplicity")], axis=-1)
    jet = jet.reshape(-1, 2, 5)
    data = data.reshape((-1, 2) + data.shape[1:])
    return keep, data, jet.astype(np.float32), dijet_mass(jet).astype(np.float32)


def _kinematics(px, py, pz, e) -> dict[str, np.ndarray]:
    pt = np.hypot(px, py)
    return {
        "pt": pt,
        "eta": np.arcsinh(np.divide(pz, pt, out=np.zeros_like(pz), where=pt > 0)),
        "phi": np.arctan2(py, px),
        "energy": e,
        "mass": np.sqrt(np.clip(e**2 - px**2 - py**2 - pz**2, 0.0, None)),
    }


class LHCOFile(PandasFrame):
    """The R&D frame: ``3k + 1`` numeric columns, particles then the label; converts row blocks."""

    def __init__(self, path: str | os.PathLike, key: str = KEY):
        super().__init__(path, key)

    def _check(self) -> None:
        super()._check()
        ncol = len(self.columns)
        require(
            ncol >= 4 and ncol % 3 == 1,
            self.path,
            f"expected 3 × (particles) + 1 label columns (2101 in the release), found {ncol}",
        )
        self.num_constituents = (ncol - 1) // 3
        self.require_numbers(self.columns)
        require(self.num_rows > 0, self.path, "the frame holds no events")

    def read_block(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(pt, eta, phi)`` ``(rows, k)`` and the labels of rows ``start:stop``, checked."""
        raw = self.read_columns(start, stop, self.columns)
        parts = raw[:, :-1].reshape(len(raw), self.num_constituents, 3)
        label = raw[:, -1]
        pt, eta, phi = parts[..., 0], parts[..., 1], parts[..., 2]
        require_finite(self.path, rows=start, unit="event", particles=parts, label=label)
        require_labels(self.path, label, (0, 1), "label (column 2100)", rows=start, unit="event")
        bad = (pt < 0).any(axis=1)
        if bad.any():
            raise DataFormatError(
                f"{self.path}: event {start + int(np.argmax(bad))}: negative particle pT "
                f"({count(int(bad.sum()), 'event')} in this block)"
            )
        return pt, eta, phi, label.astype(np.int32)


Block = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def write_event_splits(
    outdir: str | os.PathLike,
    blocks: Iterable[Block],
    *,
    fractions: Sequence[float] = FRACTIONS,
    num_particles: int = NUM_PARTICLES,
    seed: int = 0,
    present_features: Sequence[str] | None = KINEMATICS,
    name: str = "",
    why_empty: Callable[[], str] = lambda: "the input is too small",
) -> PreprocessResult:
    """Write ``(data, jet, mjj, label)`` event blocks into ``outdir/{train,val,test}.h5``, each
    event to a split drawn at random with ``fractions``; all three files or none (the staging
    and commit protocol of :mod:`.convert`). An empty split raises :class:`DataFormatError`
    ``"<name>: no events in split(s) … (<why_empty()>)"``."""
    if len(fractions) != len(SPLITS) or min(fractions) < 0 or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(f"fractions must be 3 non-negative numbers summing to 1, got {fractions}")
    outdir = Path(outdir)
    created = not outdir.exists()
    outdir.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(outdir)
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING}{atomic.writer_tag()}-", dir=outdir))
    writers: list[EventWriter] = []
    rng = np.random.default_rng(seed)
    try:
        writers = [EventWriter(staging / f"{s}.h5", num_particles, present_features) for s in SPLITS]
        for data, jet, mjj, label in blocks:
            which = rng.choice(len(SPLITS), size=len(label), p=np.asarray(fractions, dtype=np.float64))
            for k, w in enumerate(writers):
                sel = which == k
                w.append(data[sel], jet[sel], mjj[sel], label[sel])
        empty = [s for s, w in zip(SPLITS, writers) if w.count == 0]
        if empty:
            raise DataFormatError(f"{name}: no events in split(s) {empty} ({why_empty()})")
        counts = {s: w.count for s, w in zip(SPLITS, writers)}
        for w in writers:
            w.close()
        # a run killed between these moves is finished by the next one (see convert.py)
        (staging / COMMITTING).write_text("\n".join(f"{s}.h5" for s in SPLITS))
        paths = {}
        for s in SPLITS:
            paths[s] = outdir / f"{s}.h5"
            os.replace(staging / f"{s}.h5", paths[s])
    except BaseException:
        for w in writers:
            w.abort()
        shutil.rmtree(staging, ignore_errors=True)
        if created:
            try:
                outdir.rmdir()  # only if empty
            except OSError:
                pass
        raise
    shutil.rmtree(staging, ignore_errors=True)
    return PreprocessResult(paths, counts, EVENT_CLASSES)


def preprocess(
    input: str | os.PathLike,
    outdir: str | os.PathLike,
    *,
    max_jets: int | None = None,
    num_particles: int = NUM_PARTICLES,
    fractions: Sequence[float] = FRACTIONS,
    min_leading_pt: float = MIN_LEADING_PT,
    seed: int = 0,
    block: int = 4096,
    progress: bool = True,
) -> PreprocessResult:
    """Convert the R&D file (or a directory holding :data:`FILE_NAME`) into
    ``outdir/{train,val,test}.h5`` event files; ``max_jets`` caps the events read (the name all
    converters share)."""
    input = Path(input)
    if input.is_dir():
        input = input / FILE_NAME
    require(input.is_file(), input, "no such file (the LHCO R&D events_anomalydetection_v2.h5 expected)")
    frame = LHCOFile(input)
    total = frame.num_rows if max_jets is None else min(frame.num_rows, max_jets)
    rejected = [0]

    def blocks() -> Iterator[Block]:
        for a in range(0, total, block):
            b = min(a + block, total)
            pt, eta, phi, label = frame.read_block(a, b)
            real = pt > 0
            p, e, f = pt[real], eta[real], phi[real]
            keep, data, jet, mjj = dijet_events(p, e, f, p * np.cosh(e), real.sum(1), num_particles, min_leading_pt)
            rejected[0] += int((~keep).sum())
            yield data, jet, mjj, label[keep]
            bar.update(b - a)

    bar = _progress_bar(total, progress, "lhco")
    try:
        return write_event_splits(
            outdir,
            blocks(),
            fractions=fractions,
            num_particles=num_particles,
            seed=seed,
            name=str(input),
            why_empty=lambda: (
                f"{rejected[0]} of {total} events fail the two-jet, leading pT > {min_leading_pt:g} GeV "
                "selection, or the input is too small"
            ),
        )
    finally:
        bar.close()
        frame.close()
