"""Generated vs true distributions with ratio panels (JetNet features, jet mass, multiplicity)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..evaluation.generation import CLASS_NAMES, jet_mass  # noqa: E402

#: (label, function of the particle array → values, bins); particle-level ones use real particles.
OBSERVABLES = (
    (r"particle $\eta_\mathrm{rel}$", lambda p, m: p[..., 0][m], np.linspace(-0.8, 0.8, 41)),
    (r"particle $\phi_\mathrm{rel}$", lambda p, m: p[..., 1][m], np.linspace(-0.8, 0.8, 41)),
    (r"particle $p_\mathrm{T}^\mathrm{rel}$", lambda p, m: p[..., 2][m], np.logspace(-4, 0, 41)),
    (r"jet mass / $p_\mathrm{T}$ (from particles)", lambda p, m: jet_mass(p), np.linspace(0, 0.3, 31)),
    ("particle multiplicity", lambda p, m: m.sum(1), None),
)


def _hist(values, bins):
    counts, _ = np.histogram(values, bins=bins)
    width = np.diff(bins)
    total = max(counts.sum(), 1)
    return counts / total / width, np.sqrt(counts) / total / width


def plot_distributions(truth: Mapping[str, np.ndarray], generated: Mapping[str, Mapping[str, np.ndarray]],
                       path: str | os.PathLike, title: str = "") -> Path:
    """One row per jet class, one column per observable, each with a generated/true ratio panel.

    ``truth``: {jet type: particles (N, P, ≥3)}; ``generated``: {run label: {jet type: particles}}.
    """
    types = list(truth)
    ncol = len(OBSERVABLES)
    fig = plt.figure(figsize=(4.2 * ncol, 4.4 * len(types)))
    grid = fig.add_gridspec(2 * len(types), ncol, height_ratios=[3, 1] * len(types), hspace=0.08, wspace=0.3)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for r, t in enumerate(types):
        true = truth[t]
        true_mask = np.linalg.norm(true[..., :3], axis=-1) > 0
        for c, (label, fn, bins) in enumerate(OBSERVABLES):
            if bins is None:
                bins = np.arange(0.5, true.shape[1] + 1.5, max(1, true.shape[1] // 30))
            top = fig.add_subplot(grid[2 * r, c])
            bottom = fig.add_subplot(grid[2 * r + 1, c], sharex=top)
            ref, ref_err = _hist(fn(true, true_mask), bins)
            centers = 0.5 * (bins[1:] + bins[:-1])
            top.stairs(ref, bins, fill=True, alpha=0.3, color="gray", label="truth")
            for k, (run, samples) in enumerate(generated.items()):
                if t not in samples:
                    continue
                gen = samples[t]
                h, err = _hist(fn(gen, np.linalg.norm(gen[..., :3], axis=-1) > 0), bins)
                color = colors[k % len(colors)]
                top.stairs(h, bins, color=color, lw=1.5, label=run)
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratio = np.where(ref > 0, h / ref, np.nan)
                    ratio_err = np.where(ref > 0, np.hypot(err / np.where(ref > 0, ref, 1), ref_err * h / np.where(ref > 0, ref, 1) ** 2), np.nan)
                bottom.errorbar(centers, ratio, yerr=ratio_err, fmt=".", color=color, ms=3, lw=0.8)
            bottom.axhline(1.0, color="gray", lw=0.8)
            bottom.set_ylim(0.5, 1.5)
            if c == 2:
                top.set_xscale("log")
            top.tick_params(labelbottom=False)
            bottom.set_xlabel(label)
            if c == 0:
                top.set_ylabel(f"{CLASS_NAMES.get(t, t)}\nnormalised")
                bottom.set_ylabel("gen / truth")
            if r == 0 and c == 0:
                top.legend(fontsize=8)
    if title:
        fig.suptitle(title, y=0.995)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90, bbox_inches="tight")
    plt.close(fig)
    return path
