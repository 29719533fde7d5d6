"""The paper's particle input features (Table X of arXiv:2404.16091), computed in one place.

Every preprocessor (Pythia, JetClass, top, qg, CMS, ATLAS, H1, JetNet, ...) turns its own
constituent representation into four-momenta and calls :func:`particle_features`, so the
feature definition is data declared once, not code repeated per dataset.
"""

from __future__ import annotations

import numpy as np

#: Column order of the unified ``data`` array.
PARTICLE_FEATURES: tuple[str, ...] = (
    "delta_eta",
    "delta_phi",
    "log_pt",
    "log_e",
    "log_one_minus_pt_frac",
    "log_one_minus_e_frac",
    "delta_r",
    "charge",
    "is_electron",
    "is_muon",
    "is_photon",
    "is_charged_hadron",
    "is_neutral_hadron",
)
#: The authors' particle-feature order (their code and released checkpoint), in our names.
UPSTREAM_FEATURE_ORDER: tuple[str, ...] = (
    "delta_eta",
    "delta_phi",
    "log_one_minus_pt_frac",
    "log_pt",
    "log_one_minus_e_frac",
    "log_e",
    "delta_r",
    "charge",
    "is_charged_hadron",
    "is_neutral_hadron",
    "is_photon",
    "is_electron",
    "is_muon",
)
#: Column order of the unified ``jet`` array.
JET_FEATURES: tuple[str, ...] = ("pt", "eta", "mass", "multiplicity")

NUM_PARTICLE_FEATURES = len(PARTICLE_FEATURES)
#: The first columns are kinematics every dataset has; the rest (charge, PID flags) are what
#: the feature drop removes and what datasets without PID leave at zero.
NUM_KINEMATIC_FEATURES = 7
#: Only the first 6 columns are standardised. ΔR, the charge and the PID flags keep their raw
#: values (as in the authors' code): a shifted zero would make "PID absent" (raw zeros) and
#: "PID dropped" (zeros after normalisation) two different inputs.
NUM_STANDARDISED_FEATURES = 6

#: Floor of the argument of log(1 - x/x_jet): a jet whose leading constituent carries all
#: of its pT (x = x_jet) would give log(0).
LOG_FLOOR = 1e-6

_NEUTRINOS = (12, 14, 16)


def wrap_phi(dphi: np.ndarray) -> np.ndarray:
    """Map an azimuthal difference into [-pi, pi)."""
    return (dphi + np.pi) % (2 * np.pi) - np.pi


def particle_features(
    pt: np.ndarray,
    eta: np.ndarray,
    phi: np.ndarray,
    energy: np.ndarray,
    jet_pt: np.ndarray,
    jet_eta: np.ndarray,
    jet_phi: np.ndarray,
    jet_energy: np.ndarray,
    charge: np.ndarray | None = None,
    pdg_id: np.ndarray | None = None,
) -> np.ndarray:
    """Table X particle features.

    Args:
        pt, eta, phi, energy: constituents, shape ``(jets, particles)``; padded entries have
            ``pt == 0`` and give an all-zero feature row.
        jet_pt, jet_eta, jet_phi, jet_energy: the jet axis and energy, shape ``(jets,)``.
        charge: electric charge per constituent, or None when the dataset has no PID
            (then charge and every PID flag stay 0, as the paper's feature drop expects).
        pdg_id: PDG code per constituent (sign ignored); required when ``charge`` is given.

    Returns:
        ``(jets, particles, 13)`` float32 in the order of :data:`PARTICLE_FEATURES`.
    """
    pt = np.asarray(pt, dtype=np.float64)
    shape = pt.shape
    if pt.ndim != 2:
        raise ValueError(f"constituent arrays must be (jets, particles), got shape {shape}")
    real = pt > 0
    safe_pt = np.where(real, pt, 1.0)
    safe_e = np.where(real, np.asarray(energy, dtype=np.float64), 1.0)
    jet_pt = np.asarray(jet_pt, dtype=np.float64)[:, None]
    jet_e = np.asarray(jet_energy, dtype=np.float64)[:, None]

    deta = np.asarray(eta, dtype=np.float64) - np.asarray(jet_eta, dtype=np.float64)[:, None]
    dphi = wrap_phi(np.asarray(phi, dtype=np.float64) - np.asarray(jet_phi, dtype=np.float64)[:, None])
    out = np.zeros(shape + (NUM_PARTICLE_FEATURES,), dtype=np.float64)
    out[..., 0] = deta
    out[..., 1] = dphi
    out[..., 2] = np.log(safe_pt)
    out[..., 3] = np.log(safe_e)
    out[..., 4] = np.log(np.clip(1.0 - safe_pt / jet_pt, LOG_FLOOR, None))
    out[..., 5] = np.log(np.clip(1.0 - safe_e / jet_e, LOG_FLOOR, None))
    out[..., 6] = np.hypot(deta, dphi)

    if charge is not None:
        if pdg_id is None:
            raise ValueError("pdg_id is required when charge is given")
        q = np.asarray(charge, dtype=np.float64)
        pid = np.abs(np.asarray(pdg_id))
        electron = pid == 11
        muon = pid == 13
        photon = pid == 22
        lepton = electron | muon
        out[..., 7] = q
        out[..., 8] = electron
        out[..., 9] = muon
        out[..., 10] = photon
        out[..., 11] = (q != 0) & ~lepton
        out[..., 12] = (q == 0) & ~photon & ~np.isin(pid, _NEUTRINOS)
    out[~real] = 0.0
    return out.astype(np.float32)


