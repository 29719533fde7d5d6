"""The unified **event** format of the anomaly-detection task (two jets per event), the LHCO
signal-region / sideband definitions and the m_jj scaling.

One file holds one split:

===========  ====================  =========================================================
key          shape, dtype          content
===========  ====================  =========================================================
``data``     (N, 2, P, F) float32  particle features of each jet (Table X,
                                   :data:`~omnilearn.data.features.PARTICLE_FEATURES`) relative
                                   to that jet, hardest first, zero-padded to P
``jet``      (N, 2, 5) float32     jet pT, eta, phi, mass [GeV], particle multiplicity
                                   (:data:`EVENT_JET_FEATURES`); leading-pT jet first
``mjj``      (N,) float32          invariant mass of the two jets [GeV]
``label``    (N,) int32            0 background, 1 signal (:data:`EVENT_CLASSES`)
===========  ====================  =========================================================

File attributes: ``format`` = :data:`FORMAT`, ``version``, ``classes``, ``particle_features``,
``jet_features``, ``present_features`` (the LHCO release has no particle type: only the
kinematic columns are filled, the charge and PID columns are zero, as the fixed PID
normalisation of the unified format expects).

The per-jet models see the events as ``2N`` jets: :func:`events_to_jets` and
:func:`jets_to_events` reshape both ways (jet ``2i`` is event ``i``'s leading jet), and
:func:`unified_jet` gives the per-jet ``(pT, eta, mass, multiplicity)`` array of the unified
jet format. Files are written to ``<name>.tmp`` and renamed when complete.
"""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np

from .features import JET_FEATURES, NUM_PARTICLE_FEATURES, PARTICLE_FEATURES
from .format import AtomicH5Writer, DataFormatError, Normalization, RunningStats

FORMAT = "omnilearn-events"
VERSION = 1
EVENT_JET_FEATURES: tuple[str, ...] = ("pt", "eta", "phi", "mass", "multiplicity")
EVENT_CLASSES: tuple[str, ...] = ("background", "signal")
JETS_PER_EVENT = 2
#: The paper keeps every particle of the two jets: at most 279 per jet in the LHCO R&D set.
NUM_PARTICLES = 279

#: LHCO signal region and sidebands in m_jj [GeV] (paper Sec. VIII; the R&D literature's).
SIGNAL_REGION: tuple[float, float] = (3300.0, 3700.0)
SIDEBANDS: tuple[tuple[float, float], ...] = ((2300.0, 3300.0), (3700.0, 5000.0))
#: Range that :func:`scale_mjj` maps onto [-1, 1] (the outer edges of the sidebands).
MJJ_RANGE: tuple[float, float] = (SIDEBANDS[0][0], SIDEBANDS[-1][1])

_UNIFIED_COLUMNS = [EVENT_JET_FEATURES.index(name) for name in JET_FEATURES]


def signal_region_mask(mjj: np.ndarray, region: tuple[float, float] = SIGNAL_REGION) -> np.ndarray:
    """True where ``lo < m_jj < hi`` (open interval, as the paper writes it)."""
    mjj = np.asarray(mjj)
    return (mjj > region[0]) & (mjj < region[1])


def sideband_mask(mjj: np.ndarray, sidebands: tuple[tuple[float, float], ...] = SIDEBANDS) -> np.ndarray:
    """True inside any sideband; an edge shared with the signal region belongs to the sideband,
    so no event is in both and none between them is lost (2300 ≤ m < 3300 or 3700 < m ≤ 5000 by default)."""
    mjj = np.asarray(mjj)
    out = np.zeros(mjj.shape, dtype=bool)
    for lo, hi in sidebands:
        out |= (mjj >= lo) & (mjj <= hi)
    return out & ~signal_region_mask(mjj)


def scale_mjj(mjj: np.ndarray, mjj_range: tuple[float, float] = MJJ_RANGE) -> np.ndarray:
    """The generator's and classifier's m_jj condition: log m_jj mapped linearly so that the
    outer sideband edges go to -1 and +1 (the paper is silent; a fixed map, not one fitted to the
    data, so the sideband-trained generator and the signal-region sampling share it exactly).
    Values outside the range extrapolate linearly."""
    lo, hi = np.log(mjj_range[0]), np.log(mjj_range[1])
    mjj = np.asarray(mjj, dtype=np.float64)
    if np.any(mjj <= 0):
        raise ValueError("m_jj must be positive to be scaled")
    return (2.0 * (np.log(mjj) - lo) / (hi - lo) - 1.0).astype(np.float32)


def unscale_mjj(scaled: np.ndarray, mjj_range: tuple[float, float] = MJJ_RANGE) -> np.ndarray:
    """Inverse of :func:`scale_mjj`."""
    lo, hi = np.log(mjj_range[0]), np.log(mjj_range[1])
    return np.exp((np.asarray(scaled, dtype=np.float64) + 1.0) * 0.5 * (hi - lo) + lo)


