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


def plot_losses(histories: Mapping[str, Mapping[str, list[float]]], path: str | os.PathLike,
                keys: tuple[str, ...] = ("loss", "val_loss"), title: str = "") -> Path:
    """Loss per epoch for each run (solid: training, dashed: validation)."""
    _style()
    fig, ax = plt.subplots(figsize=(8, 7))
    for i, (label, hist) in enumerate(histories.items()):
        color = f"C{i}"
        for key in keys:
            if key in hist:
                epochs = range(1, len(hist[key]) + 1)
                ax.plot(epochs, hist[key], color=color, ls="--" if key.startswith("val_") else "-",
                        label=f"{label} {key}", lw=2)
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
