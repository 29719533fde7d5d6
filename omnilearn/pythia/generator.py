"""The embedded default dataset: a small JetClass stand-in generated with Pythia 8 and FastJet.

Five JetClass-like classes of boosted jets from 13 TeV pp collisions, with every hadronic
decay forced:

=======  ==============================================  ==============================
class    hard process                                     jets kept
=======  ==============================================  ==============================
``qcd``  QCD 2→2 (``HardQCD:all``)                        the two leading jets, if in cuts
``top``  t t̄, both W → q q'                              jets containing t → b q q'
``wqq``  W + parton, W → q q'                             jets containing W → q q'
``zqq``  Z + parton (no γ*), Z → q q̄                     jets containing Z → q q̄
``hbb``  H + parton (full top loop), H → b b̄             jets containing H → b b̄
=======  ==============================================  ==============================

Five more JetClass classes can be asked for (``classes=``, ``--classes``): ``hcc``
(H → c c̄), ``hgg`` (H → g g), ``h4q`` (H → W W* → 4 quarks), and the two leptonic ones,
``hlvqq`` (H → W W* → ℓ ν q q′) and ``tblv`` (t → b ℓ ν), ℓ = e, μ, τ. A jet is kept when the
resonance, all of its decay quarks and its charged lepton are in it (the neutrino escapes). For
the leptonic classes every W may decay to quarks or to ℓν and only resonances with the wanted
mix are kept (one W to ℓν in H → W W*; the top whose W went to ℓν in t t̄), so both lepton
charges occur, as they do in JetClass.

Two more classes reproduce the quark/gluon dataset of Komiske et al. (see
:mod:`omnilearn.pythia.formats`): ``qg_gluon`` (q q̄ → Z g) and ``qg_quark`` (q g → Z q,
events whose outgoing quark is c or b skipped), both with Z → ν ν̄, keeping the leading jet only.

As in JetClass, a resonance jet is kept only when the resonance and all of its decay quarks
lie within ΔR < ``match_radius`` of the jet axis. Jets are anti-kT (R = 0.8) on the visible
final state (all stable particles but neutrinos) — generator level, no detector simulation.
Work using it should cite Pythia 8.3 (arXiv:2203.11601) and FastJet (arXiv:1111.6097).

Jet array convention: the stored jet pT, eta, mass and multiplicity are those of the *kept*
constituents (the ``num_particles`` hardest, via :func:`~omnilearn.data.features.jet_kinematics`),
so they are exactly what the particle features add up to. They equal the FastJet jet unless a
jet has more than ``num_particles`` constituents; the pT window and |eta| cut are applied to
these stored values, so every stored jet is inside them.

Events are generated from a hard-process pT of 0.85 × pt_min (see :meth:`PythiaConfig.pthat_range`):
that roughly doubles the jets per event compared with 0.7 × pt_min, at the price of ~10 % fewer
jets in the first ~50 GeV of the window (measured with 700 events per class) — the spectrum
inside the window is Pythia's falling one, not JetClass's flattened one. Multiparton
interactions take ~3/4 of the CPU time and stay on (``mpi=False`` is ~4× faster but has no
underlying event).

Generation runs one Pythia per process; the output is a deterministic function of the
:class:`PythiaConfig` (seed *and* worker count). :func:`generate` writes
``train.h5``/``val.h5``/``test.h5`` in the unified format and a JSON sidecar of the settings,
and skips the work when the directory already holds a complete set made with the same settings.
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import os
import queue as queue_module
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..data.features import from_pxpypze, jet_array, jet_kinematics, particle_features, wrap_phi
from ..data.format import SPLITS, DataFormatError, UnifiedWriter, inspect_file

#: Every class this generator knows, in the canonical order (labels follow the order requested).
CLASS_NAMES: tuple[str, ...] = ("qcd", "top", "wqq", "zqq", "hbb")
#: Name of the settings sidecar written next to the split files.
SIDECAR = "pythia_settings.json"
#: Bumped whenever the generator's output for a given config changes, so stale caches are redone.
GENERATOR_VERSION = 1
#: Pythia accepts seeds 1..900 000 000 (0 means "seed from the clock", which would break determinism).
_MAX_PYTHIA_SEED = 900_000_000

_PHYSICS_HINT = 'the Pythia dataset needs pythia8mc and fastjet: pip install -e ".[physics]"'
_NEUTRINOS = (12, 14, 16)
_QUARKS = (1, 2, 3, 4, 5)
_CHARGED_LEPTONS = (11, 13, 15)
#: Resonances whose decay chains are followed down to quarks (t → b W, W → q q').
_RESONANCES = (6, 23, 24, 25)


@dataclass(frozen=True)
class ProcessSpec:
    """How one class is generated and which of its jets are kept."""

    name: str
    description: str
    #: Pythia settings beyond the common ones (processes and forced decays).
    settings: tuple[str, ...]
    #: |PDG id| of the resonance a kept jet must contain, or None to keep the leading jets.
    resonance: int | None
    #: Quarks its (forced) decay chain ends in: 3 for t -> b q q', 2 for W/Z/H -> q q.
    decay_quarks: int = 0
    #: Charged leptons its decay chain ends in (1 for t -> b l nu and H -> W W* -> l nu q q').
    decay_leptons: int = 0
    #: Without a resonance: how many leading jets of an event may be kept (each if in the cuts).
    leading_jets: int = 2
    #: |PDG id|s allowed for the hard process's outgoing parton (None: any); other events are skipped.
    hard_partons: tuple[int, ...] | None = None


_HADRONIC_W = ("24:onMode = off", "24:onIfAny = 1 2 3 4 5")
#: W to quarks or to e, mu, tau + neutrino (the leptonic classes select the mix they need).
_VISIBLE_W = ("24:onMode = off", "24:onIfAny = 1 2 3 4 5 11 13 15")
_INVISIBLE_Z = ("WeakZ0:gmZmode = 2", "23:onMode = off", "23:onIfAny = 12 14 16")
_HIGGS_PRODUCTION = ("HiggsSM:gg2Hg(l:t) = on", "HiggsSM:qg2Hq(l:t) = on", "HiggsSM:qqbar2Hg(l:t) = on")


def _higgs(name: str, description: str, decay: tuple[str, ...], partons: int, leptons: int = 0) -> ProcessSpec:
    """H + jet (full top loop) with a forced decay whose ``partons`` quarks/gluons (and
    ``leptons`` charged leptons) must be in the jet."""
    return ProcessSpec(name, description, _HIGGS_PRODUCTION + decay, 25, partons, leptons)


PROCESSES: dict[str, ProcessSpec] = {
    # HardQCD:all is mostly light quarks and gluons, with its natural heavy-flavour admixture.
    "qcd": ProcessSpec("qcd", "QCD dijets, quark and gluon jets", ("HardQCD:all = on",), None),
    "top": ProcessSpec(
        "top",
        "t tbar with both t -> b W, W -> q q'",
        ("Top:gg2ttbar = on", "Top:qqbar2ttbar = on") + _HADRONIC_W,
        6,
        3,
    ),
    "wqq": ProcessSpec(
        "wqq",
        "W + jet, W -> q q'",
        ("WeakBosonAndParton:qqbar2Wg = on", "WeakBosonAndParton:qg2Wq = on") + _HADRONIC_W,
        24,
        2,
    ),
    "zqq": ProcessSpec(
        "zqq",
        "Z + jet, Z -> q qbar",
        (
            "WeakBosonAndParton:qqbar2gmZg = on",
            "WeakBosonAndParton:qg2gmZq = on",
            "WeakZ0:gmZmode = 2",  # pure Z, no photon interference
            "23:onMode = off",
            "23:onIfAny = 1 2 3 4 5",
        ),
        23,
        2,
    ),
    "hbb": ProcessSpec(
        "hbb",
        "H + jet (full top-loop matrix elements), H -> b bbar",
        (
            "HiggsSM:gg2Hg(l:t) = on",
            "HiggsSM:qg2Hq(l:t) = on",
            "HiggsSM:qqbar2Hg(l:t) = on",
            "25:onMode = off",
            "25:onIfMatch = 5 -5",
        ),
        25,
        2,
    ),
    # Komiske et al.'s quark/gluon samples: Z(-> nu nu) + one parton, which labels the leading jet.
    "qg_gluon": ProcessSpec(
        "qg_gluon",
        "Z(-> nu nu) + g",
        ("WeakBosonAndParton:qqbar2gmZg = on",) + _INVISIBLE_Z,
        None,
        leading_jets=1,
        hard_partons=(21,),
    ),
    "qg_quark": ProcessSpec(
        "qg_quark",
        "Z(-> nu nu) + u/d/s quark",
        ("WeakBosonAndParton:qg2gmZq = on",) + _INVISIBLE_Z,
        None,
        leading_jets=1,
        hard_partons=(1, 2, 3),
    ),
    # More JetClass Higgs classes (appended: the seeds of the classes above keep their index).
    "hcc": _higgs("hcc", "H + jet, H -> c cbar", ("25:onMode = off", "25:onIfMatch = 4 -4"), 2),
    "hgg": _higgs("hgg", "H + jet, H -> g g", ("25:onMode = off", "25:onIfMatch = 21 21"), 2),
    "h4q": _higgs(
        "h4q", "H + jet, H -> W W* -> 4 quarks", ("25:onMode = off", "25:onIfMatch = 24 -24") + _HADRONIC_W, 4
    ),
    # The leptonic JetClass classes.
    "hlvqq": _higgs(
        "hlvqq",
        "H + jet, H -> W W* -> l nu q q'",
        ("25:onMode = off", "25:onIfMatch = 24 -24") + _VISIBLE_W,
        2,
        leptons=1,
    ),
    "tblv": ProcessSpec(
        "tblv",
        "t tbar, the top with t -> b W, W -> l nu",
        ("Top:gg2ttbar = on", "Top:qqbar2ttbar = on") + _VISIBLE_W,
        6,
        1,
        1,
    ),
}
#: Every process, in a fixed order (seeds use a class's index here; CLASS_NAMES come first).
PROCESS_NAMES: tuple[str, ...] = tuple(PROCESSES)


@dataclass(frozen=True)
class PythiaConfig:
    """Everything that determines the generated dataset (it is the cache key)."""

    classes: tuple[str, ...] = CLASS_NAMES
    jets_per_class: int = 2000
    pt_min: float = 500.0
    pt_max: float = 1000.0
    eta_max: float = 2.0
    num_particles: int = 150
    jet_radius: float = 0.8
    #: ΔR within which the resonance and each of its decay quarks must lie from the jet axis.
    match_radius: float = 0.8
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    seed: int = 1
    workers: int = 1
    ecm: float = 13000.0
    #: Hard-process pT range; None picks 0.85 * pt_min and 1.25 * pt_max (see :meth:`pthat_range`).
    pthat_min: float | None = None
    pthat_max: float | None = None
    #: Multiparton interactions (the underlying event). They cost ~3/4 of the generation time
    #: but add the soft particles real jets have, so they stay on by default.
    mpi: bool = True
    #: Apply ``eta_max`` to the jet's rapidity y instead of its pseudorapidity (the quark/gluon dataset).
    rapidity_cut: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "classes", tuple(self.classes))
        unknown = [c for c in self.classes if c not in PROCESSES]
        if unknown or not self.classes:
            raise ValueError(
                f"unknown or no classes {unknown or list(self.classes)}; choose from {list(PROCESS_NAMES)}"
            )
        if len(set(self.classes)) != len(self.classes):
            raise ValueError(f"classes repeated: {list(self.classes)}")
        if self.jets_per_class < 1 or self.num_particles < 1 or self.workers < 1:
            raise ValueError("jets_per_class, num_particles and workers must be >= 1")
        if not 0 <= self.pt_min < self.pt_max:
            raise ValueError(f"need 0 <= pt_min < pt_max, got {self.pt_min}, {self.pt_max}")
        if self.eta_max <= 0 or self.jet_radius <= 0 or self.match_radius <= 0:
            raise ValueError("eta_max, jet_radius and match_radius must be positive")
        if min(self.val_fraction, self.test_fraction) < 0 or self.val_fraction + self.test_fraction >= 1:
            raise ValueError("val_fraction and test_fraction must be >= 0 and sum to < 1")
        if self.seed < 0 or task_seed(self.seed, self.workers - 1, len(PROCESS_NAMES) - 1) > _MAX_PYTHIA_SEED:
            raise ValueError(f"seed must be in 0..{_MAX_PYTHIA_SEED - 1000 * self.workers - len(PROCESS_NAMES)}")

    def pthat_range(self) -> tuple[float, float]:
        """The hard-process pT range. A jet's pT is close to its parton's (the resonance's),
        so generating only from just below the window keeps most events useful while losing
        few jets that migrated up into the window through radiation."""
        lo = 0.85 * self.pt_min if self.pthat_min is None else self.pthat_min
        hi = 1.25 * self.pt_max if self.pthat_max is None else self.pthat_max
        return lo, hi

    def split_sizes(self) -> dict[str, int]:
        """Jets per class in each split (every split is balanced)."""
        n_val = int(round(self.jets_per_class * self.val_fraction))
        n_test = int(round(self.jets_per_class * self.test_fraction))
        return {"train": self.jets_per_class - n_val - n_test, "val": n_val, "test": n_test}

    def settings(self) -> dict:
        """JSON-able cache key: the config plus what else changes the output."""
        out = asdict(self)
        out["classes"] = list(self.classes)
        if not self.rapidity_cut:  # added later: absent when off, so older caches stay valid
            del out["rapidity_cut"]
        out["pthat_range"] = list(self.pthat_range())  # so a change of the auto default is a cache miss
        out["generator_version"] = GENERATOR_VERSION
        out["pythia8mc"] = _package_version("pythia8mc")
        out["fastjet"] = _package_version("fastjet")
        return out


def task_seed(seed: int, worker: int, class_index: int) -> int:
    """Pythia seed of one (worker, class) task. Uses the class's index in :data:`PROCESS_NAMES`
    so a class's jets do not depend on which other classes were requested; +1 avoids seed 0."""
    return seed + 1000 * worker + class_index + 1


@dataclass
class JetSample:
    """Constituents of generated jets, pT-sorted and zero-padded, each array ``(jets, particles)``,
    and each jet's parton: the matched resonance, or the hard-process parton of a class that
    selects on it (``parton`` = (E, px, py, pz) ``(jets, 4)``, ``parton_id`` ``(jets,)``; zero if none)."""

    pt: np.ndarray
    eta: np.ndarray
    phi: np.ndarray
    energy: np.ndarray
    charge: np.ndarray
    pdg_id: np.ndarray
    parton: np.ndarray
    parton_id: np.ndarray
    #: Events generated (including those that gave no jet), wall and CPU time spent (with init).
    events: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0

    def __len__(self) -> int:
        return len(self.pt)

    @classmethod
    def concatenate(cls, samples: Sequence[JetSample]) -> JetSample:
        arrays = {k: np.concatenate([getattr(s, k) for s in samples]) for k in _ARRAY_FIELDS}
        return cls(
            **arrays,
            events=sum(s.events for s in samples),
            seconds=sum(s.seconds for s in samples),
            cpu_seconds=sum(s.cpu_seconds for s in samples),
        )

    def take(self, index: np.ndarray) -> JetSample:
        return JetSample(
            **{k: getattr(self, k)[index] for k in _ARRAY_FIELDS},
            events=self.events,
            seconds=self.seconds,
            cpu_seconds=self.cpu_seconds,
        )

    def features(self) -> tuple[np.ndarray, np.ndarray]:
        """The unified ``data`` (jets, particles, 13) and ``jet`` (jets, 4) arrays."""
        kin = jet_kinematics(self.pt, self.eta, self.phi, self.energy)
        data = particle_features(
            self.pt,
            self.eta,
            self.phi,
            self.energy,
            kin["pt"],
            kin["eta"],
            kin["phi"],
            kin["energy"],
            charge=self.charge,
            pdg_id=self.pdg_id,
        )
        return data, jet_array(kin)


_ARRAY_FIELDS = ("pt", "eta", "phi", "energy", "charge", "pdg_id", "parton", "parton_id")


@dataclass
class ClassStats:
    """Throughput of one class; times are summed over its workers, so rates are per worker.

    CPU time is the fairer measure on a shared machine (wall time also counts waiting for a core).
    """

    jets: int
    events: int
    seconds: float
    cpu_seconds: float = 0.0

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else float("nan")

    @property
    def jets_per_second(self) -> float:
        return self.jets / self.seconds if self.seconds > 0 else float("nan")

    @property
    def events_per_cpu_second(self) -> float:
        return self.events / self.cpu_seconds if self.cpu_seconds > 0 else float("nan")

    @property
    def jets_per_cpu_second(self) -> float:
        return self.jets / self.cpu_seconds if self.cpu_seconds > 0 else float("nan")


@dataclass
class GenerationResult:
    """What :func:`generate` produced (or found in the cache)."""

    paths: dict[str, Path]
    cached: bool
    #: Per-class throughput, as recorded when the files were made.
    stats: dict[str, ClassStats] = field(default_factory=dict)
    #: Wall time of this call.
    seconds: float = 0.0
    #: Wall time of the call that made the files (None for files made before it was recorded).
    made_in: float | None = None


# ----------------------------------------------------------------------------------------------
# Dependencies


def require_physics() -> tuple[object, object, object]:
    """Import pythia8mc, fastjet and awkward, or fail with the install command."""
    try:
        import awkward
        import fastjet
        import pythia8mc
    except ImportError as err:
        raise ImportError(f"{_PHYSICS_HINT} ({err})") from err
    return pythia8mc, fastjet, awkward


def _package_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "missing"


# ----------------------------------------------------------------------------------------------
# One class in one process


def make_pythia(spec: ProcessSpec, config: PythiaConfig, seed: int):
    """An initialised, silent Pythia for ``spec``."""
    pythia8mc, _, _ = require_physics()
    pythia = pythia8mc.Pythia("", False)  # no banner
    pthat_min, pthat_max = config.pthat_range()
    common = (
        f"Beams:eCM = {config.ecm}",
        f"PhaseSpace:pTHatMin = {pthat_min}",
        f"PhaseSpace:pTHatMax = {pthat_max}",
        f"PartonLevel:MPI = {'on' if config.mpi else 'off'}",
        "Random:setSeed = on",
        f"Random:seed = {seed}",
        # Printing is the only thing we can drop for free: every physics step shapes the jets.
        "Print:quiet = on",
        "Next:numberCount = 0",
    )
    for line in common + spec.settings:
        if not pythia.readString(line):
            raise RuntimeError(f"Pythia rejected the setting {line!r}")
    if not pythia.init():
        raise RuntimeError(f"Pythia failed to initialise the {spec.name} process")
    return pythia


class _ChargeTable:
    """PDG id → electric charge, from Pythia's particle table, vectorised over arrays."""

    def __init__(self, particle_data) -> None:
        self._data = particle_data
        self._cache: dict[int, float] = {}

    def __call__(self, pdg: np.ndarray) -> np.ndarray:
        ids, inverse = np.unique(pdg, return_inverse=True)
        for i in ids.tolist():
            if i not in self._cache:
                self._cache[i] = float(self._data.charge(i))
        return np.array([self._cache[i] for i in ids.tolist()], dtype=np.float64)[inverse]


def _flat(array) -> np.ndarray:
    import awkward as ak

    return ak.to_numpy(ak.flatten(array, axis=None))


def _offsets(counts) -> np.ndarray:
    import awkward as ak

    return np.concatenate([[0], np.cumsum(ak.to_numpy(counts))]).astype(np.int64)


def _daughters(i: int, d1: np.ndarray, d2: np.ndarray) -> list[int]:
    """Pythia's daughter convention: a range if d1 < d2, otherwise the one or two listed."""
    a, b = int(d1[i]), int(d2[i])
    if a > 0 and b > a:
        return list(range(a, b + 1))
    return [j for j in {a, b} if j > 0]


def _bottom_copy(i: int, pid: np.ndarray, d1: np.ndarray, d2: np.ndarray) -> int:
    """Follow recoil/shower copies of particle ``i`` to the copy that decays."""
    while True:
        same = [j for j in _daughters(i, d1, d2) if pid[j] == pid[i]]
        if not same:
            return i
        i = same[0]


def _decay_products(i: int, pid: np.ndarray, d1: np.ndarray, d2: np.ndarray) -> tuple[list[int], list[int]]:
    """Quarks (and gluons) and charged leptons from the decay of resonance ``i``, following
    t → b W and W → q q' / ℓ ν (neutrinos are not listed: they leave no trace in the jet)."""
    quarks: list[int] = []
    leptons: list[int] = []
    for j in _daughters(_bottom_copy(i, pid, d1, d2), d1, d2):
        if abs(pid[j]) in _QUARKS or pid[j] == 21:  # gluons: H -> g g (no other decay here makes one)
            quarks.append(j)
        elif abs(pid[j]) in _CHARGED_LEPTONS:
            leptons.append(j)
        elif abs(pid[j]) in _RESONANCES:
            q, lep = _decay_products(j, pid, d1, d2)
            quarks.extend(q)
            leptons.extend(lep)
    return quarks, leptons


def _resonances(res_id: int, pid: np.ndarray, d1: np.ndarray, d2: np.ndarray) -> list[tuple[int, list[int], list[int]]]:
    """Each decaying copy of the resonance with its decay quarks and charged leptons (indices
    into the event)."""
    found = []
    for i in np.flatnonzero(np.abs(pid) == res_id).tolist():
        if _bottom_copy(i, pid, d1, d2) == i:
            found.append((i, *_decay_products(i, pid, d1, d2)))
    return found


def _hard_parton(pid: np.ndarray, status: np.ndarray) -> int:
    """Index of the hard process's outgoing quark or gluon (status ±23), or -1."""
    found = np.flatnonzero((np.abs(status) == 23) & np.isin(np.abs(pid), _QUARKS + (21,)))
    return int(found[0]) if len(found) else -1


def _delta_r(eta1, phi1, eta2, phi2) -> np.ndarray:
    return np.hypot(np.asarray(eta1) - eta2, wrap_phi(np.asarray(phi1) - phi2))


class _ClassGenerator:
    """Generates jets of one class with one Pythia instance, batch by batch."""

    def __init__(self, name: str, config: PythiaConfig, seed: int) -> None:
        _, fastjet, _ = require_physics()
        self.spec = PROCESSES[name]
        self.config = config
        self.pythia = make_pythia(self.spec, config, seed)
        self.charge = _ChargeTable(self.pythia.particleData)
        self.jet_def = fastjet.JetDefinition(fastjet.antikt_algorithm, config.jet_radius)
        self.events = 0

    def batch(self, num_events: int) -> list[tuple[np.ndarray, ...]]:
        """Generate ``num_events`` events; return the accepted jets' padded constituent rows."""
        import awkward as ak
        import fastjet

        cfg = self.config
        # nextBatch fills an awkward array of whole events in C++: no per-particle Python loop.
        prt = self.pythia.nextBatch(num_events, "skip").prt
        self.events += num_events
        n_ev = len(prt)
        pid_all = _flat(prt.id)
        abs_id = np.abs(pid_all)
        status_all = _flat(prt.status)
        visible_flat = (status_all > 0) & ~np.isin(abs_id, _NEUTRINOS)
        visible = ak.unflatten(visible_flat, ak.num(prt.id))
        fs = prt[visible]
        vectors = ak.zip({"px": fs.p.px, "py": fs.p.py, "pz": fs.p.pz, "E": fs.p.e})
        fs_off = _offsets(ak.num(fs.id))
        fs_pt, fs_eta, fs_phi, fs_e = from_pxpypze(_flat(fs.p.px), _flat(fs.p.py), _flat(fs.p.pz), _flat(fs.p.e))
        fs_id = _flat(fs.id)
        fs_q = self.charge(fs_id) if len(fs_id) else np.zeros(0)

        # Only jets above pt_min can pass the window, so FastJet need not return the others
        # (the leading-jet ranking below is unchanged by dropping softer jets).
        cluster = fastjet.ClusterSequence(vectors, self.jet_def)
        constituents = cluster.constituent_index(min_pt=cfg.pt_min)
        jets_per_event = ak.to_numpy(ak.num(constituents, axis=1))
        jet_off = np.concatenate([[0], np.cumsum(jets_per_event)])
        flat_jets = ak.flatten(constituents, axis=1)
        const_off = _offsets(ak.num(flat_jets, axis=1))
        const_idx = _flat(flat_jets).astype(np.int64)

        truth = self.spec.resonance is not None or self.spec.hard_partons is not None
        if truth:
            ev_off = _offsets(ak.num(prt.id))
            p4_all = np.stack([_flat(prt.p.e), _flat(prt.p.px), _flat(prt.p.py), _flat(prt.p.pz)], axis=-1)
        if self.spec.resonance is not None:
            d1_all, d2_all = _flat(prt.daughter1), _flat(prt.daughter2)
            _, p_eta, p_phi, _ = from_pxpypze(p4_all[:, 1], p4_all[:, 2], p4_all[:, 3], p4_all[:, 0])

        accepted: list[tuple[np.ndarray, ...]] = []
        for ev in range(n_ev):
            s = slice(ev_off[ev], ev_off[ev + 1]) if truth else slice(0, 0)
            parton = -1  # index in the event of the chosen jets' parton
            if self.spec.hard_partons is not None:
                parton = _hard_parton(pid_all[s], status_all[s])
                if parton < 0 or abs(int(pid_all[s][parton])) not in self.spec.hard_partons:
                    continue
            candidates = []  # (kept constituent indices, kinematics of their sum)
            for j in range(jet_off[ev], jet_off[ev + 1]):
                idx = fs_off[ev] + const_idx[const_off[j] : const_off[j + 1]]
                # Hardest constituents first; keep at most num_particles of them.
                idx = idx[np.argsort(-fs_pt[idx], kind="stable")][: cfg.num_particles]
                kin = jet_kinematics(fs_pt[None, idx], fs_eta[None, idx], fs_phi[None, idx], fs_e[None, idx])
                candidates.append((idx, {k: float(v[0]) for k, v in kin.items()}))
            if not candidates:
                continue
            if self.spec.resonance is None:
                # QCD: the two leading jets of the event (Z + parton: the leading one), each kept if in the cuts.
                order = sorted(range(len(candidates)), key=lambda c: -candidates[c][1]["pt"])[: self.spec.leading_jets]
                chosen = [(*candidates[c], parton) for c in order if self._passes(candidates[c][1])]
            else:
                chosen = self._matched(candidates, pid_all[s], d1_all[s], d2_all[s], p_eta[s], p_phi[s])
            for idx, _, k in chosen:
                p4, pid = (p4_all[s][k], int(pid_all[s][k])) if k >= 0 else (np.zeros(4), 0)
                accepted.append(self._rows(idx, fs_pt, fs_eta, fs_phi, fs_e, fs_q, fs_id) + (p4, np.int32(pid)))
        return accepted

    def _passes(self, kin: dict[str, float]) -> bool:
        cfg = self.config
        angle = kin["eta"]
        if cfg.rapidity_cut:
            pz = kin["pt"] * math.sinh(kin["eta"])
            angle = 0.5 * math.log((kin["energy"] + pz) / (kin["energy"] - pz))
        return cfg.pt_min < kin["pt"] < cfg.pt_max and abs(angle) < cfg.eta_max

    def _matched(self, candidates, pid, d1, d2, eta, phi) -> list:
        """(indices, kinematics, resonance index) of the jets that contain a resonance and all its
        decay quarks and charged leptons (each jet at most once)."""
        r = self.config.match_radius
        passing = [c for c in candidates if self._passes(c[1])]
        used: set[int] = set()
        chosen = []
        for res, quarks, leptons in _resonances(self.spec.resonance, pid, d1, d2):
            if (len(quarks), len(leptons)) != (self.spec.decay_quarks, self.spec.decay_leptons):
                continue  # not the decay this class is about
            quarks = quarks + leptons
            best, best_dr = None, r
            for k, (_, kin) in enumerate(passing):
                if k in used:
                    continue
                dr_res = float(_delta_r(eta[res], phi[res], kin["eta"], kin["phi"]))
                dr_q = _delta_r(eta[quarks], phi[quarks], kin["eta"], kin["phi"])
                if dr_res < best_dr and np.all(dr_q < r):
                    best, best_dr = k, dr_res
            if best is not None:
                used.add(best)
                chosen.append((*passing[best], res))
        return chosen

    def _rows(self, idx, pt, eta, phi, e, q, pdg) -> tuple[np.ndarray, ...]:
        """One jet's constituents as zero-padded rows of length num_particles."""
        n = self.config.num_particles
        rows = []
        for src, dtype in (
            (pt, np.float64),
            (eta, np.float64),
            (phi, np.float64),
            (e, np.float64),
            (q, np.float64),
            (pdg, np.int32),
        ):
            row = np.zeros(n, dtype=dtype)
            row[: len(idx)] = src[idx]
            rows.append(row)
        return tuple(rows)


def generate_jets(
    name: str,
    num_jets: int,
    seed: int,
    config: PythiaConfig | None = None,
    progress: Callable[[int], None] | None = None,
) -> JetSample:
    """Generate exactly ``num_jets`` jets of class ``name`` with one Pythia seeded ``seed``.

    ``progress`` is called with the number of newly accepted jets after every batch.
    """
    config = config or PythiaConfig()
    if name not in PROCESSES:
        raise ValueError(f"unknown class {name!r}; choose from {list(PROCESS_NAMES)}")
    if num_jets <= 0:  # more workers than jets: nothing to do, and no Pythia to initialise
        empty = np.zeros((0, config.num_particles))
        return JetSample(
            empty, empty, empty, empty, empty, empty.astype(np.int32), np.zeros((0, 4)), np.zeros(0, dtype=np.int32)
        )
    start, cpu_start = time.perf_counter(), time.process_time()
    gen = _ClassGenerator(name, config, seed)
    rows: list[tuple[np.ndarray, ...]] = []
    batch = 20
    while len(rows) < num_jets:
        new = gen.batch(batch)
        new = new[: num_jets - len(rows)]
        rows.extend(new)
        if progress is not None and new:
            progress(len(new))
        if not rows and gen.events >= 2000:
            raise RuntimeError(
                f"{name}: no jet passed {config.pt_min} < pT < {config.pt_max}, |eta| < {config.eta_max} "
                f"in {gen.events} events; check the cuts and pthat range {config.pthat_range()}"
            )
        # Size the next batch from the acceptance so far: few wasted events at the end, few
        # Python round trips in the middle. Depends only on earlier events, so stays deterministic.
        rate = max(len(rows) / gen.events, 0.05)
        batch = int(min(max(math.ceil((num_jets - len(rows)) / rate * 1.1), 5), 200))
    cols = [np.stack(c) for c in zip(*rows)]
    return JetSample(
        *cols, events=gen.events, seconds=time.perf_counter() - start, cpu_seconds=time.process_time() - cpu_start
    )


# ----------------------------------------------------------------------------------------------
# Many classes over many processes

_progress_queue = None


def _init_worker(q) -> None:
    global _progress_queue
    _progress_queue = q
    # Worker processes have nothing to say on stdout (Pythia is quiet, results are pickled
    # back); this keeps each worker's FastJet banner out of the progress bar.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)


def _run_task(name: str, num_jets: int, seed: int, config: PythiaConfig) -> JetSample:
    q = _progress_queue
    return generate_jets(name, num_jets, seed, config, progress=(lambda n: q.put(n)) if q is not None else None)


def _tasks(config: PythiaConfig) -> list[tuple[str, int, int, int]]:
    """(class, worker, jets, seed) for every (class, worker) pair, in output order."""
    out = []
    for name in config.classes:
        c = PROCESS_NAMES.index(name)
        for w in range(config.workers):
            n = config.jets_per_class // config.workers + (w < config.jets_per_class % config.workers)
            out.append((name, w, n, task_seed(config.seed, w, c)))
    return out


def generate_samples(config: PythiaConfig, progress: bool = True) -> dict[str, JetSample]:
    """Generate every requested class; ``config.workers`` processes share the (class, worker) tasks."""
    require_physics()
    tasks = _tasks(config)
    total = config.jets_per_class * len(config.classes)
    bar = _progress_bar(total, progress)
    results: list[JetSample] = []
    try:
        if config.workers == 1:
            results = [generate_jets(name, n, seed, config, bar.update) for name, _, n, seed in tasks]
        else:
            # spawn, not fork: the caller may hold threads (TensorFlow) that fork would corrupt.
            ctx = mp.get_context("spawn")
            q = ctx.Queue()
            with ctx.Pool(config.workers, initializer=_init_worker, initargs=(q,)) as pool:
                pending = [pool.apply_async(_run_task, (name, n, seed, config)) for name, _, n, seed in tasks]
                while not all(p.ready() for p in pending):
                    try:
                        bar.update(q.get(timeout=0.2))
                    except queue_module.Empty:
                        pass
                results = [p.get() for p in pending]  # re-raises a worker's exception
    finally:
        bar.close()
    by_class: dict[str, list[JetSample]] = {name: [] for name in config.classes}
    for (name, *_), sample in zip(tasks, results):
        by_class[name].append(sample)
    return {name: JetSample.concatenate(s) for name, s in by_class.items()}


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(total: int, enabled: bool):
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit="jet", desc="Pythia jets", smoothing=0.1)


