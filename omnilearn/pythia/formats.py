"""Pythia jets written in the released formats of the paper's two Pythia benchmarks.

The files go through the real converters (:mod:`omnilearn.datasets.top`, :mod:`omnilearn.datasets.qg`)
exactly as the downloaded ones would, so ``scripts/preprocess.py --dataset top|qg`` reads them.

``top`` — top tagging reference dataset (Kasieczka et al., arXiv:1902.09914):
    ``train.h5``, ``val.h5``, ``test.h5``, each a pandas HDF5 frame (key ``table``, written by
    ``DataFrame.to_hdf``) with columns ``E_i, PX_i, PY_i, PZ_i`` (i < 200, pT-ordered, zero
    padded, float32), ``truthE, truthPX, truthPY, truthPZ`` (the matched top; 0 for QCD),
    ``ttv`` (0 train, 1 val, 2 test: our choice, the release does not document its codes) and
    ``is_signal_new`` (1 top, 0 QCD). Physics as the release describes it: 14 TeV, no multiparton
    interactions, anti-kT R = 0.8, 550 < pT < 650 GeV, |eta| < 2, top jets containing the top
    and its three decay quarks within ΔR < 0.8; splits in the release's 60/20/20 proportions.
    Not reproduced: the Delphes detector simulation (these are stable particles, no neutrinos).

``qg`` — quark/gluon dataset (Komiske, Metodiev, Thaler, arXiv:1810.05165):
    ``QG_jets.npz``, ``QG_jets_1.npz``, … (100 k jets each) with ``X`` ``(jets, M, 4)`` = (pT,
    rapidity y, phi, PDG id), zero padded to the file's largest multiplicity, and ``y`` (1 quark,
    0 gluon), classes shuffled together (the converter splits the sequence 80/10/10). Physics as
    in the dataset: 14 TeV, q q̄ → Z g and q g → Z q with Z → ν ν̄ (photon off), multiparton
    interactions on, the leading anti-kT R = 0.4 jet with 500 < pT < 550 GeV and |y| < 1.7,
    quark jets from u, d, s only (events whose outgoing quark is c or b are skipped), particle
    phi within π of the jet's phi, which is in [0, 2π) as FastJet gives it.

:func:`generate_public` generates, writes every file under a temporary name and renames them
when all are complete, then a settings sidecar; a rerun with the same settings finds the files.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from ..data.features import jet_kinematics, wrap_phi
from .generator import SPLITS, ClassStats, JetSample, PythiaConfig, generate_samples, split_samples

#: The physics of each dataset (``jets_per_class``, ``workers`` and ``seed`` are free to change).
CONFIGS: dict[str, PythiaConfig] = {
    "top": PythiaConfig(
        classes=("qcd", "top"),
        pt_min=550.0,
        pt_max=650.0,
        eta_max=2.0,
        jet_radius=0.8,
        match_radius=0.8,
        ecm=14000.0,
        mpi=False,
        num_particles=200,
        val_fraction=0.2,
        test_fraction=0.2,
    ),
    "qg": PythiaConfig(
        classes=("qg_gluon", "qg_quark"),
        pt_min=500.0,
        pt_max=550.0,
        eta_max=1.7,
        rapidity_cut=True,
        jet_radius=0.4,
        ecm=14000.0,
        mpi=True,
        num_particles=200,
    ),
}
#: The class whose jets get label 1 (``is_signal_new`` / ``y``).
SIGNAL = {"top": "top", "qg": "qg_quark"}
TOP_CONSTITUENTS = 200
QG_JETS_PER_FILE = 100_000
SIDECAR = "public_settings.json"
_TTV = {"train": 0, "val": 1, "test": 2}


def top_frame(sample: JetSample, labels: np.ndarray, ttv: int = 0):
    """The top-tagging release's pandas frame of ``sample`` (labels: 1 top, 0 QCD)."""
    import pandas as pd

    n, k = len(sample), min(sample.pt.shape[1], TOP_CONSTITUENTS)
    pt, eta, phi = sample.pt[:, :k], sample.eta[:, :k], sample.phi[:, :k]
    real = pt > 0
    p4 = np.zeros((n, TOP_CONSTITUENTS, 4), dtype=np.float32)  # E, PX, PY, PZ per constituent
    p4[:, :k] = (
        np.stack([sample.energy[:, :k], pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)], -1) * real[..., None]
    )
    columns = [f"{c}_{i}" for i in range(TOP_CONSTITUENTS) for c in ("E", "PX", "PY", "PZ")]
    frame = pd.DataFrame(p4.reshape(n, -1), columns=columns)
    truth = sample.parton.astype(np.float32)
    extra = {f"truth{c}": truth[:, j] for j, c in enumerate(("E", "PX", "PY", "PZ"))}
    extra["ttv"] = np.full(n, ttv, dtype=np.int64)
    extra["is_signal_new"] = np.asarray(labels, dtype=np.int64)
    return pd.concat([frame, pd.DataFrame(extra)], axis=1)