def events_to_jets(data: np.ndarray, jet: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(N, 2, P, F)``, ``(N, 2, J)`` → ``(2N, P, F)``, ``(2N, J)``: jet ``2i + k`` is jet k of event i."""
    data, jet = np.asarray(data), np.asarray(jet)
    if data.ndim != 4 or data.shape[1] != JETS_PER_EVENT or jet.shape[:2] != data.shape[:2]:
        raise ValueError(f"expected (N, 2, P, F) and (N, 2, J) arrays, got {data.shape} and {jet.shape}")
    return data.reshape((-1,) + data.shape[2:]), jet.reshape(-1, jet.shape[-1])


def jets_to_events(data: np.ndarray, jet: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`events_to_jets`."""
    data, jet = np.asarray(data), np.asarray(jet)
    if len(data) % JETS_PER_EVENT or len(jet) != len(data):
        raise ValueError(f"expected 2N jets in both arrays, got {len(data)} and {len(jet)}")
    return (
        data.reshape((-1, JETS_PER_EVENT) + data.shape[1:]),
        jet.reshape(-1, JETS_PER_EVENT, jet.shape[-1]),
    )


def unified_jet(jet: np.ndarray) -> np.ndarray:
    """Per-jet ``(…, 5)`` event jets → the unified ``(…, 4)`` jet array (pT, eta, mass, multiplicity)."""
    return np.asarray(jet)[..., _UNIFIED_COLUMNS]


def dijet_mass(jet: np.ndarray) -> np.ndarray:
    """m_jj ``(N,)`` of ``(N, 2, 5)`` event jets (pT, eta, phi, mass, N)."""
    jet = np.asarray(jet, dtype=np.float64)
    pt, eta, phi, m = jet[..., 0], jet[..., 1], jet[..., 2], jet[..., 3]
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    e = np.sqrt(px**2 + py**2 + pz**2 + m**2)
    s = e.sum(1) ** 2 - px.sum(1) ** 2 - py.sum(1) ** 2 - pz.sum(1) ** 2
    return np.sqrt(np.clip(s, 0.0, None))


class EventWriter(AtomicH5Writer):
    """Append events block by block to an event file (atomic: :class:`AtomicH5Writer`)."""

    def __init__(self, path: str | os.PathLike, num_particles: int = NUM_PARTICLES, present_features=None):
        self.num_particles = num_particles
        super().__init__(path)
        nf, p, h = NUM_PARTICLE_FEATURES, num_particles, self._file
        self.sets = {
            "data": h.create_dataset(
                "data", (0, 2, p, nf), maxshape=(None, 2, p, nf), dtype="f4", chunks=(16, 2, p, nf), compression="lzf"
            ),
            "jet": h.create_dataset("jet", (0, 2, 5), maxshape=(None, 2, 5), dtype="f4", chunks=(1024, 2, 5)),
            "mjj": h.create_dataset("mjj", (0,), maxshape=(None,), dtype="f4", chunks=(4096,)),
            "label": h.create_dataset("label", (0,), maxshape=(None,), dtype="i4", chunks=(4096,)),
        }
        attrs = self._file.attrs
        attrs["format"] = FORMAT
        attrs["version"] = VERSION
        attrs["classes"] = list(EVENT_CLASSES)
        attrs["particle_features"] = list(PARTICLE_FEATURES)
        attrs["jet_features"] = list(EVENT_JET_FEATURES)
        attrs["present_features"] = list(present_features if present_features is not None else PARTICLE_FEATURES)

    def append(self, data: np.ndarray, jet: np.ndarray, mjj: np.ndarray, label: np.ndarray) -> None:
        n = len(label)
        if not (len(data) == len(jet) == len(mjj) == n):
            raise ValueError("data, jet, mjj and label must have the same length")
        if n == 0:
            return
        for key, arr in (("data", data), ("jet", jet), ("mjj", mjj), ("label", label)):
            ds = self.sets[key]
            ds.resize(self.count + n, axis=0)
            ds[self.count :] = arr
        self.count += n


def read_events(path: str | os.PathLike, start: int = 0, stop: int | None = None) -> dict[str, np.ndarray]:
    """Events ``start:stop`` of an event file as a dict of ``data``, ``jet``, ``mjj``, ``label``;
    a file that is not one raises :class:`DataFormatError` naming it."""
    path = Path(path)
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise DataFormatError(f"{path}: not a readable HDF5 file ({err})") from None
    with f:
        if f.attrs.get("format") != FORMAT:
            raise DataFormatError(f"{path}: not an OmniLearn event file (attribute format={f.attrs.get('format')!r})")
        missing = [k for k in ("data", "jet", "mjj", "label") if k not in f]
        if missing:
            raise DataFormatError(f"{path}: missing dataset(s) {missing}")
        return {k: f[k][start:stop] for k in ("data", "jet", "mjj", "label")}


def count_events(path: str | os.PathLike) -> int:
    with h5py.File(path, "r") as f:
        return int(f["label"].shape[0])


#: Particles at or below this pT [GeV] are left out of the classifier inputs (paper Sec. VIII:
#: "to reduce the impact of low energy particles driving the classifier performance").
MIN_PARTICLE_PT = 1.0


def event_normalization(events: dict[str, np.ndarray]) -> Normalization:
    """Particle and (unified) jet statistics of a set of events, as :class:`RunningStats` gives
    for jets: what a model trained from scratch on them uses."""
    stats = RunningStats(NUM_PARTICLE_FEATURES)
    data, jet = events_to_jets(events["data"], events["jet"])
    stats.update(data, unified_jet(jet))
    return stats.result()


def model_inputs(
    events: dict[str, np.ndarray], normalization: Normalization, min_particle_pt: float = MIN_PARTICLE_PT
) -> dict[str, np.ndarray]:
    """The two-jet model's inputs of ``events`` (a dict as :func:`read_events` returns):
    ``particles`` (N,2,P,F) normalised with zero padding, ``mask`` (N,2,P), ``jet`` (N,2,4)
    normalised unified jets and ``mjj`` (N,1) scaled. Particles with pT ≤ ``min_particle_pt``
    are masked out (the models take a mask with holes, so the order does not matter)."""
    data = np.asarray(events["data"], dtype=np.float32)
    real = np.any(data != 0, axis=-1)
    if min_particle_pt > 0:
        real &= data[..., 2] > np.log(min_particle_pt)
    x = (data - normalization.particle_mean) / normalization.particle_std
    x = np.where(real[..., None], x, 0.0).astype(np.float32)
    jet = (unified_jet(events["jet"]) - normalization.jet_mean) / normalization.jet_std
    return {
        "particles": x,
        "mask": real.astype(np.float32),
        "jet": jet.astype(np.float32),
        "mjj": scale_mjj(events["mjj"])[:, None],
    }


def rebuild_features(diffused: np.ndarray, mask: np.ndarray, jet: np.ndarray) -> np.ndarray:
    """All particle features ``(M, P, F)`` from generated ones, for massless particles (the LHCO
    release's): Δη, Δφ and log(1 − pT/pT,jet) (what the generator diffuses) with the jet's
    ``(M, 5)`` (pT, η, φ, mass, N) give pT, η, φ and E = pT cosh η, from which
    :func:`~omnilearn.data.features.particle_features` recomputes every column relative to the
    jet. The jet energy is that of (pT, η, mass). Rows outside ``mask`` are zero."""
    from .features import particle_features

    d = np.asarray(diffused, dtype=np.float64)
    jet = np.asarray(jet, dtype=np.float64)
    real = np.asarray(mask) > 0
    col = {name: PARTICLE_FEATURES.index(name) for name in ("delta_eta", "delta_phi", "log_one_minus_pt_frac")}
    jpt, jeta, jphi, jm = jet[:, 0], jet[:, 1], jet[:, 2], jet[:, 3]
    frac = np.clip(1.0 - np.exp(d[..., col["log_one_minus_pt_frac"]]), 1e-6, 1.0)
    pt = np.where(real, frac * jpt[:, None], 0.0)
    eta = jeta[:, None] + d[..., col["delta_eta"]]
    phi = jphi[:, None] + d[..., col["delta_phi"]]
    jet_e = np.sqrt((jpt * np.cosh(jeta)) ** 2 + jm**2)
    return particle_features(pt, eta, phi, pt * np.cosh(eta), jpt, jeta, jphi, jet_e)


def sample_mjj(mjj: np.ndarray, num: int, rng: np.random.Generator, region=SIGNAL_REGION) -> np.ndarray:
    """``num`` m_jj values from a density fitted to the signal-region values ``mjj``: a Gaussian
    kernel density estimate (Scott's bandwidth) reflected at the region's edges, so every value
    lies inside it. The paper only says the values follow the signal-region data."""
    m = np.asarray(mjj, dtype=np.float64)
    m = m[signal_region_mask(m, region)]
    if len(m) < 2:
        raise ValueError("need at least 2 signal-region m_jj values to fit their density")
    h = m.std() * len(m) ** (-1 / 5)
    x = rng.choice(m, num) + h * rng.standard_normal(num)
    lo, hi = region
    for _ in range(10):  # reflect until inside (once suffices unless h is comparable to the width)
        x = np.where(x < lo, 2 * lo - x, x)
        x = np.where(x > hi, 2 * hi - x, x)
    return np.clip(x, np.nextafter(lo, hi), np.nextafter(hi, lo))