# ----------------------------------------------------------------------------------------------
# Files and cache


def _read_sidecar(outdir: Path) -> dict | None:
    try:
        return json.loads((outdir / SIDECAR).read_text())
    except (OSError, ValueError):
        return None


def _cache_valid(outdir: Path, config: PythiaConfig) -> dict | None:
    """The sidecar if the directory holds a complete set made with ``config``, else None."""
    side = _read_sidecar(outdir)
    if side is None or side.get("settings") != json.loads(json.dumps(config.settings())):
        return None
    sizes = config.split_sizes()
    for split in SPLITS:
        try:
            info = inspect_file(outdir / f"{split}.h5")
        except DataFormatError:
            return None
        if (
            info.num_jets != sizes[split] * len(config.classes)
            or info.classes != tuple(config.classes)
            or info.num_particles != config.num_particles
        ):
            return None
    return side


def _stats_from(side: dict) -> dict[str, ClassStats]:
    return {k: ClassStats(**v) for k, v in side.get("stats", {}).items()}


def split_samples(
    samples: dict[str, JetSample], config: PythiaConfig, rng: np.random.Generator
) -> dict[str, tuple[JetSample, np.ndarray]]:
    """{split: (jets, labels)} with the same per-class counts in every split (labels 0..C-1 in the
    order of ``config.classes``); classes follow each other, unshuffled."""
    sizes = config.split_sizes()
    edges = np.cumsum([0] + [sizes[s] for s in SPLITS])
    parts: dict[str, list[tuple[JetSample, np.ndarray]]] = {s: [] for s in SPLITS}
    for label, name in enumerate(config.classes):
        perm = rng.permutation(config.jets_per_class)
        for k, split in enumerate(SPLITS):
            idx = perm[edges[k] : edges[k + 1]]
            parts[split].append((samples[name].take(idx), np.full(len(idx), label, dtype=np.int32)))
    return {
        split: (JetSample.concatenate([s for s, _ in p]), np.concatenate([lab for _, lab in p]))
        for split, p in parts.items()
    }


