"""CMS 2011A Open Data simulated jets in the MOD HDF5 format (Komiske et al., arXiv:1908.08542;
``energyflow.mod``, collection ``CMS2011AJets``, dataset ``sim``) → unified quark/gluon files.

Input: the SIM files as ``energyflow.mod.load(..., dataset="sim")`` caches them (a directory,
searched recursively for ``*.h5``, or one file). Layout of each file (from the energyflow
``MODDataset`` documentation; column names are read from each array's ``cols`` attribute, so
their order does not matter):

=================  ==============  ===============================================================
``jets_i``         (jets, k) int    needs ``hard_pid``: PDG id of the hard parton matched to the jet
``jets_f``         (jets, k) float  needs ``jet_pt``, ``jet_eta``, ``jet_phi``, ``jet_m`` (AK5 jet,
                                    no energy correction, as the OmniLearn preprocessing uses)
``pfcs``           (all PFCs, k)    needs ``pt``, ``y`` (rapidity), ``phi``, ``m``, ``pid``; the
                                    PFCs of every jet, one after the other
``pfcs_index``     (jets + 1,)      PFCs of jet ``j`` are ``pfcs[pfcs_index[j]:pfcs_index[j+1]]``
=================  ==============  ===============================================================

Selection, as in the paper (Sec. IV) and the OmniLearn preprocessing: quark jets are those
matched to u, d or s (|hard_pid| in 1, 2, 3), gluon jets to a gluon (21); c, b and unmatched
jets are dropped; the larger class is randomly thinned to the size of the smaller one; PFCs
need pT >= 1 GeV (``energyflow.mod.filter_particles(pt_cut=1)``); then 70 % train, 20 % val,
10 % test at random. Jets are the dataset's (pT > 375 GeV); no further jet cut and no
cross-section weight.

PID: the PFC ``pid`` is a PDG id (±211 charged hadron, ±11, ±13, 22, 130 neutral hadron) or
1 / 2 for forward-calorimeter (HF) hadronic / electromagnetic deposits, which are given the
neutral-hadron / photon flags. Charges follow the PDG sign convention. Classes: ``gluon`` = 0,
``quark`` = 1.
"""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np

from ..data.format import DataFormatError
from .convert import (
    InputH5,
    PreprocessResult,
    Rows,
    Source,
    balance_classes,
    input_files,
    ptyphim_to_ptetaphie,
    random_assign,
    require,
    require_finite,
    require_numeric,
    stored_jet,
    unified_rows,
    write_splits,
)

CLASSES: tuple[str, ...] = ("gluon", "quark")
#: Particles kept per jet (OmniLearn's CMS preprocessing keeps 100).
NUM_PARTICLES = 100
FRACTIONS = (0.7, 0.2, 0.1)
PT_MIN = 1.0
QUARKS = (1, 2, 3)
GLUON = 21

_JETS_I = ("hard_pid",)
_JETS_F = ("jet_pt", "jet_eta", "jet_phi", "jet_m")
_PFCS = ("pt", "y", "phi", "m", "pid")
#: Particle-flow id → (PDG id used for the PID flags, charge of the positive id).
_PF_TYPES: dict[int, tuple[int, float]] = {
    211: (211, 1.0),
    11: (11, -1.0),
    13: (13, -1.0),
    22: (22, 0.0),
    130: (130, 0.0),
    1: (130, 0.0),  # HF hadronic deposit: a neutral hadron
    2: (22, 0.0),  # HF electromagnetic deposit: a photon
}


def _cols(ds: h5py.Dataset, path: Path, need: tuple[str, ...]) -> dict[str, int]:
    cols = [c.decode() if isinstance(c, bytes) else str(c) for c in ds.attrs.get("cols", [])]
    missing = [c for c in need if c not in cols]
    require(not missing, path, f"'{ds.name.lstrip('/')}' lacks column(s) {missing} (its 'cols' attribute: {cols})")
    return {c: cols.index(c) for c in need}


def pf_pdg_and_charge(pid: np.ndarray, path: str | os.PathLike = "") -> tuple[np.ndarray, np.ndarray]:
    """PDG id for the PID flags and charge of each PFC (any shape; 0 = padding)."""
    pid = np.asarray(pid).astype(np.int64)
    a = np.abs(pid)
    unknown = np.unique(pid[(a != 0) & ~np.isin(a, list(_PF_TYPES))])
    if unknown.size:
        raise DataFormatError(f"{path}: PFC pid value(s) {unknown.tolist()[:10]} not in {sorted(_PF_TYPES)}")
    pdg = np.zeros_like(pid)
    charge = np.zeros(pid.shape)
    for k, (code, q) in _PF_TYPES.items():
        sel = a == k
        pdg[sel] = code
        charge[sel] = np.sign(pid[sel]) * q
    return pdg, charge


