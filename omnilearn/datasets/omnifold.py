"""The OmniFold Z+jet Delphes samples (Andreassen et al., arXiv:1911.09107; Zenodo 3548091) → paired files.

Input: a directory (searched recursively) with the released files of two generator/tunes,
``Herwig_Zjet_pTZ-200GeV_<i>.npz`` ("data" by default, Herwig 7.1.5 default tune, as the paper)
and ``Pythia26_Zjet_pTZ-200GeV_<i>.npz`` ("MC": Pythia 8.243 tune 26), i = 0 … 16; ``Pythia21``
and ``Pythia25`` can be chosen instead (``data=``/``mc=``). Each file holds, for ``gen``
(particle level) and ``sim`` (Delphes CMS detector level), row i being the same event:

* ``<lvl>_jets`` (N, 4): pT, rapidity y, φ, mass of the leading anti-kT R = 0.4 jet;
* ``<lvl>_particles`` (N, M, 4): pT/100, y − y_jet, φ − φ_jet and the PID as a small float
  (:data:`PID_CODES`), zero-padded;
* ``<lvl>_mults``, ``<lvl>_widths``, ``<lvl>_tau2s``, ``<lvl>_sdms``, ``<lvl>_zgs``, ``<lvl>_lhas``,
  ``<lvl>_ang2s`` (N,): multiplicity, width (β = 1), τ2 (β = 1), soft-drop mass and z_g
  (z_cut = 0.1, β = 0), and two angularities; ``gen_Zs`` (N, 3) the Z's pT, y, φ.

Output (:mod:`omnilearn.data.paired`): ``{mc,data}_{train,val,test}.h5`` with the Table X
features of up to ``num_particles`` (100) hardest particles (mass from the PID for
E = m_T cosh y; charge and flags from the PID; ECAL cells are photons, HCAL cells K_L as
Delphes labels them) and the six observables from the released arrays: mass = the jet mass,
N = mults, width = widths, ln ρ = 2 ln(sdms / pT), τ21 = tau2s / widths (τ1 with β = 1 about
the jet axis is the width, as the OmniFold demonstration takes it) and z_g = zgs. Each sample's
files are taken in order (natural sort) as one sequence and split 80/10/10 % in order, so the
splits are disjoint.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

from ..atomic import writer_tag
from ..data.features import jet_array, jet_kinematics, particle_features
from ..data.format import SPLITS, DataFormatError
from ..data.paired import LEVELS, SAMPLES, PairedWriter, paired_path
from .convert import PreprocessResult, contiguous_assign, input_files, ptyphim_to_ptetaphie, require

#: generator/tune → file-name prefix
PREFIXES = {"herwig": "Herwig", "pythia21": "Pythia21", "pythia25": "Pythia25", "pythia26": "Pythia26"}
PATTERN = "{}_Zjet_pTZ-200GeV_*.npz"
#: the released PID floats → PDG id (energyflow's remapping)
PID_CODES = {
    0.0: 22,
    0.1: 211,
    0.2: -211,
    0.3: 130,
    0.4: 11,
    0.5: -11,
    0.6: 13,
    0.7: -13,
    0.8: 321,
    0.9: -321,
    1.0: 2212,
    1.1: -2212,
    1.2: 2112,
    1.3: -2112,
}
_MASS = {
    22: 0.0,
    211: 0.13957,
    130: 0.497611,
    11: 0.000511,
    13: 0.105658,
    321: 0.493677,
    2212: 0.938272,
    2112: 0.939565,
}
_CHARGE = {22: 0, 211: 1, -211: -1, 130: 0, 11: -1, -11: 1, 13: -1, -13: 1, 321: 1, -321: -1}
_CHARGE |= {2212: 1, -2212: -1, 2112: 0, -2112: 0}
KEYS = ("jets", "particles", "mults", "widths", "tau2s", "sdms", "zgs")
NUM_PARTICLES = 100
FRACTIONS = (0.8, 0.1, 0.1)
BLOCK = 20000


def decode_pid(code: np.ndarray, path) -> np.ndarray:
    """PID floats → PDG ids; an unknown code is a DataFormatError naming the file."""
    tenths = np.rint(np.asarray(code, dtype=np.float64) * 10).astype(np.int64)
    table = np.zeros(15, dtype=np.int64)
    for k, v in PID_CODES.items():
        table[int(round(k * 10))] = v
    bad = (tenths < 0) | (tenths > 14) | (np.abs(code * 10 - tenths) > 1e-3)
    require(not bad.any(), path, f"unknown particle-id code {np.asarray(code)[bad][:3].tolist()} (expected 0.0 … 1.3)")
    return table[tenths]


def _read(path: Path) -> dict[str, np.ndarray]:
    """The arrays of both levels of one released file, checked (one DataFormatError per problem)."""
    try:
        f = np.load(path)
    except (OSError, ValueError) as err:
        raise DataFormatError(f"{path}: not a readable npz file ({err})") from None
    with f:
        missing = [f"{lvl}_{k}" for lvl in LEVELS for k in KEYS if f"{lvl}_{k}" not in f.files]
        require(not missing, path, f"missing arrays {missing} (the OmniFold Z+jet layout has gen_* and sim_*)")
        out = {name: np.asarray(f[name]) for name in (f"{lvl}_{k}" for lvl in LEVELS for k in KEYS)}
    n = len(out["gen_jets"])
    for lvl in LEVELS:
        require(out[f"{lvl}_jets"].ndim == 2 and out[f"{lvl}_jets"].shape[1] == 4, path, f"{lvl}_jets must be (N, 4)")
        p = out[f"{lvl}_particles"]
        require(p.ndim == 3 and p.shape[2] == 4, path, f"{lvl}_particles must be (N, M, 4), got {p.shape}")
        for k in KEYS:
            arr = out[f"{lvl}_{k}"]
            require(len(arr) == n, path, f"{lvl}_{k} has {len(arr)} events, gen_jets {n}: gen and sim must be paired")
            require(np.issubdtype(arr.dtype, np.number), path, f"{lvl}_{k} is not numeric ({arr.dtype})")
            require(np.isfinite(arr).all(), path, f"non-finite values in {lvl}_{k}")
    return out


def level_rows(arrays: dict[str, np.ndarray], lvl: str, num_particles: int, path) -> dict[str, np.ndarray]:
    """One level of a block of events as paired-file rows: ``data``, ``jet``, ``obs``."""
    jets, parts = arrays[f"{lvl}_jets"].astype(np.float64), arrays[f"{lvl}_particles"].astype(np.float64)
    pt = parts[..., 0] * 100.0
    real = pt > 0
    order = np.argsort(-pt, axis=1, kind="stable")[:, :num_particles]
    take = lambda a: np.take_along_axis(a, order, axis=1)  # noqa: E731
    pt, real = take(pt), take(real)
    y = np.where(real, take(parts[..., 1]) + jets[:, 1:2], 0.0)
    phi = np.where(real, take(parts[..., 2]) + jets[:, 2:3], 0.0)
    pdg = np.where(real, decode_pid(take(parts[..., 3]), path), 0)
    # every real particle's id is in the table (decode_pid checked it); padding gets 0
    ids = np.array(sorted(_CHARGE))
    row = np.clip(np.searchsorted(ids, pdg), 0, len(ids) - 1)
    mass = np.where(real, np.array([_MASS[abs(int(i))] for i in ids])[row], 0.0)
    charge = np.where(real, np.array([_CHARGE[int(i)] for i in ids], dtype=np.float64)[row], 0.0)
    pt, eta, phi, e = ptyphim_to_ptetaphie(pt, y, phi, mass)
    if pt.shape[1] < num_particles:
        pad = ((0, 0), (0, num_particles - pt.shape[1]))
        pt, eta, phi, e, charge, pdg = (np.pad(a, pad) for a in (pt, eta, phi, e, charge, pdg))
    kin = jet_kinematics(pt, eta, phi, e)
    data = particle_features(pt, eta, phi, e, kin["pt"], kin["eta"], kin["phi"], kin["energy"], charge, pdg)
    widths = arrays[f"{lvl}_widths"].astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_rho = 2 * np.log(np.maximum(arrays[f"{lvl}_sdms"], 1e-30) / jets[:, 0])
        tau21 = np.where(widths > 0, arrays[f"{lvl}_tau2s"] / widths, 0.0)
    obs = np.stack([jets[:, 3], arrays[f"{lvl}_mults"], widths, log_rho, tau21, arrays[f"{lvl}_zgs"]], axis=-1)
    return {"data": data, "jet": jet_array(kin), "obs": obs}


def preprocess(
    input: str | os.PathLike,
    outdir: str | os.PathLike,
    *,
    data: str = "herwig",
    mc: str = "pythia26",
    num_particles: int = NUM_PARTICLES,
    max_jets: int | None = None,
    seed: int = 0,
    progress: bool = True,
) -> PreprocessResult:
    """Convert the released npz files under ``input`` into paired files in ``outdir`` (all six
    written in a staging folder and moved in only when complete). ``max_jets``: events per sample."""
    if data not in PREFIXES or mc not in PREFIXES or data == mc:
        raise ValueError(f"data and mc must be two different ones of {sorted(PREFIXES)}, got {data!r}, {mc!r}")
    outdir = Path(outdir)
    staging = outdir / f".staging-{writer_tag()}"
    staging.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    try:
        for sample, tune in (("mc", mc), ("data", data)):
            files = input_files(input, PATTERN.format(PREFIXES[tune]), f"{tune} OmniFold Z+jet files")
            sizes = [_events(p) for p in files]
            total = sum(sizes) if max_jets is None else min(sum(sizes), max_jets)
            split_of = contiguous_assign(total, FRACTIONS)
            source = {"dataset": "Zenodo 3548091", "tune": tune, "files": [p.name for p in files]}
            writers = {s: PairedWriter(paired_path(staging, sample, s), num_particles, sample, source) for s in SPLITS}
            bar = None
            if progress:
                from tqdm import tqdm

                bar = tqdm(total=total, unit="event", desc=f"{sample} ({tune})")
            try:
                start = 0
                for path, size in zip(files, sizes):
                    if start >= total:
                        break
                    arrays = _read(path)
                    for a in range(0, min(size, total - start), BLOCK):
                        b = min(a + BLOCK, size, total - start)
                        block = {k: v[a:b] for k, v in arrays.items()}
                        rows = {lvl: level_rows(block, lvl, num_particles, path) for lvl in LEVELS}
                        ids = split_of[start + a : start + b]
                        for k, split in enumerate(SPLITS):
                            sel = ids == k
                            if sel.any():
                                writers[split].append(
                                    *({key: v[sel] for key, v in rows[lvl].items()} for lvl in LEVELS)
                                )
                    if bar is not None:
                        bar.update(min(size, total - start))
                    start += min(size, total - start)
                for split, w in writers.items():
                    counts[f"{sample}_{split}"] = w.count
                    w.close()
            except BaseException:
                for w in writers.values():
                    w.abort()
                raise
            finally:
                if bar is not None:
                    bar.close()
        paths = {}
        for sample in SAMPLES:
            for split in SPLITS:
                name = paired_path(outdir, sample, split).name
                os.replace(staging / name, outdir / name)
                paths[f"{sample}_{split}"] = outdir / name
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return PreprocessResult(paths, counts, SAMPLES)


def _events(path: Path) -> int:
    try:
        with np.load(path) as f:
            require("gen_mults" in f.files, path, "missing arrays ['gen_mults'] (not an OmniFold Z+jet file)")
            return len(f["gen_mults"])
    except (OSError, ValueError) as err:
        raise DataFormatError(f"{path}: not a readable npz file ({err})") from None
