"""JetNet (Kansal et al., arXiv:2106.11535; Zenodo 6975118 / 6975117) ↔ unified format.

Input: a directory with one HDF5 file per jet class, as released: ``g.hdf5``, ``q.hdf5``,
``t.hdf5``, ``w.hdf5``, ``z.hdf5`` (JetNet30) or ``g150.hdf5`` … ``z150.hdf5`` (JetNet150).
Every class file present is used (at least one is needed), in JetNet's class order
g, q, t, w, z; the label is the position among the classes found. Each file holds

=====================  ===============  ======================================================
``particle_features``  (N, 30|150, 4)   η_rel, φ_rel, pT_rel, mask per particle, pT-ordered,
                                        zero-padded (mask 0)
``jet_features``       (N, 4)           jet pT, η, mass, number of particles (the released
                                        layout); (N, 5) with the class index first (what
                                        ``jetnet.datasets.JetNet.getData`` returns) is read too
=====================  ===============  ======================================================

Split: JetNet's own (``JetNet.getData``): the classes are concatenated in the order above,
permuted with ``numpy.random.seed(42)``, and cut 70 % train / 15 % valid / 15 % test.

JetNet has no particle identification: charge and PID flags stay 0, and the particles are
taken massless (E = pT cosh η) with pT = pT_rel · pT_jet, η = η_rel + η_jet, φ = φ_rel (the jet
φ is not stored, so it is set to 0). The unified ``jet`` array is the stored jet (pT, η, mass)
and the number of stored particles (:mod:`.convert`'s convention). The generator learns all
13 unified features; a sample is turned back into JetNet's (η_rel, φ_rel, pT_rel) by
:func:`unified_to_jetnet`, from Δη, Δφ and log pT (the other features are functions of these
and the jet, so they add nothing that JetNet stores).

:func:`write_jetnet` writes the released layout (used for generated samples and for the
embedded Pythia jets, :func:`export_unified`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import h5py
import numpy as np

from ..data.features import PARTICLE_FEATURES
from ..data.format import DataFormatError, inspect_file
from .convert import (
    KINEMATICS,
    SPLITS,
    InputH5,
    PreprocessResult,
    Rows,
    Source,
    require,
    require_finite,
    require_numeric,
    stored_jet,
    unified_rows,
    write_splits,
)

#: JetNet's class letters in its own order (gluon, light quark, top, W, Z).
JET_TYPES: tuple[str, ...] = ("g", "q", "t", "w", "z")
PARTICLE_KEY = "particle_features"
JET_KEY = "jet_features"
#: Columns of ``particle_features`` and of the released ``jet_features``.
PARTICLE_COLUMNS: tuple[str, ...] = ("etarel", "phirel", "ptrel", "mask")
JET_COLUMNS: tuple[str, ...] = ("pt", "eta", "mass", "num_particles")
#: JetNet's split (``JetNet.getData`` defaults).
FRACTIONS = (0.7, 0.15, 0.15)
SPLIT_SEED = 42
NUM_PARTICLES = 30


def file_name(jet_type: str, num_particles: int) -> str:
    """``t.hdf5`` for JetNet30, ``t150.hdf5`` when more than 30 particles are asked (as jetnet does)."""
    return f"{jet_type}{'150' if num_particles > 30 else ''}.hdf5"


def find_files(input: str | os.PathLike, num_particles: int, jet_types: Sequence[str] | None = None) -> dict[str, Path]:
    """The class files present under ``input``, {letter: path} in JetNet's order."""
    path = Path(input)
    require(path.is_dir(), path, "expected the directory holding the JetNet class files (g.hdf5, q.hdf5, ...)")
    wanted = JET_TYPES if jet_types is None else tuple(jet_types)
    unknown = [t for t in wanted if t not in JET_TYPES]
    require(not unknown, path, f"unknown jet type(s) {unknown}; JetNet has {list(JET_TYPES)}")
    found = {t: path / file_name(t, num_particles) for t in JET_TYPES if t in wanted}
    found = {t: p for t, p in found.items() if p.is_file()}
    require(bool(found), path, f"no JetNet class file ({', '.join(file_name(t, num_particles) for t in wanted)})")
    return found


