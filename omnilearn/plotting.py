"""Figures from result JSONs and training histories: ROC curves and loss curves."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _style() -> None:
    try:
        import mplhep

        plt.style.use(mplhep.style.CMS)
    except ImportError:  # mplhep is an optional extra
        pass


def read_history(path: str | os.PathLike) -> dict[str, list[float]]:
    """A Keras ``CSVLogger`` file as {column: values}."""
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return {k: [float(r[k]) for r in rows] for k in rows[0]} if rows else {}


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


def plot_losses(panels: Mapping[str, Mapping[str, Mapping[str, list[float]]]], path: str | os.PathLike,
                keys: tuple[str, ...] = ("loss", "val_loss")) -> Path:
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
                ax.plot(range(1, len(hist[key]) + 1), hist[key], color=color,
                        ls="--" if key.startswith("val_") else "-", marker="o", label=f"{label}: {key}", lw=2)
        ax.set_xlabel("Epoch")
        ax.set_ylabel("Loss")
        ax.legend(fontsize=12)
        ax.set_title(title, fontsize=14)
    return _save(fig, path)


def _save(fig, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