def write_top_file(
    path: str | os.PathLike, sample: JetSample, labels: np.ndarray, ttv: int = 0, format: str = "fixed"
) -> Path:
    """One split file of the top-tagging release (``format``: pandas' "fixed" or "table" layout)."""
    try:
        import tables  # noqa: F401  (pandas writes HDF5 through PyTables)
    except ImportError as err:
        raise ImportError(
            f'writing the top-tagging format needs pandas and tables: pip install -e ".[physics]" ({err})'
        ) from err
    path = Path(path)
    top_frame(sample, labels, ttv).to_hdf(path, key="table", mode="w", format=format)
    return path


def qg_arrays(sample: JetSample, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``X`` (jets, M, 4) = (pT, y, phi, PDG id) and ``y`` of the quark/gluon release."""
    real = sample.pt > 0
    m = max(int(real.sum(1).max(initial=0)), 1)  # padded to the largest multiplicity, as each release file
    pt, eta, phi, e = (a[:, :m] for a in (sample.pt, sample.eta, sample.phi, sample.energy))
    pz = pt * np.sinh(eta)
    rap = np.where(real[:, :m], np.arctanh(np.divide(pz, e, out=np.zeros_like(pz), where=e > 0)), 0.0)
    jet_phi = jet_kinematics(pt, eta, phi, e)["phi"]
    jet_phi_fj = np.mod(jet_phi, 2 * np.pi)  # FastJet's range
    phi_out = jet_phi_fj[:, None] + wrap_phi(phi - jet_phi[:, None])
    x = np.stack([pt, rap, phi_out, sample.pdg_id[:, :m].astype(np.float64)], -1) * real[:, :m, None]
    return x, np.asarray(labels, dtype=np.float64)


def write_qg_file(path: str | os.PathLike, sample: JetSample, labels: np.ndarray) -> Path:
    """One ``QG_jets*.npz`` of the quark/gluon release (labels: 1 quark, 0 gluon)."""
    x, y = qg_arrays(sample, labels)
    path = Path(path)
    with open(path, "wb") as f:  # a file object: np.savez would append ".npz" to a temporary name
        np.savez_compressed(f, X=x, y=y)
    return path


def qg_file_name(k: int) -> str:
    return "QG_jets.npz" if k == 0 else f"QG_jets_{k}.npz"


@dataclass
class PublicResult:
    """What :func:`generate_public` wrote (or found)."""

    format: str
    outdir: Path
    files: list[Path]
    cached: bool
    stats: dict[str, ClassStats] = field(default_factory=dict)
    seconds: float = 0.0


def config_for(format: str, **changes) -> PythiaConfig:
    """The dataset's :data:`CONFIGS` entry with ``changes`` (e.g. ``jets_per_class``, ``workers``, ``seed``)."""
    if format not in CONFIGS:
        raise ValueError(f"unknown format {format!r}; choose from {sorted(CONFIGS)}")
    return replace(CONFIGS[format], **changes)


def _check(format: str, config: PythiaConfig) -> None:
    if format not in CONFIGS:
        raise ValueError(f"unknown format {format!r}; choose from {sorted(CONFIGS)}")
    want = set(CONFIGS[format].classes)
    if set(config.classes) != want:
        raise ValueError(f"the {format} format holds the classes {sorted(want)}, not {list(config.classes)}")


def _labels(format: str, config: PythiaConfig, labels: np.ndarray) -> np.ndarray:
    """Class indices of ``config.classes`` → the release's 1 (signal) / 0."""
    return (labels == config.classes.index(SIGNAL[format])).astype(np.int64)


def _sidecar(format: str, config: PythiaConfig) -> dict:
    return json.loads(json.dumps({"format": format, "settings": config.settings()}))


def generate_public(
    format: str,
    outdir: str | os.PathLike,
    config: PythiaConfig | None = None,
    *,
    force: bool = False,
    progress: bool = True,
) -> PublicResult:
    """Generate ``config`` (default ``CONFIGS[format]``) and write it in the ``format`` release's files.

    The generation is deterministic given the config (seed and workers), as in
    :func:`omnilearn.pythia.generator.generate`; labels are balanced (``jets_per_class`` each).
    """
    config = config or CONFIGS.get(format)
    _check(format, config)
    outdir = Path(outdir)
    start = time.perf_counter()
    side_path = outdir / SIDECAR
    if not force and side_path.exists():
        try:
            side = json.loads(side_path.read_text())
        except ValueError:
            side = {}
        files = [outdir / f for f in side.get("files", [])]
        if (
            {k: side.get(k) for k in ("format", "settings")} == _sidecar(format, config)
            and files
            and all(f.exists() for f in files)
        ):
            stats = {k: ClassStats(**v) for k, v in side.get("stats", {}).items()}
            return PublicResult(format, outdir, files, True, stats, time.perf_counter() - start)

    samples = generate_samples(config, progress=progress)
    rng = np.random.default_rng(config.seed)
    jobs = []  # (file name, writer, its arguments after the path)
    if format == "top":
        parts = split_samples(samples, config, rng)
        for split in SPLITS:
            sample, labels = parts[split]
            order = rng.permutation(len(labels))
            jobs.append(
                (
                    f"{split}.h5",
                    write_top_file,
                    (sample.take(order), _labels(format, config, labels[order]), _TTV[split]),
                )
            )
    else:
        sample = JetSample.concatenate([samples[c] for c in config.classes])
        labels = np.repeat(np.arange(len(config.classes)), config.jets_per_class)
        order = rng.permutation(len(labels))
        for k, lo in enumerate(range(0, len(order), QG_JETS_PER_FILE)):
            sel = order[lo : lo + QG_JETS_PER_FILE]
            jobs.append((qg_file_name(k), write_qg_file, (sample.take(sel), _labels(format, config, labels[sel]))))

    outdir.mkdir(parents=True, exist_ok=True)
    side_path.unlink(missing_ok=True)  # the old files stop being a valid set now
    tmps = []
    try:
        for name, write, args in jobs:
            tmp = outdir / f".{name}.tmp"
            tmps.append(tmp)
            write(tmp, *args)
        for (name, _, _), tmp in zip(jobs, tmps):
            os.replace(tmp, outdir / name)
    finally:
        for tmp in tmps:
            tmp.unlink(missing_ok=True)
    stats = {name: ClassStats(len(s), s.events, s.seconds, s.cpu_seconds) for name, s in samples.items()}
    files = [outdir / name for name, _, _ in jobs]
    side = {
        **_sidecar(format, config),
        "files": [f.name for f in files],
        "stats": {k: asdict(v) for k, v in stats.items()},
    }
    tmp = outdir / (SIDECAR + ".tmp")
    tmp.write_text(json.dumps(side, indent=2))
    os.replace(tmp, side_path)
    return PublicResult(format, outdir, files, False, stats, time.perf_counter() - start)
