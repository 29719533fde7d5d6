"""The offline default of the anomaly-detection task: LHCO-like dijet events made here with
Pythia 8 and FastJet, in the event format of :mod:`omnilearn.data.events`.

* background: QCD 2 → 2 (``HardQCD:all``), hard-process pT from ``pthat_min`` = 1.1 TeV (just
  below the 1.2 TeV leading-jet cut, so few events are wasted; jets above the cut from softer
  hard processes are the bias this costs);
* signal: the LHCO topology W′ → X Y, X → q q̄, Y → q q̄ with the R&D masses (3.5 TeV,
  500 GeV, 100 GeV), defined through Pythia's particle data: the W′ (34) decays only to
  Z (23) W (24), whose masses are set to m_X and m_Y and whose decays are forced to quarks
  (``Wprime:coup2WZ = 1``). Only the signal's Pythia sees these changes;
* 13 TeV, MPI on, generator level (no detector simulation: an honest difference from the
  Delphes R&D set); the visible final state (no neutrinos) is clustered and selected exactly as
  the R&D converter does (:func:`omnilearn.datasets.lhco.dijet_events`: anti-kT R = 1, two
  leading jets, leading pT > 1.2 TeV).

The mass scale is the R&D set's, so the signal region and sidebands apply unchanged; what is
scaled down is the event count: the defaults (16 000 QCD and 2 000 signal events generated, of
which about half pass the cut) take a few minutes on two cores (about 25 ms per event and core),
enough for a demonstration of the whole chain, not for the paper's statistics (its 100 k
signal-region background events). Events are generated in chunks of ``chunk`` events, each with
its own Pythia seeded from ``seed`` and the chunk's index, so the output does not depend on
``workers``. :func:`generate` caches: a directory holding a complete set made with the same
settings (the JSON sidecar) is reused.
"""

from __future__ import annotations

import json
import multiprocessing as mp
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..data.events import NUM_PARTICLES
from ..data.format import SPLITS
from ..datasets.lhco import FRACTIONS, MIN_LEADING_PT, PreprocessResult, dijet_events, write_event_splits
from .generator import ProcessSpec, PythiaConfig, _package_version, make_pythia, require_physics

SIDECAR = "lhco_pythia_settings.json"
GENERATOR_VERSION = 1
_NEUTRINOS = (12, 14, 16)


@dataclass(frozen=True)
class LHCOPythiaConfig:
    """Everything that determines the generated events (the cache key)."""

    num_background: int = 16_000
    num_signal: int = 2_000
    seed: int = 1
    workers: int = 2
    chunk: int = 500
    num_particles: int = NUM_PARTICLES
    pthat_min: float = 1100.0
    m_resonance: float = 3500.0
    m_x: float = 500.0
    m_y: float = 100.0
    mpi: bool = True
    fractions: tuple[float, float, float] = FRACTIONS
    min_leading_pt: float = MIN_LEADING_PT

    def __post_init__(self) -> None:
        if self.num_background < 1 or self.num_signal < 1 or self.workers < 1 or self.chunk < 1:
            raise ValueError("num_background, num_signal, workers and chunk must be >= 1")
        object.__setattr__(self, "fractions", tuple(self.fractions))

    def settings(self) -> dict:
        out = asdict(self)
        del out["workers"]  # the output does not depend on it
        out["fractions"] = list(self.fractions)
        out["generator_version"] = GENERATOR_VERSION
        out["pythia8mc"] = _package_version("pythia8mc")
        out["fastjet"] = _package_version("fastjet")
        return out


def process_settings(cfg: LHCOPythiaConfig, signal: bool) -> tuple[str, ...]:
    """The Pythia settings of the background or the signal process."""
    if not signal:
        return ("HardQCD:all = on",)
    return (
        "NewGaugeBoson:ffbar2Wprime = on",
        f"34:m0 = {cfg.m_resonance}",
        "34:onMode = off",
        "34:onIfAll = 23 24",
        "Wprime:coup2WZ = 1",
        f"23:m0 = {cfg.m_x}",
        "23:onMode = off",
        "23:onIfAny = 1 2 3 4 5",
        f"24:m0 = {cfg.m_y}",
        "24:onMode = off",
        "24:onIfAny = 1 2 3 4 5",
    )