def generate(
    outdir: str | os.PathLike,
    config: PythiaConfig | None = None,
    *,
    force: bool = False,
    progress: bool = True,
    chunk: int = 2048,
) -> GenerationResult:
    """Generate the dataset into ``outdir/{train,val,test}.h5``, or reuse a matching one.

    Labels are 0..C-1 in the order of ``config.classes``; each split holds the same number of
    jets per class, shuffled. ``train.h5`` carries its own normalisation and the val/test files
    carry the train one. The settings sidecar is written last, so an interrupted run is redone.
    """
    config = config or PythiaConfig()
    outdir = Path(outdir)
    start = time.perf_counter()
    paths = {split: outdir / f"{split}.h5" for split in SPLITS}
    if not force:
        side = _cache_valid(outdir, config)
        if side is not None:
            return GenerationResult(paths, True, _stats_from(side), time.perf_counter() - start, side.get("seconds"))

    require_physics()
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / SIDECAR).unlink(missing_ok=True)  # the old files stop being a valid cache now
    samples = generate_samples(config, progress=progress)

    # Stratified split, then one shuffle per split.
    rng = np.random.default_rng(config.seed)
    parts = split_samples(samples, config, rng)

    normalization = None
    for split in SPLITS:
        sample, labels = parts[split]
        order = rng.permutation(len(labels))
        with UnifiedWriter(
            paths[split],
            config.num_particles,
            config.classes,
            normalization=normalization,
            chunk=min(chunk, max(len(labels), 1)),
        ) as writer:
            for lo in range(0, len(order), chunk):
                sel = order[lo : lo + chunk]
                data, jet = sample.take(sel).features()
                writer.append(data, jet, labels[sel])
        if split == "train":
            normalization = writer.normalization

    stats = {name: ClassStats(len(s), s.events, s.seconds, s.cpu_seconds) for name, s in samples.items()}
    seconds = time.perf_counter() - start
    side = {"settings": config.settings(), "stats": {k: asdict(v) for k, v in stats.items()}, "seconds": seconds}
    tmp = outdir / (SIDECAR + ".tmp")
    tmp.write_text(json.dumps(side, indent=2))
    os.replace(tmp, outdir / SIDECAR)
    return GenerationResult(paths, False, stats, seconds, seconds)