class JetNetFile(InputH5):
    """One class file, opened and checked; :meth:`read` converts blocks of jets."""

    def __init__(self, path: str | os.PathLike, class_index: int | None = None):
        self.class_index = class_index
        super().__init__(path)

    def _check(self) -> None:
        f, path = self.file, self.path
        missing = [k for k in (PARTICLE_KEY, JET_KEY) if k not in f]
        require(not missing, path, f"missing dataset(s) {missing}; a JetNet file has '{PARTICLE_KEY}' and '{JET_KEY}'")
        pf, jf = f[PARTICLE_KEY], f[JET_KEY]
        require(
            pf.ndim == 3 and pf.shape[2] == len(PARTICLE_COLUMNS),
            path,
            f"'{PARTICLE_KEY}' must be (jets, particles, 4) = {list(PARTICLE_COLUMNS)}, got shape {pf.shape}",
        )
        require(
            jf.ndim == 2 and jf.shape[1] in (4, 5),
            path,
            f"'{JET_KEY}' must be (jets, 4) = {list(JET_COLUMNS)} or (jets, 5) with the type first, got {jf.shape}",
        )
        require(
            pf.shape[0] == jf.shape[0], path, f"{pf.shape[0]} jets in '{PARTICLE_KEY}' but {jf.shape[0]} in '{JET_KEY}'"
        )
        require_numeric(path, PARTICLE_KEY, pf.dtype)
        require_numeric(path, JET_KEY, jf.dtype)
        self.num_jets = pf.shape[0]
        self.num_particles = pf.shape[1]
        self.typed = jf.shape[1] == 5
        self.first_type = jf[0, 0] if self.typed and self.num_jets else None

    def raw(self, start: int = 0, stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Jets ``start:stop``, checked: particle features ``(n, P, 4)`` (padding zeroed) and
        the jet features ``(n, 4)`` (pT, η, mass, number of particles; a type column is dropped)."""
        stop = self.num_jets if stop is None else stop
        pf = np.asarray(self.file[PARTICLE_KEY][start:stop], dtype=np.float64)
        jf = np.asarray(self.file[JET_KEY][start:stop], dtype=np.float64)
        require_finite(self.path, rows=start, **{PARTICLE_KEY: pf, JET_KEY: jf})

        def require_jets(ok: np.ndarray, problem: str) -> None:
            if not ok.all():
                raise DataFormatError(f"{self.path}: jet {start + int(np.argmin(ok))}: {problem}")

        if self.typed:
            if self.class_index is not None:
                require_jets(jf[:, 0] == self.first_type, f"'{JET_KEY}' type column mixes classes")
            jf = jf[:, 1:]
        mask = pf[..., 3]
        require_jets(((mask == 0) | (mask == 1)).all(axis=1), "mask column not 0/1")
        real = mask == 1
        require_jets(((pf[..., 2] > 0) | ~real).all(axis=1), "a particle with mask 1 has pT_rel <= 0")
        require_jets(jf[:, 0] > 0, "jet pT <= 0")
        pf[~real] = 0.0
        return pf, jf

    def read(self, start: int, stop: int, keep: np.ndarray, num_particles: int) -> Rows:
        pf, jf = self.raw(start, stop)
        pf, jf = pf[keep], jf[keep]
        data, jet = jetnet_to_unified(pf, jf, num_particles)
        return Rows(data, jet, np.full(len(jet), self.class_index, dtype=np.int32))


def jetnet_to_unified(particles: np.ndarray, jets: np.ndarray, num_particles: int) -> tuple[np.ndarray, np.ndarray]:
    """JetNet arrays → unified ``data`` ``(n, P, 13)`` and ``jet`` ``(n, 4)``.

    ``particles`` (n, k, 4) = η_rel, φ_rel, pT_rel, mask; ``jets`` (n, 4) = pT, η, mass, count.
    """
    real = particles[..., 3] > 0
    jet_pt, jet_eta, jet_mass = jets[:, 0], jets[:, 1], jets[:, 2]
    pt = np.where(real, particles[..., 2] * jet_pt[:, None], 0.0)
    eta = np.where(real, particles[..., 0] + jet_eta[:, None], 0.0)
    phi = np.where(real, particles[..., 1], 0.0)
    energy = pt * np.cosh(eta)  # massless constituents
    jet = stored_jet(jet_pt, jet_eta, np.zeros_like(jet_pt), mass=jet_mass)
    return unified_rows(pt, eta, phi, energy, num_particles, jet=jet)


def unified_to_jetnet(data: np.ndarray, jet: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unified (physical, not normalised) ``data`` (n, P, F ≥ 3) and ``jet`` (n, 4) → JetNet
    ``particle_features`` (n, P, 4) = η_rel, φ_rel, pT_rel, mask and ``jet_features`` (n, 4).

    A particle is real when its feature row is not all zero (the unified convention) and its
    pT_rel = 1 − exp(log(1 − pT/pT_jet)) > 0, the third feature the generator diffuses
    (``ModelConfig.num_diffusion`` = 3 samples Δη, Δφ and this one); the jet's particle count
    is the number of real particles.
    """
    data = np.asarray(data, dtype=np.float64)
    jet = np.asarray(jet, dtype=np.float64)
    real = np.any(data != 0, axis=-1)
    out = np.zeros(data.shape[:2] + (4,), dtype=np.float64)
    out[..., 0] = data[..., 0]
    out[..., 1] = data[..., 1]
    out[..., 2] = -np.expm1(data[..., PARTICLE_FEATURES.index("log_one_minus_pt_frac")])
    out[..., 3] = 1.0
    # a generated log(1 − pT/pT_jet) ≥ 0 means pT_rel ≤ 0: no momentum, so not a particle (the
    # authors clip it to pT_rel = 0 and keep it; JetNet's layout, and read_jetnet, need pT_rel > 0)
    real &= out[..., 2] > 0
    out[~real] = 0.0
    jets = np.stack([jet[:, 0], jet[:, 1], jet[:, 2], real.sum(1)], axis=-1)
    return out.astype(np.float32), jets.astype(np.float32)


def write_jetnet(path: str | os.PathLike, particles: np.ndarray, jets: np.ndarray) -> Path:
    """Write one class file in the released layout (float32), atomically (``.tmp`` then rename)."""
    path = Path(path)
    if particles.ndim != 3 or particles.shape[2] != 4 or jets.shape != (len(particles), 4):
        raise ValueError(f"expected particles (n, P, 4) and jets (n, 4), got {particles.shape} and {jets.shape}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with h5py.File(tmp, "w") as f:
            f.create_dataset(PARTICLE_KEY, data=np.asarray(particles, dtype=np.float32), compression="gzip")
            f.create_dataset(JET_KEY, data=np.asarray(jets, dtype=np.float32))
            f.attrs["particle_features"] = list(PARTICLE_COLUMNS)
            f.attrs["jet_features"] = list(JET_COLUMNS)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def read_jetnet(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """A whole class file, checked: ``(particles (n, P, 4), jets (n, 4))`` as float32."""
    f = JetNetFile(path)
    try:
        pf, jf = f.raw()
    finally:
        f.close()
    return pf.astype(np.float32), jf.astype(np.float32)


def jetnet_assignment(
    sizes: Sequence[int], fractions: Sequence[float] = FRACTIONS, seed: int = SPLIT_SEED
) -> np.ndarray:
    """Split id (0 train, 1 valid, 2 test) of every jet of the concatenated class files, as
    ``JetNet.getData`` splits them (legacy ``numpy.random.seed(seed)`` permutation, cuts at
    ``int(cumsum(fractions) * N)``)."""
    n = int(sum(sizes))
    perm = np.random.RandomState(seed).permutation(n)
    cuts = (np.cumsum(np.insert(np.asarray(fractions, dtype=np.float64), 0, 0.0)) * n).astype(int)
    assign = np.full(n, -1, dtype=np.int8)
    for split in range(len(SPLITS)):
        assign[perm[cuts[split] : cuts[split + 1]]] = split
    return assign


def preprocess(
    input: str | os.PathLike,
    outdir: str | os.PathLike,
    *,
    num_particles: int = NUM_PARTICLES,
    jet_types: Sequence[str] | None = None,
    max_jets: int | None = None,
    seed: int = 0,
    split_seed: int = SPLIT_SEED,
    progress: bool = True,
) -> PreprocessResult:
    """Convert the JetNet class files under ``input`` into ``outdir/{train,val,test}.h5``.

    ``max_jets`` keeps the first jets of each class file (before the split); ``seed`` only
    shuffles the order inside the output files, ``split_seed`` is JetNet's split seed.
    """
    paths = find_files(input, num_particles, jet_types)
    classes = tuple(paths)
    files: list[JetNetFile] = []
    try:
        for i, path in enumerate(paths.values()):
            files.append(JetNetFile(path, class_index=i))
        sizes = [f.num_jets if max_jets is None else min(f.num_jets, max_jets) for f in files]
        assign = jetnet_assignment(sizes, seed=split_seed)
        sources, offset = [], 0
        for f, n in zip(files, sizes):
            sources.append(
                Source(
                    str(f.path), assign[offset : offset + n], lambda a, b, keep, f=f: f.read(a, b, keep, num_particles)
                )
            )
            offset += n
        return write_splits(
            sources,
            outdir,
            classes,
            num_particles,
            seed=seed,
            progress=progress,
            desc="jetnet",
            present_features=KINEMATICS,
        )
    finally:
        for f in files:
            f.close()


def read_unified(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    """``(data, jet, pid, classes)`` of a whole unified file (fine for JetNet-sized splits)."""
    info = inspect_file(path)
    with h5py.File(path, "r") as f:
        return f["data"][()], f["jet"][()], f["pid"][()], info.classes


def export_unified(
    paths: Sequence[str | os.PathLike],
    outdir: str | os.PathLike,
    class_map: Mapping[str, str],
    num_particles: int = NUM_PARTICLES,
) -> dict[str, Path]:
    """Write unified files' jets as JetNet class files (e.g. the embedded Pythia jets).

    ``class_map`` maps a unified class name to a JetNet letter (``{"top": "t", "wqq": "w"}``);
    other classes are left out. The ``num_particles`` hardest particles are kept; pT_rel is
    relative to the stored jet and ``num_particles`` (the jet column) is the jet's full particle
    count before the cut, as in the released files.
    """
    bad = {k: v for k, v in class_map.items() if v not in JET_TYPES}
    if bad:
        raise ValueError(f"class_map targets {bad} are not JetNet types {list(JET_TYPES)}")
    collected: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {t: [] for t in class_map.values()}
    for path in paths:
        data, jet, pid, classes = read_unified(path)
        for name, letter in class_map.items():
            if name not in classes:
                raise DataFormatError(f"{path}: no class {name!r} (classes: {list(classes)})")
            sel = pid == classes.index(name)
            particles, jets = unified_to_jetnet(data[sel][:, :num_particles], jet[sel])
            jets[:, 3] = jet[sel][:, 3]
            collected[letter].append((particles, jets))
    out = {}
    for letter, parts in collected.items():
        particles = np.concatenate([p for p, _ in parts])
        jets = np.concatenate([j for _, j in parts])
        out[letter] = write_jetnet(Path(outdir) / file_name(letter, num_particles), particles, jets)
    return out