class MODFile(InputH5):
    """One MOD HDF5 SIM file."""

    def __init__(self, path: Path, num_particles: int, pt_min: float):
        self.num_particles = num_particles
        self.pt_min = pt_min
        super().__init__(path)

    def _check(self) -> None:
        f, path = self.file, self.path
        missing = [k for k in ("jets_i", "jets_f", "pfcs", "pfcs_index") if k not in f]
        require(
            not missing,
            path,
            f"missing dataset(s) {missing}: a MOD SIM file has jets_i, jets_f, pfcs and "
            "pfcs_index (GEN files have no 'pfcs', CMS data files no 'hard_pid')",
        )
        for k in ("jets_i", "jets_f", "pfcs", "pfcs_index"):
            require_numeric(path, k, f[k].dtype)
        self.ji = _cols(f["jets_i"], path, _JETS_I)
        self.jf = _cols(f["jets_f"], path, _JETS_F)
        self.pfcs = _cols(f["pfcs"], path, _PFCS)
        n = f["jets_i"].shape[0]
        self.num_jets = n
        require(
            f["jets_i"].ndim == 2 and f["jets_f"].ndim == 2 and f["jets_f"].shape[0] == n,
            path,
            f"'jets_i' {f['jets_i'].shape} and 'jets_f' {f['jets_f'].shape} must be 2-D with the same jets",
        )
        require(f["pfcs"].ndim == 2, path, f"'pfcs' must be 2-D (particles, columns), got {f['pfcs'].shape}")
        self.index = np.asarray(f["pfcs_index"][()], dtype=np.int64)
        require(self.index.shape == (n + 1,), path, f"'pfcs_index' has shape {self.index.shape}, expected ({n + 1},)")
        monotonic = bool(np.all(np.diff(self.index) >= 0))
        require(
            monotonic and self.index[0] >= 0 and self.index[-1] <= f["pfcs"].shape[0],
            path,
            "'pfcs_index' is not a non-decreasing list of offsets into 'pfcs'",
        )

    def labels(self) -> np.ndarray:
        """``(jets,)`` int8: 1 quark (uds), 0 gluon, -1 other."""
        hard = np.asarray(self.file["jets_i"][:, self.ji["hard_pid"]])
        out = np.full(len(hard), -1, dtype=np.int8)
        out[np.isin(np.abs(hard), QUARKS)] = 1
        out[hard == GLUON] = 0
        return out

    def read(self, start: int, stop: int, keep: np.ndarray, labels: np.ndarray) -> Rows:
        jf = np.asarray(self.file["jets_f"][start:stop], dtype=np.float64)[keep]
        lo, hi = self.index[start], self.index[stop]
        flat = np.asarray(self.file["pfcs"][lo:hi], dtype=np.float64)
        counts = np.diff(self.index[start : stop + 1])
        jet_of = np.repeat(np.arange(stop - start), counts)
        require_finite(self.path, rows=start + np.flatnonzero(keep), jets_f=jf[:, list(self.jf.values())])
        used = keep[jet_of]  # the PFCs of the kept jets, one row per PFC, each named by its jet
        require_finite(self.path, rows=start + jet_of[used], pfcs=flat[used][:, list(self.pfcs.values())])
        sel = keep[jet_of] & (flat[:, self.pfcs["pt"]] >= self.pt_min)
        flat, jet_of = flat[sel], (np.cumsum(keep) - 1)[jet_of[sel]]
        n = int(keep.sum())
        # Dense (jets, width) arrays: the particles of a jet stay in file order, so each one's
        # column is its rank after the first particle of its jet.
        new_counts = np.bincount(jet_of, minlength=n)
        width = max(int(new_counts.max(initial=0)), 1)
        col = np.arange(len(flat)) - np.repeat(np.cumsum(new_counts) - new_counts, new_counts)
        dense = {}
        for name, c in self.pfcs.items():
            arr = np.zeros((n, width))
            arr[jet_of, col] = flat[:, c]
            dense[name] = arr
        pdg, charge = pf_pdg_and_charge(dense["pid"], self.path)
        pt, eta, phi, energy = ptyphim_to_ptetaphie(dense["pt"], dense["y"], dense["phi"], dense["m"])
        jet = stored_jet(
            jf[:, self.jf["jet_pt"]], jf[:, self.jf["jet_eta"]], jf[:, self.jf["jet_phi"]], mass=jf[:, self.jf["jet_m"]]
        )
        data, jets = unified_rows(pt, eta, phi, energy, self.num_particles, jet=jet, charge=charge, pdg_id=pdg)
        return Rows(data, jets, labels[start:stop][keep].astype(np.int32))


def preprocess(
    input: str | os.PathLike,
    outdir: str | os.PathLike,
    *,
    max_jets: int | None = None,
    num_particles: int = NUM_PARTICLES,
    pt_min: float = PT_MIN,
    seed: int = 0,
    progress: bool = True,
) -> PreprocessResult:
    """Convert MOD SIM file(s) at ``input`` into ``outdir/{train,val,test}.h5``.

    ``max_jets`` caps the input jets considered (the first ones, in file order) before the
    flavour selection and balancing.
    """
    paths = input_files(input, "*.h5", "MOD HDF5 files")
    files: list[MODFile] = []
    try:
        for p in paths:
            files.append(MODFile(p, num_particles, pt_min))
        labels, left = [], max_jets if max_jets is not None else float("inf")
        for f in files:
            lab = f.labels()[: int(min(f.num_jets, left))]
            labels.append(lab)
            left -= len(lab)
        all_labels = np.concatenate(labels)
        rng = np.random.default_rng(seed)
        keep = balance_classes(all_labels, len(CLASSES), rng)
        assign = random_assign(keep, FRACTIONS, rng)
        offsets = np.cumsum([0] + [len(lab) for lab in labels])
        sources = []
        for i, f in enumerate(files):
            if len(labels[i]):
                sources.append(
                    Source(
                        str(f.path),
                        assign[offsets[i] : offsets[i + 1]],
                        lambda a, b, k, f=f, lab=labels[i]: f.read(a, b, k, lab),
                    )
                )
        return write_splits(sources, outdir, CLASSES, num_particles, seed=seed, progress=progress, desc="cms")
    finally:
        for f in files:
            f.close()
