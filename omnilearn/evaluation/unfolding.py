"""Unfolding metrics (paper Sec. VII): weighted histograms of the six observables and the
triangular discriminator between a (re)weighted sample and the "data" truth, with a
statistical ± from toys.

Δ(p, q) = ½ Σ_bins (p_i − q_i)² / (p_i + q_i) for histograms normalised to unit sum, quoted
× 10³ as in the OmniFold paper (arXiv:1911.09107) and Tables VIII–IX. The ± is the standard
deviation of Δ over ``toys`` (100, as the paper) variations of the prediction's histogram,
each bin drawn from a Gaussian of its statistical error √Σw².
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..data.paired import OBSERVABLES

#: Histogram range and bin count per observable: those of the OmniFold paper's figures as we read
#: them (50 bins; the multiplicity in unit bins).
BINNING: dict[str, tuple[float, float, int]] = {
    "mass": (0.0, 75.0, 50),
    "multiplicity": (0.0, 80.0, 80),
    "width": (0.0, 0.6, 50),
    "log_rho": (-14.0, -2.0, 50),
    "tau21": (0.0, 1.2, 50),
    "z_g": (0.0, 0.5, 50),
}
LABELS: dict[str, str] = {
    "mass": "jet mass [GeV]",
    "multiplicity": "constituent multiplicity N",
    "width": "jet width",
    "log_rho": r"$\ln\rho = 2\ln(m_{SD}/p_T)$",
    "tau21": r"$\tau_{21}$",
    "z_g": r"$z_g$",
}
SCALE = 1e3


def edges(observable: str) -> np.ndarray:
    lo, hi, n = BINNING[observable]
    return np.linspace(lo, hi, n + 1)


def histogram(values: np.ndarray, weights: np.ndarray | None, bins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit-sum histogram and its statistical error per bin (√Σw², scaled alike); values outside
    the range go to the first or last bin, so every event counts."""
    values = np.clip(np.asarray(values, dtype=np.float64), bins[0], np.nextafter(bins[-1], bins[0]))
    weights = np.ones(len(values)) if weights is None else np.asarray(weights, dtype=np.float64)
    counts, _ = np.histogram(values, bins, weights=weights)
    sq, _ = np.histogram(values, bins, weights=weights**2)
    total = counts.sum()
    if not total > 0:
        raise ValueError("cannot normalise a histogram with no weight")
    return counts / total, np.sqrt(sq) / total


def triangular_discriminator(p: np.ndarray, q: np.ndarray) -> float:
    """½ Σ (p − q)² / (p + q) of two histograms, each normalised to unit sum here."""
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    p, q = p / p.sum(), q / q.sum()
    total = p + q
    nonzero = total > 0
    return float(0.5 * np.sum((p[nonzero] - q[nonzero]) ** 2 / total[nonzero]))


def discriminator_with_toys(
    prediction: np.ndarray, error: np.ndarray, truth: np.ndarray, toys: int = 100, seed: int = 0
) -> tuple[float, float]:
    """Δ × 10³ of ``prediction`` against ``truth`` and its ± (std over ``toys`` Gaussian variations
    of the prediction's bins within ``error``, negative bins set to 0)."""
    rng = np.random.default_rng(seed)
    nominal = triangular_discriminator(prediction, truth)
    varied = np.clip(prediction + error * rng.standard_normal((toys, len(prediction))), 0.0, None)
    values = [triangular_discriminator(v, truth) for v in varied]
    return SCALE * nominal, SCALE * float(np.std(values))


def compare(
    observables: np.ndarray,
    truth: np.ndarray,
    weights: Mapping[str, np.ndarray | None],
    truth_weights: np.ndarray | None = None,
    toys: int = 100,
    seed: int = 0,
) -> dict:
    """Histograms and Δ × 10³ ± toys of every observable.

    Args:
        observables: the MC events' observables ``(N, 6)`` (:data:`~omnilearn.data.paired.OBSERVABLES`).
        truth: the "data" events' observables ``(M, 6)`` at the same level.
        weights: name (e.g. ``mc``, ``omnilearn``, ``scratch``) → per-event weights of the MC
            events (None: unweighted).

    Returns JSON-able ``{"observables": {name: {"edges", "truth", "truth_error", "histograms":
    {weights name: {"values", "errors"}}, "delta": {weights name: [Δ, ±]}}}}``.
    """
    out: dict = {"observables": {}, "scale": SCALE, "toys": toys}
    for k, name in enumerate(OBSERVABLES):
        bins = edges(name)
        t, t_err = histogram(truth[:, k], truth_weights, bins)
        entry = {
            "edges": bins.tolist(),
            "truth": t.tolist(),
            "truth_error": t_err.tolist(),
            "histograms": {},
            "delta": {},
        }
        for label, w in weights.items():
            h, err = histogram(observables[:, k], w, bins)
            entry["histograms"][label] = {"values": h.tolist(), "errors": err.tolist()}
            entry["delta"][label] = list(discriminator_with_toys(h, err, t, toys, seed + k))
        out["observables"][name] = entry
    return out
