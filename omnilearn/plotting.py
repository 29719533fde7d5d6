"""Every figure of the package: ROC curves, loss curves (from result JSONs and training
histories), and generated vs true distributions with ratio panels (JetNet features, jet mass,
multiplicity)."""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker as mticker  # noqa: E402
import numpy as np  # noqa: E402

from .evaluation.generation import CLASS_NAMES, jet_mass  # noqa: E402


def _style() -> None:
    try:
        import mplhep

        plt.style.use(mplhep.style.CMS)
    except ImportError:  # mplhep is an optional extra
        pass


def read_history(path: str | os.PathLike) -> dict[str, list[float]]:
    """A Keras ``CSVLogger`` file as {column: values}; its "NA" (a value missing in that epoch,
    e.g. no validation) and empty cells are NaN, which the plots leave out."""

    def value(cell) -> float:
        return float("nan") if cell in (None, "", "NA") else float(cell)

    with open(path) as f:
        rows = list(csv.DictReader(f))
    return {k: [value(r[k]) for r in rows] for k in rows[0]} if rows else {}


def plot_roc(curves: Mapping[str, dict], path: str | os.PathLike, title: str = "") -> Path:
    """Background rejection (log) vs signal efficiency; ``curves``: label → {tpr, rejection}."""
    _style()
    fig, ax = plt.subplots(figsize=(8, 7))
    for label, c in curves.items():
        ax.plot(c["tpr"], c["rejection"], label=label, lw=2)
    ax.set_yscale("log")
    ax.set_xlabel(r"Signal efficiency $\epsilon_S$")
    ax.set_ylabel(r"Background rejection $1/\epsilon_B$")
    ax.set_xlim(0, 1)
    ax.legend()
    ax.set_title(title, fontsize=14)
    return _save(fig, path)


def plot_losses(
    panels: Mapping[str, Mapping[str, Mapping[str, list[float]]]],
    path: str | os.PathLike,
    keys: tuple[str, ...] = ("loss", "val_loss"),
) -> Path:
    """Loss per epoch, one panel per entry of ``panels`` (title → {run label → history}).

    Solid lines are training, dashed validation; ``keys`` are the history columns drawn.
    """
    _style()
    fig, axes = plt.subplots(1, len(panels), figsize=(8 * len(panels), 7), squeeze=False)
    for ax, (title, histories) in zip(axes[0], panels.items()):
        for r, (label, hist) in enumerate(histories.items()):
            for k, key in enumerate(key for key in keys if key in hist):
                # Several runs: a colour per run; one run: a colour per loss term.
                color = f"C{r}" if len(histories) > 1 else f"C{k}"
                ax.plot(
                    range(1, len(hist[key]) + 1),
                    hist[key],
                    color=color,
                    ls="--" if key.startswith("val_") else "-",
                    marker="o",
                    label=f"{label}: {key}",
                    lw=2,
                )
        ax.set_xlabel("Epoch")
        ax.set_ylabel("Loss")
        ax.legend(fontsize=12)
        ax.set_title(title, fontsize=14)
    return _save(fig, path)


