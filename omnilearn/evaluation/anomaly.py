"""Anomaly-detection metrics (paper Sec. VIII): the significance improvement characteristic
SIC = εS / √εB and its maximum, and the median / 16–84 % band over seeds."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import roc_curve

#: Background efficiencies at or below this are left out of the maximum (a handful of test
#: background events would otherwise make the SIC arbitrarily large).
MIN_BACKGROUND_EFFICIENCY = 1e-4


def sic_curve(is_signal: np.ndarray, scores: np.ndarray, weights: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """``tpr`` (εS), ``fpr`` (εB) and ``sic`` at every threshold of the ROC (SIC = 0 where εB = 0)."""
    is_signal = np.asarray(is_signal).astype(bool)
    if is_signal.all() or not is_signal.any():
        raise ValueError("the SIC needs both signal and background events")
    fpr, tpr, _ = roc_curve(is_signal, np.asarray(scores, dtype=np.float64), sample_weight=weights)
    sic = np.divide(tpr, np.sqrt(fpr), out=np.zeros_like(tpr), where=fpr > 0)
    return {"tpr": tpr, "fpr": fpr, "sic": sic}


def max_sic(
    is_signal: np.ndarray,
    scores: np.ndarray,
    weights: np.ndarray | None = None,
    min_background_efficiency: float = MIN_BACKGROUND_EFFICIENCY,
) -> float:
    """max SIC over the ROC points with εB > ``min_background_efficiency``."""
    curve = sic_curve(is_signal, scores, weights)
    ok = curve["fpr"] > min_background_efficiency
    return float(curve["sic"][ok].max()) if ok.any() else 0.0


def band(values: Sequence[float]) -> dict[str, float]:
    """Median and the 16 % / 84 % quantiles of per-seed results."""
    v = np.asarray(values, dtype=np.float64)
    return {
        "median": float(np.median(v)),
        "low": float(np.quantile(v, 0.16)),
        "high": float(np.quantile(v, 0.84)),
        "n": int(len(v)),
    }
