"""The offline OmniFold default: paired Z(→νν) + jet events at particle and detector level.

Stands in for the Herwig / Pythia + Delphes samples of the paper (Sec. VII, Zenodo 3548091),
generated here with Pythia 8 and FastJet:

* **process**: q q̄ → Z g and q g → Z q at √s = 14 TeV, Z → ν ν̄, p̂T > ``pthat_min``; events
  are kept when the final Z has pT > 200 GeV (as in the paper) and both levels have a jet.
* **"data" and "MC"**: the same generator with two settings (:data:`SAMPLE_SETTINGS`): the
  "data" has a stronger final-state shower (``TimeShower:alphaSvalue`` 0.150 instead of Monash's
  0.1365), so its jets are wider, heavier and have more constituents: the six observables
  differ visibly, as Herwig and Pythia do in the paper.
* **particle level** ("gen"): all stable particles but neutrinos.
* **detector level** ("sim"), a simple smearing (:class:`Detector`, numbers of the order of
  CMS particle flow): charged hadrons found with 90 % efficiency and 1 % pT resolution;
  photons with σ_E/E = 5 %/√E ⊕ 1 % and neutral hadrons with 50 %/√E ⊕ 5 % (both dropped below a
  1 GeV calorimeter threshold; neutral hadrons become K_L (130) as Delphes' HCAL cells);
  electrons and muons with 1 %; η and φ of neutrals smeared by 0.01 (photons) and 0.03
  (neutral hadrons).
* **jets**: anti-kT R = 0.4, the leading jet of each level, its up to ``num_particles`` hardest
  constituents in the Table X features; the six observables
  (:data:`~omnilearn.data.paired.OBSERVABLES`) from all its constituents (:func:`observables`).

Events are split 80/10/10 % into train/val/test in generation order (disjoint by
construction). ``generate`` writes ``{mc,data}_{train,val,test}.h5`` (:mod:`omnilearn.data.paired`)
and a settings sidecar, and reuses a directory made with the same settings.
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import os
import queue as queue_module
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..data.features import from_pxpypze, jet_array, jet_kinematics, particle_features
from ..data.format import SPLITS
from ..data.paired import OBSERVABLES, SAMPLES, PairedWriter, count_events, paired_path
from .generator import _MAX_PYTHIA_SEED, _ChargeTable, _flat, _offsets, _package_version, _progress_bar, require_physics

SIDECAR = "zjets_settings.json"
GENERATOR_VERSION = 1
_NEUTRINOS = (12, 14, 16)
#: Pythia settings of each sample beyond the common ones.
SAMPLE_SETTINGS: dict[str, tuple[str, ...]] = {
    "mc": ("TimeShower:alphaSvalue = 0.1365",),  # the Monash default, written out
    "data": ("TimeShower:alphaSvalue = 0.150",),
}
_PROCESS = (
    "WeakBosonAndParton:qqbar2gmZg = on",
    "WeakBosonAndParton:qg2gmZq = on",
    "WeakZ0:gmZmode = 2",
    "23:onMode = off",
    "23:onIfAny = 12 14 16",
)


@dataclass(frozen=True)
class Detector:
    """The detector smearing (see the module docstring)."""

    track_efficiency: float = 0.9
    track_resolution: float = 0.01
    lepton_resolution: float = 0.01
    ecal_stochastic: float = 0.05
    ecal_constant: float = 0.01
    hcal_stochastic: float = 0.5
    hcal_constant: float = 0.05
    calo_threshold: float = 1.0
    photon_angle: float = 0.01
    hadron_angle: float = 0.03


@dataclass(frozen=True)
class ZJetConfig:
    """Everything that determines the generated samples (the cache key)."""

    events: int = 6000
    num_particles: int = 100
    jet_radius: float = 0.4
    z_pt_min: float = 200.0
    pthat_min: float = 180.0
    ecm: float = 14000.0
    mpi: bool = True
    seed: int = 1
    workers: int = 1
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    detector: Detector = field(default_factory=Detector)

    def __post_init__(self) -> None:
        if self.events < 1 or self.num_particles < 1 or self.workers < 1:
            raise ValueError("events, num_particles and workers must be >= 1")
        if not 0 < self.seed < _MAX_PYTHIA_SEED - 10 * self.workers:
            raise ValueError(f"seed must be in 1..{_MAX_PYTHIA_SEED - 10 * self.workers - 1}")

    def settings(self) -> dict:
        out = asdict(self)
        out["samples"] = {k: list(v) for k, v in SAMPLE_SETTINGS.items()}
        out["generator_version"] = GENERATOR_VERSION
        out["pythia8mc"] = _package_version("pythia8mc")
        out["fastjet"] = _package_version("fastjet")
        return out

    def split_sizes(self) -> dict[str, int]:
        n_val, n_test = round(self.events * self.val_fraction), round(self.events * self.test_fraction)
        return {"train": self.events - n_val - n_test, "val": n_val, "test": n_test}


# -- observables -----------------------------------------------------------------------------
def _pseudojets(fastjet, pt, eta, phi, e) -> list:
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    out = []
    for i, v in enumerate(zip(px.tolist(), py.tolist(), pz.tolist(), e.tolist())):
        p = fastjet.PseudoJet(*v)
        p.set_user_index(i)
        out.append(p)
    return out


def _tau(rap, phi, pt, axes) -> float:
    """N-subjettiness with β = 1, normalised by Σ pT (as the jet width)."""
    dr = np.min([np.hypot(rap - a.rap(), _dphi(phi, a.phi())) for a in axes], axis=0)
    return float((pt * dr).sum() / pt.sum())


def _dphi(a, b):
    return (np.asarray(a) - b + np.pi) % (2 * np.pi) - np.pi


def observables(pt, eta, phi, e, z_cut: float = 0.1) -> np.ndarray:
    """The six observables of one jet from all its constituents ``(n,)`` each, in the order of
    :data:`~omnilearn.data.paired.OBSERVABLES`: mass, multiplicity, width = Σ pT ΔR / Σ pT (ΔR to
    the jet axis in (y, φ)), ln ρ = 2 ln(m_SD / pT) and z_g (soft drop z_cut = 0.1, β = 0 on the
    Cambridge/Aachen reclustering), τ21 with β = 1 and exclusive-kT axes."""
    _, fastjet, _ = require_physics()
    parts = _pseudojets(fastjet, *(np.asarray(a, dtype=np.float64) for a in (pt, eta, phi, e)))
    ca = fastjet.ClusterSequence(parts, fastjet.JetDefinition(fastjet.cambridge_algorithm, 10.0))
    jet = max(ca.inclusive_jets(), key=lambda j: j.perp())
    rap = np.array([p.rap() for p in parts])
    ph = np.array([p.phi() for p in parts])
    w = np.asarray(pt, dtype=np.float64)
    width = float((w * np.hypot(rap - jet.rap(), _dphi(ph, jet.phi()))).sum() / w.sum())
    groomed, z_g = jet, 0.0
    while True:
        pieces = groomed.pieces() if groomed.has_constituents() and len(groomed.constituents()) > 1 else []
        if len(pieces) != 2:
            break
        a, b = sorted(pieces, key=lambda p: -p.perp())
        z = b.perp() / (a.perp() + b.perp())
        if z > z_cut:
            z_g = z
            break
        groomed = a
    m_sd = max(groomed.m(), 0.0)
    log_rho = 2 * math.log(max(m_sd, 1e-10) / jet.perp())
    tau21 = _tau21(fastjet, parts, rap, ph, w)
    return np.array([max(jet.m(), 0.0), len(parts), width, log_rho, tau21, z_g], dtype=np.float64)


def _tau21(fastjet, parts, rap, phi, pt) -> float:
    if len(parts) < 2:
        return 0.0
    kt = fastjet.ClusterSequence(parts, fastjet.JetDefinition(fastjet.kt_algorithm, 10.0))
    tau1 = _tau(rap, phi, pt, kt.exclusive_jets(1))
    return _tau(rap, phi, pt, kt.exclusive_jets(2)) / tau1 if tau1 > 0 else 0.0


def tau21(pt, eta, phi, e) -> float:
    """τ21 = τ2/τ1 of one jet from its constituents ``(n,)`` each (β = 1, exclusive-kT axes, as
    :func:`observables`); 0 for fewer than two constituents."""
    _, fastjet, _ = require_physics()
    parts = _pseudojets(fastjet, *(np.asarray(a, dtype=np.float64) for a in (pt, eta, phi, e)))
    rap = np.array([p.rap() for p in parts])
    phi_ = np.array([p.phi() for p in parts])
    return _tau21(fastjet, parts, rap, phi_, np.asarray(pt, dtype=np.float64))


# -- detector --------------------------------------------------------------------------------
def smear(pt, eta, phi, e, pdg, charge, det: Detector, rng: np.random.Generator):
    """Detector-level particles from stable visible ones (flat arrays of one event)."""
    apdg = np.abs(pdg)
    lepton = np.isin(apdg, (11, 13))
    charged = (charge != 0) & ~lepton
    photon = apdg == 22
    neutral = (charge == 0) & ~photon & ~lepton
    scale = np.ones_like(pt)
    scale[charged] = 1 + det.track_resolution * rng.standard_normal(charged.sum())
    scale[lepton] = 1 + det.lepton_resolution * rng.standard_normal(lepton.sum())
    for sel, stoch, const in (
        (photon, det.ecal_stochastic, det.ecal_constant),
        (neutral, det.hcal_stochastic, det.hcal_constant),
    ):
        sigma = np.hypot(stoch / np.sqrt(np.maximum(e[sel], 1e-3)), const)
        scale[sel] = 1 + sigma * rng.standard_normal(sel.sum())
    scale = np.maximum(scale, 0.0)
    # each particle keeps its mass (scaled with its momentum): a shifted angle with the energy
    # kept would change |p| alone and fake a mass of order E·sqrt(δη)
    mass = np.sqrt(np.clip(e**2 - (pt * np.cosh(eta)) ** 2, 0.0, None))
    eta, phi = eta.copy(), phi.copy()
    for sel, angle in ((photon, det.photon_angle), (neutral, det.hadron_angle)):
        eta[sel] += angle * rng.standard_normal(sel.sum())
        phi[sel] += angle * rng.standard_normal(sel.sum())
    pt_new = pt * scale
    e_new = np.hypot(pt_new * np.cosh(eta), mass * scale)
    keep = scale > 0
    keep[charged] &= rng.random(charged.sum()) < det.track_efficiency
    keep &= ~((photon | neutral) & (e_new < det.calo_threshold))
    pdg = np.where(neutral, 130, pdg)  # HCAL cells are K_L, as in Delphes
    return pt_new[keep], eta[keep], _dphi(phi[keep], 0.0), e_new[keep], pdg[keep], charge[keep]


# -- generation ------------------------------------------------------------------------------
def make_pythia(sample: str, config: ZJetConfig, seed: int):
    pythia8mc, _, _ = require_physics()
    pythia = pythia8mc.Pythia("", False)
    lines = (
        f"Beams:eCM = {config.ecm}",
        f"PhaseSpace:pTHatMin = {config.pthat_min}",
        f"PartonLevel:MPI = {'on' if config.mpi else 'off'}",
        "Random:setSeed = on",
        f"Random:seed = {seed}",
        "Print:quiet = on",
        "Next:numberCount = 0",
    )
    for line in lines + _PROCESS + SAMPLE_SETTINGS[sample]:
        if not pythia.readString(line):
            raise RuntimeError(f"Pythia rejected the setting {line!r}")
    if not pythia.init():
        raise RuntimeError(f"Pythia failed to initialise the {sample} Z+jet sample")
    return pythia


def _leading_jet(fastjet, pt, eta, phi, e, radius):
    """Indices of the leading anti-kT jet's constituents (pT-sorted), or None."""
    if len(pt) == 0:
        return None
    cs = fastjet.ClusterSequence(
        _pseudojets(fastjet, pt, eta, phi, e), fastjet.JetDefinition(fastjet.antikt_algorithm, radius)
    )
    jets = cs.inclusive_jets(10.0)
    if not jets:
        return None
    lead = max(jets, key=lambda j: j.perp())
    idx = np.array([c.user_index() for c in lead.constituents()], dtype=np.int64)
    return idx[np.argsort(-pt[idx], kind="stable")]