def _save(fig, path, grid: bool = False) -> Path:
    """Write ``fig`` to ``path`` and close it; ``grid``: a panel grid with a suptitle, which
    tight_layout would squeeze, is cropped by bbox_inches instead (at 90 dpi)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if grid:
        fig.savefig(path, dpi=90, bbox_inches="tight")
    else:
        fig.tight_layout()
        fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


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


def plot_distributions(
    truth: Mapping[str, np.ndarray],
    generated: Mapping[str, Mapping[str, np.ndarray]],
    path: str | os.PathLike,
    title: str = "",
) -> Path:
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
                    ratio_err = np.where(
                        ref > 0,
                        np.hypot(err / np.where(ref > 0, ref, 1), ref_err * h / np.where(ref > 0, ref, 1) ** 2),
                        np.nan,
                    )
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
    return _save(fig, path, grid=True)


def plot_max_sic(curves: Mapping[str, Mapping[str, list[float]]], path: str | os.PathLike, title: str = "") -> Path:
    """Max SIC vs injected signal events (paper Figs. 10–11): ``curves``: label → {``n_sig``,
    ``median``, ``low``, ``high``} (the 16–84 % band over seeds is shaded)."""
    _style()
    fig, ax = plt.subplots(figsize=(8, 6))
    for label, c in curves.items():
        line = ax.plot(c["n_sig"], c["median"], marker="o", lw=2, label=label)[0]
        ax.fill_between(c["n_sig"], c["low"], c["high"], color=line.get_color(), alpha=0.2)
    ax.axhline(1.0, color="gray", lw=1, ls="--")
    ax.set_xlabel("injected signal events")
    ax.set_ylabel(r"max SIC ($\epsilon_B > 10^{-4}$)")
    ax.legend()
    ax.set_title(title, fontsize=14)
    return _save(fig, path)


def plot_event_distributions(
    truth: Mapping[str, np.ndarray], generated: Mapping[str, np.ndarray], path: str | os.PathLike, title: str = ""
) -> Path:
    """Generated vs true signal-region background, with ratio panels: ``truth`` and
    ``generated`` map observable name → values (e.g. m_j1, m_j2, multiplicities, m_jj)."""
    _style()
    names = list(truth)
    fig = plt.figure(figsize=(4.2 * len(names), 5))
    grid = fig.add_gridspec(2, len(names), height_ratios=[3, 1], hspace=0.08, wspace=0.3)
    for c, name in enumerate(names):
        both = np.concatenate([truth[name], generated[name]])
        bins = np.linspace(np.quantile(both, 0.005), np.quantile(both, 0.995) + 1e-6, 31)
        top, bottom = fig.add_subplot(grid[0, c]), fig.add_subplot(grid[1, c])
        ref, ref_err = _hist(truth[name], bins)
        gen, gen_err = _hist(generated[name], bins)
        top.stairs(ref, bins, fill=True, alpha=0.3, color="gray", label="true background")
        top.stairs(gen, bins, lw=1.5, label="generated")
        centers = 0.5 * (bins[1:] + bins[:-1])
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(ref > 0, gen / ref, np.nan)
            err = np.where(ref > 0, np.hypot(gen_err / ref, ref_err * gen / ref**2), np.nan)
        bottom.errorbar(centers, ratio, yerr=err, fmt=".", ms=3, lw=0.8)
        bottom.axhline(1.0, color="gray", lw=0.8)
        bottom.set_ylim(0.5, 1.5)
        bottom.set_xlabel(name)
        top.tick_params(labelbottom=False)
        if c == 0:
            top.legend(fontsize=8)
            bottom.set_ylabel("gen / true")
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_unfolding(
    comparison: Mapping, path: str | os.PathLike, title: str = "", labels: Mapping[str, str] | None = None
) -> Path:
    """The six OmniFold observables (paper Figs. 7, 9): the "data" truth, the MC and each
    (re)weighted MC as unit-area histograms, with a ratio-to-truth panel under each.

    ``comparison``: the output of :func:`omnilearn.evaluation.unfolding.compare` (JSON);
    ``labels``: weights name → legend text (Δ × 10³ is appended).
    """
    from .evaluation.unfolding import LABELS

    _style()
    names = list(comparison["observables"])
    ncol = 3
    nrow = (len(names) + ncol - 1) // ncol
    fig = plt.figure(figsize=(5.0 * ncol, 5.6 * nrow))
    # one cell per observable, each a histogram over its ratio panel; space between the rows
    # for the ratio panels' axis labels
    outer = fig.add_gridspec(nrow, ncol, hspace=0.3, wspace=0.3)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, name in enumerate(names):
        entry = comparison["observables"][name]
        r, c = divmod(i, ncol)
        cell = outer[r, c].subgridspec(2, 1, height_ratios=[3, 1], hspace=0.05)
        top = fig.add_subplot(cell[0])
        bottom = fig.add_subplot(cell[1], sharex=top)
        bins = np.asarray(entry["edges"])
        centers = 0.5 * (bins[1:] + bins[:-1])
        truth, truth_err = np.asarray(entry["truth"]), np.asarray(entry["truth_error"])
        top.stairs(truth, bins, fill=True, alpha=0.3, color="gray", label='"data" truth')
        for k, (run, h) in enumerate(entry["histograms"].items()):
            values, errors = np.asarray(h["values"]), np.asarray(h["errors"])
            color = colors[k % len(colors)]
            delta, pm = entry["delta"][run]
            label = f"{(labels or {}).get(run, run)} (Δ={delta:.2g}±{pm:.1g})"
            top.stairs(values, bins, color=color, lw=1.6, ls="--" if run == "mc" else "-", label=label)
            with np.errstate(divide="ignore", invalid="ignore"):
                safe = np.where(truth > 0, truth, 1.0)
                ratio = np.where(truth > 0, values / safe, np.nan)
                ratio_err = np.where(truth > 0, np.hypot(errors / safe, truth_err * values / safe**2), np.nan)
            bottom.errorbar(centers, ratio, yerr=ratio_err, fmt=".", color=color, ms=3, lw=0.8)
        bottom.axhline(1.0, color="gray", lw=0.8)
        bottom.set_ylim(0.5, 1.5)
        top.tick_params(labelbottom=False)
        top.legend(fontsize=7)
        bottom.set_xlabel(LABELS.get(name, name))
        if c == 0:
            top.set_ylabel("fraction of events")
            bottom.set_ylabel("/ truth")
    if title:
        fig.suptitle(title, y=0.995)
    return _save(fig, path, grid=True)


def plot_data_efficiency(
    curves: Mapping[str, Mapping[str, Mapping[str, list]]], path: str | os.PathLike, title: str = ""
) -> Path:
    """A panel per metric vs training-set size (log x): median line and 16–84 % band over seeds.

    ``curves``: run label → {metric: {``size``, ``median``, ``low``, ``high``}}; metric ``auc`` or
    ``rejection@<εS>`` (drawn on a log y axis).
    """
    _style()
    metrics = list(dict.fromkeys(m for c in curves.values() for m in c))
    fig, axes = plt.subplots(1, len(metrics), figsize=(8 * len(metrics), 7), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        drawn = False
        for i, (label, by_metric) in enumerate(curves.items()):
            c = by_metric.get(metric)
            if not c:
                continue
            x, mid, low, high = (np.asarray(c[k], dtype=float) for k in ("size", "median", "low", "high"))
            ok = np.isfinite(mid) & np.isfinite(low) & np.isfinite(high)  # 1/εB = ∞: not drawn
            ax.plot(x[ok], mid[ok], color=f"C{i}", marker="o", lw=2, label=label)
            ax.fill_between(x[ok], low[ok], high[ok], color=f"C{i}", alpha=0.25)
            drawn |= bool(ok.any())
        name, _, eff = metric.partition("@")
        ax.set_ylabel("AUC" if name == "auc" else rf"$1/\epsilon_B$ at $\epsilon_S = {eff}$")
        if drawn:  # a log axis needs data (1/εB may all be ∞ on a tiny test set)
            ax.set_xscale("log")
            ax.set_yscale("linear" if name == "auc" else "log")
            # ticks at the sizes run, plain numbers: log-axis minor labels overlap on a short range
            sizes = sorted({float(s) for c in curves.values() if metric in c for s in c[metric]["size"]})
            ax.set_xticks(sizes, [f"{s:,.0f}" for s in sizes])
            ax.xaxis.set_minor_formatter(mticker.NullFormatter())
            if name != "auc":
                ax.yaxis.set_major_formatter(mticker.FormatStrFormatter("%g"))
                ax.yaxis.set_minor_formatter(mticker.FormatStrFormatter("%g"))
        ax.set_xlabel("Training jets")
        ax.legend(fontsize=12)
        ax.set_title(title, fontsize=14)
    return _save(fig, path)


def plot_loss_bands(panels: Mapping[str, Mapping[str, list[list[float]]]], path: str | os.PathLike) -> Path:
    """Validation loss per epoch, a panel per entry (title → {run label → one history per seed}):
    median over seeds and the 16–84 % band (epochs where every seed has a value)."""
    _style()
    fig, axes = plt.subplots(1, len(panels), figsize=(7 * len(panels), 6), squeeze=False)
    for ax, (title, runs) in zip(axes[0], panels.items()):
        for i, (label, histories) in enumerate(runs.items()):
            n = min(len(h) for h in histories)
            values = np.array([h[:n] for h in histories])
            epochs = np.arange(1, n + 1)
            ax.plot(epochs, np.median(values, 0), color=f"C{i}", marker="o", lw=2, label=label)
            ax.fill_between(epochs, *np.quantile(values, [0.16, 0.84], axis=0), color=f"C{i}", alpha=0.25)
        ax.set_xlabel("Epoch")
        ax.set_ylabel("Validation loss")
        ax.legend(fontsize=12)
        ax.set_title(title, fontsize=14)
    return _save(fig, path)
