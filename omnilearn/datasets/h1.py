"""H1 DIS simulation (Djangoh 1.4 vs Rapgap 3.1, paper Sec. IV) from ROOT minitrees → unified.

The H1 minitrees are not public, so this module defines the layout it reads (documented here
and written by the test fixture with ``uproot``). Input: a directory searched for ``*.root``
files, or one file. Every file holds one or more TTrees ``<Generator>/minitree`` where the
directory name starts with ``Django`` (label 0, ``djangoh``) or ``Rapgap`` (label 1,
``rapgap``), case-insensitive. One entry per event:

==============================================================  ================  ===========================
branch                                                          type              content
==============================================================  ================  ===========================
``Q2``, ``y``                                                   float             DIS kinematics (GeV², 1)
``ptmiss``, ``Empz``                                            float             missing pT, E − p_z (GeV);
                                                                                  only needed if cut on
``jet_pt``, ``jet_eta``, ``jet_phi``, ``jet_e``                 var * float       kT R = 1.0 jets, lab frame
``jet_part_pt``, ``jet_part_eta``, ``jet_part_phi``,            var * float       jet constituents (energy-flow
``jet_part_e``, ``jet_part_charge``                                               objects), lab frame
``jet_part_idx``                                                var * int         index of the particle's jet in
                                                                                  the event's ``jet_*`` arrays
==============================================================  ================  ===========================

(The counters ``njet``/``njet_part`` uproot writes for these are not read.) The particle
kinematics are absolute; with ``relative=True`` they are read as the OmniLearn H1 minitrees
appear to store them — ``jet_part_pt``/``jet_part_e`` as fractions of the jet's pT/energy and
``jet_part_eta``/``jet_part_phi`` as offsets from the jet axis — and made absolute first.

Choices (the paper gives none and cites the H1 measurement arXiv:2303.13620 for the setup;
all are fields of :class:`H1Cuts`):

* events: Q² > 150 GeV² and 0.2 < y < 0.7 (that measurement's phase space), plus H1's
  reconstruction-quality cuts p_T,miss < 10 GeV and 45 < E − p_z < 65 GeV;
* one example per event: the leading jet, in the laboratory frame (no boost: the jets are
  clustered and measured in the lab frame), with p_T > 10 GeV and −1 < η < 2.75;
* its constituents with −1.5 < η < 2.75 (the OmniLearn preprocessing's acceptance), at most
  :data:`NUM_PARTICLES` = 30 (its particle count), hardest first;
* events whose leading jet keeps no particle are dropped;
* the charge is a feature; the particle type is unknown, so the PID flags stay 0;
* equal numbers of Djangoh and Rapgap events (randomly thinned), split 70/15/15 % at random.

The selection needs a first pass over the trees (to balance the classes before writing), the
conversion a second one; both read entry blocks, never a whole tree.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.format import DataFormatError
from .convert import (
    KINEMATICS_AND_CHARGE,
    READ_ERRORS,
    PreprocessResult,
    Rows,
    Source,
    balance_classes,
    count,
    import_uproot,
    input_files,
    one_line,
    padded,
    random_assign,
    require,
    require_finite,
    stored_jet,
    unified_rows,
    write_splits,
)

CLASSES: tuple[str, ...] = ("djangoh", "rapgap")
#: Directory-name prefixes (lower case) → label.
GENERATORS: dict[str, int] = {"django": 0, "rapgap": 1}
TREE = "minitree"
NUM_PARTICLES = 30
FRACTIONS = (0.7, 0.15, 0.15)
JET_BRANCHES = ("jet_pt", "jet_eta", "jet_phi", "jet_e")
PARTICLE_BRANCHES = ("jet_part_pt", "jet_part_eta", "jet_part_phi", "jet_part_e", "jet_part_charge", "jet_part_idx")


@dataclass(frozen=True)
class H1Cuts:
    """Event, jet and particle selection (see the module docstring)."""

    q2_min: float = 150.0
    y_min: float = 0.2
    y_max: float = 0.7
    #: None switches the cut off (and the branch is then not required).
    ptmiss_max: float | None = 10.0
    empz_min: float | None = 45.0
    empz_max: float | None = 65.0
    jet_pt_min: float = 10.0
    jet_eta_min: float = -1.0
    jet_eta_max: float = 2.75
    particle_eta_min: float = -1.5
    particle_eta_max: float = 2.75

    def event_branches(self) -> tuple[str, ...]:
        out = ("Q2", "y")
        if self.ptmiss_max is not None:
            out += ("ptmiss",)
        if self.empz_min is not None or self.empz_max is not None:
            out += ("Empz",)
        return out


class H1Tree:
    """One ``<Generator>/minitree``: selection pass and conversion of entry blocks."""

    def __init__(self, path: Path, tree, label: int, cuts: H1Cuts, num_particles: int, relative: bool):
        self.path, self.tree, self.label = path, tree, label
        self.name = f"{path}:{tree.object_path.lstrip('/')}"
        self.cuts, self.num_particles, self.relative = cuts, num_particles, relative
        self.num_entries = tree.num_entries
        self.branches = cuts.event_branches() + JET_BRANCHES + PARTICLE_BRANCHES
        missing = [b for b in self.branches if b not in tree.keys()]
        require(not missing, self.name, f"missing branch(es) {missing}")

    def _load(self, start: int, stop: int) -> dict:
        """Entries ``start:stop`` with the leading jet and its accepted particles worked out."""
        _, ak = import_uproot("H1")
        c = self.cuts
        try:
            arr = self.tree.arrays(self.branches, entry_start=start, entry_stop=stop, library="ak")
        except READ_ERRORS as err:  # a truncated or damaged file
            raise DataFormatError(f"{self.name}: events {start}..{stop - 1} cannot be read ({one_line(err)})") from None
        try:
            njet = ak.num(arr["jet_pt"], axis=1)
            for b in JET_BRANCHES[1:]:
                if not ak.all(ak.num(arr[b], axis=1) == njet):
                    raise DataFormatError(f"{self.name}: '{b}' and 'jet_pt' have different lengths")
            npart = ak.num(arr["jet_part_pt"], axis=1)
            for b in PARTICLE_BRANCHES[1:]:
                if not ak.all(ak.num(arr[b], axis=1) == npart):
                    raise DataFormatError(f"{self.name}: '{b}' and 'jet_part_pt' have different lengths")
            event = {b: ak.to_numpy(arr[b]).astype(np.float64) for b in c.event_branches()}
        except DataFormatError:
            raise
        except Exception as err:  # a flat branch where a jagged one is expected, or vice versa
            raise DataFormatError(f"{self.name}: branches not in the documented layout ({err})") from None
        has_jet = ak.to_numpy(njet) > 0
        lead = ak.argmax(arr["jet_pt"], axis=1, keepdims=True)
        jet = {b: ak.to_numpy(ak.fill_none(ak.firsts(arr[b][lead]), 0.0)).astype(np.float64) for b in JET_BRANCHES}
        require_finite(self.name, rows=start, unit="event", **event, **jet)

        is_lead = arr["jet_part_idx"] == ak.fill_none(ak.firsts(lead), -1)
        part = {b: arr[b][is_lead] for b in PARTICLE_BRANCHES[:-1]}
        for b, values in part.items():  # before the cuts, which a NaN would silently fail
            finite = ak.to_numpy(ak.all(np.isfinite(values), axis=1))
            if not finite.all():
                raise DataFormatError(
                    f"{self.name}: event {start + int(np.argmin(finite))}: non-finite value in '{b}' of the "
                    f"leading jet's particles ({count(int((~finite).sum()), 'event')})"
                )
        if self.relative:
            part["jet_part_pt"] = part["jet_part_pt"] * jet["jet_pt"]
            part["jet_part_e"] = part["jet_part_e"] * jet["jet_e"]
            part["jet_part_eta"] = part["jet_part_eta"] + jet["jet_eta"]
            part["jet_part_phi"] = part["jet_part_phi"] + jet["jet_phi"]
        accept = (
            (part["jet_part_eta"] > c.particle_eta_min)
            & (part["jet_part_eta"] < c.particle_eta_max)
            & (part["jet_part_pt"] > 0)
        )
        part = {b: v[accept] for b, v in part.items()}

        ok = has_jet & (event["Q2"] > c.q2_min) & (event["y"] > c.y_min) & (event["y"] < c.y_max)
        if c.ptmiss_max is not None:
            ok &= event["ptmiss"] < c.ptmiss_max
        if c.empz_min is not None:
            ok &= event["Empz"] > c.empz_min
        if c.empz_max is not None:
            ok &= event["Empz"] < c.empz_max
        ok &= (jet["jet_pt"] > c.jet_pt_min) & (jet["jet_eta"] > c.jet_eta_min) & (jet["jet_eta"] < c.jet_eta_max)
        ok &= ak.to_numpy(ak.num(part["jet_part_pt"], axis=1)) > 0
        return {"selected": ok, "jet": jet, "part": part}

    def selection(self, stop: int, step: int = 200_000) -> np.ndarray:
        """``(stop,)`` bool: which of the first ``stop`` events pass the selection."""
        return np.concatenate(
            [self._load(a, min(a + step, stop))["selected"] for a in range(0, stop, step)] + [np.zeros(0, dtype=bool)]
        )

    def read(self, start: int, stop: int, keep: np.ndarray) -> Rows:
        _, ak = import_uproot("H1")
        ev = self._load(start, stop)
        if not np.all(ev["selected"][keep]):
            raise RuntimeError(f"{self.name}: events {start}:{stop} changed since the selection pass")
        part = {b: v[keep] for b, v in ev["part"].items()}
        width = max(int(ak.max(ak.num(part["jet_part_pt"], axis=1), initial=0)), 1)
        pt, eta, phi, e, q = (padded(part[b], width) for b in PARTICLE_BRANCHES[:-1])
        require_finite(
            self.name, rows=start + np.flatnonzero(keep), unit="event", pt=pt, eta=eta, phi=phi, e=e, charge=q
        )
        jet = {b: v[keep] for b, v in ev["jet"].items()}
        axis = stored_jet(jet["jet_pt"], jet["jet_eta"], jet["jet_phi"], energy=jet["jet_e"])
        data, jets = unified_rows(pt, eta, phi, e, self.num_particles, jet=axis, charge=q, charge_only=True)
        return Rows(data, jets, np.full(len(jets), self.label, dtype=np.int32))


def _trees(path: Path, f) -> list[tuple[object, int]]:
    """The generator trees of an open ROOT file, with their labels."""
    found, seen = [], set()
    for key, cls in f.classnames(recursive=True).items():
        name = key.split(";")[0]  # several cycles of one tree: uproot opens the latest
        parts = name.split("/")
        if cls == "TTree" and len(parts) == 2 and parts[1] == TREE and name not in seen:
            label = next((v for k, v in GENERATORS.items() if parts[0].lower().startswith(k)), None)
            if label is not None:
                seen.add(name)
                found.append((f[name], label))
    require(bool(found), path, f"no '<Django|Rapgap>/{TREE}' TTree (found {sorted(f.classnames(recursive=True))})")
    return found


def preprocess(
    input: str | os.PathLike,
    outdir: str | os.PathLike,
    *,
    max_jets: int | None = None,
    num_particles: int = NUM_PARTICLES,
    cuts: H1Cuts = H1Cuts(),
    relative: bool = False,
    seed: int = 0,
    progress: bool = True,
) -> PreprocessResult:
    """Convert the minitree file(s) at ``input`` into ``outdir/{train,val,test}.h5``.

    ``max_jets`` caps the events read per generator (the first ones, in file order).
    """
    uproot, _ = import_uproot("H1")
    files = []
    try:
        trees: list[H1Tree] = []
        for path in input_files(input, "*.root", "H1 ROOT minitrees"):
            try:
                files.append(uproot.open(path))
            except Exception as err:
                raise DataFormatError(f"{path}: not a ROOT file ({one_line(err)})") from None
            trees += [H1Tree(path, t, label, cuts, num_particles, relative) for t, label in _trees(path, files[-1])]
        return _convert(trees, input, outdir, max_jets, num_particles, seed, progress)
    finally:
        for f in files:
            f.close()


def _convert(
    trees: list[H1Tree],
    input: str | os.PathLike,
    outdir: str | os.PathLike,
    max_jets: int | None,
    num_particles: int,
    seed: int,
    progress: bool,
) -> PreprocessResult:
    """Selection pass over every tree, class balancing and split assignment, then the writing pass."""
    present = {t.label for t in trees}
    require(
        present == set(range(len(CLASSES))),
        input,
        f"need minitrees of both generators; found only {[CLASSES[i] for i in sorted(present)]}",
    )

    left = {label: float("inf") if max_jets is None else max_jets for label in range(len(CLASSES))}
    selected, labels = [], []
    for t in trees:
        n = int(min(t.num_entries, left[t.label]))
        left[t.label] -= n
        selected.append(t.selection(n))
        labels.append(np.where(selected[-1], t.label, -1).astype(np.int8))
    rng = np.random.default_rng(seed)
    keep = balance_classes(np.concatenate(labels), len(CLASSES), rng)
    assign = random_assign(keep, FRACTIONS, rng)
    offsets = np.cumsum([0] + [len(s) for s in selected])
    sources = [
        Source(t.name, assign[offsets[i] : offsets[i + 1]], t.read, unit="event")
        for i, t in enumerate(trees)
        if len(selected[i])
    ]
    return write_splits(
        sources,
        outdir,
        CLASSES,
        num_particles,
        seed=seed,
        progress=progress,
        desc="h1",
        block=8192,
        present_features=KINEMATICS_AND_CHARGE,
    )