def _level(fastjet, pt, eta, phi, e, q, pdg, config: ZJetConfig):
    """(data row, jet row, observables) of the leading jet of one level, or None."""
    idx = _leading_jet(fastjet, pt, eta, phi, e, config.jet_radius)
    if idx is None or len(idx) == 0:
        return None
    obs = observables(pt[idx], eta[idx], phi[idx], e[idx])
    keep = idx[: config.num_particles]
    n = config.num_particles
    rows = [np.zeros((1, n)) for _ in range(6)]
    for row, src in zip(rows, (pt, eta, phi, e, q, pdg)):
        row[0, : len(keep)] = src[keep]
    kin = jet_kinematics(*rows[:4])
    data = particle_features(
        *rows[:4], kin["pt"], kin["eta"], kin["phi"], kin["energy"], charge=rows[4], pdg_id=rows[5]
    )
    return data[0], jet_array(kin)[0], obs


def generate_events(sample: str, num_events: int, seed: int, config: ZJetConfig, progress=None) -> dict:
    """``num_events`` paired events of ``sample`` from one Pythia seeded ``seed``: arrays
    ``gen_data``, ``gen_jet``, ``gen_obs``, ``sim_*`` and the throughput."""
    _, fastjet, _ = require_physics()
    import awkward as ak

    start, cpu = time.perf_counter(), time.process_time()
    pythia = make_pythia(sample, config, seed)
    charge_of = _ChargeTable(pythia.particleData)
    rng = np.random.default_rng(seed)
    out: dict[str, list] = {f"{lvl}_{k}": [] for lvl in ("gen", "sim") for k in ("data", "jet", "obs")}
    events = 0
    while len(out["gen_jet"]) < num_events:
        prt = pythia.nextBatch(20, "skip").prt
        events += len(prt)
        off = _offsets(ak.num(prt.id))
        pid, status = _flat(prt.id), _flat(prt.status)
        pt_all, eta_all, phi_all, e_all = from_pxpypze(
            _flat(prt.p.px), _flat(prt.p.py), _flat(prt.p.pz), _flat(prt.p.e)
        )
        for ev in range(len(prt)):
            s = slice(off[ev], off[ev + 1])
            z = np.flatnonzero(pid[s] == 23)
            if len(z) == 0 or pt_all[s][z[-1]] < config.z_pt_min:
                continue
            vis = (status[s] > 0) & ~np.isin(np.abs(pid[s]), _NEUTRINOS)
            p = [a[s][vis] for a in (pt_all, eta_all, phi_all, e_all)]
            ids = pid[s][vis]
            q = charge_of(ids) if len(ids) else np.zeros(0)
            gen = _level(fastjet, *p, q, ids, config)
            sm = smear(*p, ids, q, config.detector, rng)
            sim = _level(fastjet, sm[0], sm[1], sm[2], sm[3], sm[5], sm[4], config)
            if gen is None or sim is None:
                continue
            for lvl, res in (("gen", gen), ("sim", sim)):
                for k, v in zip(("data", "jet", "obs"), res):
                    out[f"{lvl}_{k}"].append(v)
            if progress is not None:
                progress(1)
            if len(out["gen_jet"]) == num_events:
                break
        if events >= 1000 and not out["gen_jet"]:
            raise RuntimeError(f"no Z+jet event passed pT(Z) > {config.z_pt_min} GeV in {events} events")
    arrays = {k: np.stack(v) for k, v in out.items()}
    arrays.update(events=events, seconds=time.perf_counter() - start, cpu_seconds=time.process_time() - cpu)
    return arrays