def _chunk_seed(seed: int, signal: bool, index: int) -> int:
    return 1 + seed * 100_000 + 50_000 * int(signal) + index


def generate_chunk(cfg: LHCOPythiaConfig, signal: bool, index: int, num_events: int):
    """``(data, jet, mjj, label)`` of the events of one chunk that pass the selection."""
    import awkward as ak

    from ..data.features import from_pxpypze

    spec = ProcessSpec("lhco_signal" if signal else "lhco_qcd", "", process_settings(cfg, signal), None)
    common = PythiaConfig(pthat_min=0.0 if signal else cfg.pthat_min, pthat_max=-1.0, mpi=cfg.mpi)
    pythia = make_pythia(spec, common, _chunk_seed(cfg.seed, signal, index))
    prt = pythia.nextBatch(num_events, "skip").prt
    visible = (prt.status > 0) & ~(abs(prt.id) == 12) & ~(abs(prt.id) == 14) & ~(abs(prt.id) == 16)
    fs = prt[visible]
    counts = ak.to_numpy(ak.num(fs.id))
    flat = [ak.to_numpy(ak.flatten(getattr(fs.p, c))) for c in ("px", "py", "pz", "e")]
    pt, eta, phi, e = from_pxpypze(*flat)
    keep, data, jet, mjj = dijet_events(pt, eta, phi, e, counts, cfg.num_particles, cfg.min_leading_pt)
    return data, jet, mjj, np.full(len(mjj), int(signal), dtype=np.int32)


def _run(args):
    return generate_chunk(*args), args[3]


def _complete(outdir: Path, settings: dict) -> bool:
    sidecar = outdir / SIDECAR
    if not sidecar.is_file() or not all((outdir / f"{s}.h5").is_file() for s in SPLITS):
        return False
    try:
        return json.loads(sidecar.read_text()).get("settings") == settings
    except (OSError, ValueError):
        return False


def generate(outdir: str | Path, cfg: LHCOPythiaConfig | None = None, progress: bool = True) -> PreprocessResult | None:
    """Generate the events into ``outdir/{train,val,test}.h5`` (+ the settings sidecar), or
    return None at once if ``outdir`` already holds them made with the same settings."""
    cfg = cfg or LHCOPythiaConfig()
    require_physics()
    outdir = Path(outdir)
    settings = json.loads(json.dumps(cfg.settings()))
    if _complete(outdir, settings):
        return None
    tasks = []
    for signal, total in ((False, cfg.num_background), (True, cfg.num_signal)):
        for i, start in enumerate(range(0, total, cfg.chunk)):
            tasks.append((cfg, signal, i, min(cfg.chunk, total - start)))
    from tqdm import tqdm

    bar = tqdm(total=sum(t[3] for t in tasks), unit="event", desc="lhco pythia", disable=not progress)
    stats = {"generated": 0, "kept": 0}

    def blocks():
        # chunk results are written in task order, so the output does not depend on the workers
        ctx = mp.get_context("spawn")
        with ctx.Pool(cfg.workers) as pool:
            for block, n in pool.imap(_run, tasks):
                bar.update(n)
                stats["generated"] += n
                stats["kept"] += len(block[3])
                yield block

    try:
        result = write_event_splits(
            outdir,
            blocks(),
            fractions=cfg.fractions,
            num_particles=cfg.num_particles,
            seed=cfg.seed,
            name=str(outdir),
            why_empty=lambda: f"{stats['kept']} of {stats['generated']} generated events pass the selection",
        )
    finally:
        bar.close()
    tmp = outdir / (SIDECAR + ".tmp")
    tmp.write_text(json.dumps({"settings": settings, "counts": result.counts, **stats}, indent=2) + "\n")
    tmp.replace(outdir / SIDECAR)
    return result