def jet_kinematics(pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, energy: np.ndarray) -> dict[str, np.ndarray]:
    """Jet four-vector as the sum of its constituents (padded entries have ``pt == 0``).

    Returns a dict of ``(jets,)`` arrays: ``pt``, ``eta``, ``phi``, ``energy``, ``mass``,
    ``multiplicity``.
    """
    pt = np.asarray(pt, dtype=np.float64)
    real = pt > 0
    px = np.where(real, pt * np.cos(phi), 0.0).sum(-1)
    py = np.where(real, pt * np.sin(phi), 0.0).sum(-1)
    pz = np.where(real, pt * np.sinh(eta), 0.0).sum(-1)
    e = np.where(real, energy, 0.0).sum(-1)
    jpt = np.hypot(px, py)
    jeta = np.arcsinh(np.divide(pz, jpt, out=np.zeros_like(pz), where=jpt > 0))
    mass = np.sqrt(np.clip(e**2 - px**2 - py**2 - pz**2, 0.0, None))
    return {
        "pt": jpt,
        "eta": jeta,
        "phi": np.arctan2(py, px),
        "energy": e,
        "mass": mass,
        "multiplicity": real.sum(-1).astype(np.float64),
    }


def jet_array(kin: dict[str, np.ndarray]) -> np.ndarray:
    """The unified ``(jets, 4)`` jet array (pT, eta, mass, multiplicity) from :func:`jet_kinematics`."""
    return np.stack([kin[name] for name in JET_FEATURES], axis=-1).astype(np.float32)


def from_pxpypze(px, py, pz, e) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cartesian four-momenta → (pt, eta, phi, E); entries with zero pT stay zero."""
    px, py, pz, e = (np.asarray(a, dtype=np.float64) for a in (px, py, pz, e))
    pt = np.hypot(px, py)
    real = pt > 0
    eta = np.where(real, np.arcsinh(np.divide(pz, pt, out=np.zeros_like(pz), where=real)), 0.0)
    phi = np.where(real, np.arctan2(py, px), 0.0)
    return pt, eta, phi, np.where(real, e, 0.0)


def diffused_columns(num_feat: int, num_diffusion: int) -> list[int]:
    """Our columns (sorted) of the first ``num_diffusion`` features in the authors' order
    (:data:`UPSTREAM_FEATURE_ORDER`: Δη, Δφ, log(1 − pT/pT,jet), log pT, …) among the first
    ``num_feat``: the features the generator diffuses."""
    ours = [PARTICLE_FEATURES.index(name) for name in UPSTREAM_FEATURE_ORDER]
    return sorted([c for c in ours if c < num_feat][:num_diffusion])