def _seed(config: ZJetConfig, sample: str, worker: int) -> int:
    return config.seed + 10 * worker + SAMPLES.index(sample) + 1


_progress_queue = None


def _init_worker(q) -> None:
    global _progress_queue
    _progress_queue = q
    devnull = os.open(os.devnull, os.O_WRONLY)  # FastJet's banner would cut through the progress bar
    os.dup2(devnull, 1)
    os.close(devnull)


def _run(sample: str, n: int, seed: int, config: ZJetConfig) -> dict:
    q = _progress_queue
    return generate_events(sample, n, seed, config, progress=(lambda k: q.put(k)) if q is not None else None)


def generate_samples(config: ZJetConfig, progress: bool = True) -> dict[str, dict]:
    """Both samples; ``config.workers`` processes share the (sample, worker) tasks."""
    require_physics()
    tasks = []
    for sample in SAMPLES:
        for w in range(config.workers):
            n = config.events // config.workers + (w < config.events % config.workers)
            tasks.append((sample, n, _seed(config, sample, w)))
    bar = _progress_bar(config.events * len(SAMPLES), progress)
    bar_desc = getattr(bar, "set_description", None)
    if bar_desc is not None:
        bar_desc("Z+jet events")
    try:
        if config.workers == 1:
            results = [generate_events(s, n, seed, config, bar.update) for s, n, seed in tasks]
        else:
            ctx = mp.get_context("spawn")  # not fork: the caller may hold TensorFlow's threads
            q = ctx.Queue()
            with ctx.Pool(config.workers, initializer=_init_worker, initargs=(q,)) as pool:
                pending = [pool.apply_async(_run, task + (config,)) for task in tasks]
                while not all(p.ready() for p in pending):
                    try:
                        bar.update(q.get(timeout=0.2))
                    except queue_module.Empty:
                        pass
                results = [p.get() for p in pending]
    finally:
        bar.close()
    out = {}
    for sample in SAMPLES:
        parts = [r for (s, *_), r in zip(tasks, results) if s == sample]
        keys = [k for k in parts[0] if k.startswith(("gen_", "sim_"))]
        merged = {k: np.concatenate([p[k] for p in parts]) for k in keys}
        for k in ("events", "seconds", "cpu_seconds"):
            merged[k] = sum(p[k] for p in parts)
        out[sample] = merged
    return out


@dataclass
class ZJetResult:
    paths: dict[str, Path]
    cached: bool
    stats: dict = field(default_factory=dict)
    seconds: float = 0.0


def _cache_valid(outdir: Path, config: ZJetConfig) -> dict | None:
    try:
        side = json.loads((outdir / SIDECAR).read_text())
    except (OSError, ValueError):
        return None
    if side.get("settings") != json.loads(json.dumps(config.settings())):
        return None
    sizes = config.split_sizes()
    for sample in SAMPLES:
        for split in SPLITS:
            path = paired_path(outdir, sample, split)
            try:
                if count_events(path) != sizes[split]:
                    return None
            except OSError:
                return None
    return side


def generate(
    outdir: str | os.PathLike, config: ZJetConfig | None = None, *, force: bool = False, progress: bool = True
) -> ZJetResult:
    """Write ``outdir/{mc,data}_{train,val,test}.h5``, or reuse a set made with the same settings."""
    config = config or ZJetConfig()
    outdir = Path(outdir)
    start = time.perf_counter()
    paths = {f"{s}_{split}": paired_path(outdir, s, split) for s in SAMPLES for split in SPLITS}
    if not force:
        side = _cache_valid(outdir, config)
        if side is not None:
            return ZJetResult(paths, True, side.get("stats", {}), time.perf_counter() - start)
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / SIDECAR).unlink(missing_ok=True)  # the old files stop being a valid cache now
    samples = generate_samples(config, progress)
    sizes = config.split_sizes()
    edges = np.cumsum([0] + [sizes[s] for s in SPLITS])
    for sample, arrays in samples.items():
        source = {"generator": "pythia8 Z+jet", "sample": sample, "settings": list(SAMPLE_SETTINGS[sample])}
        for k, split in enumerate(SPLITS):
            sl = slice(edges[k], edges[k + 1])
            with PairedWriter(paths[f"{sample}_{split}"], config.num_particles, sample, source) as w:
                w.append(
                    *({key: arrays[f"{lvl}_{key}"][sl] for key in ("data", "jet", "obs")} for lvl in ("gen", "sim"))
                )
    stats = {
        s: {k: a[k] for k in ("events", "seconds", "cpu_seconds")} | {"kept": config.events} for s, a in samples.items()
    }
    side = {"settings": config.settings(), "stats": stats, "observables": list(OBSERVABLES)}
    tmp = outdir / (SIDECAR + ".tmp")
    tmp.write_text(json.dumps(side, indent=2))
    os.replace(tmp, outdir / SIDECAR)
    return ZJetResult(paths, False, stats, time.perf_counter() - start)
