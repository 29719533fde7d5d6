"""Checkpoints: body and heads in separate weight files, written atomically.

A checkpoint is a directory::

    config.json              model configuration, mode, classes, epoch, best validation loss
    body.weights.h5          the PET body alone (what every downstream task starts from)
    classifier.weights.h5    classifier head
    generator.weights.h5     generator head
    normalization.npz        the input normalisation the model was trained with
    optimizer.npz            optimizer state (only in the "last" checkpoint, for resuming)

It is written to a temporary directory next to it and swapped in with renames, so a job killed
at any moment leaves either the previous complete checkpoint or the new one.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..config import ModelConfig
from ..data.format import Normalization
from ..models.omnilearn import OmniLearn

PARTS = ("body", "classifier", "generator")


@contextmanager
def atomic_directory(directory: str | os.PathLike):
    """Yield a temporary directory that replaces ``directory`` only if the block succeeds."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = directory.with_name(f".{directory.name}.tmp-{os.getpid()}")
    old = directory.with_name(f".{directory.name}.old")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
    if directory.exists():
        os.replace(directory, old)
    os.replace(tmp, directory)
    shutil.rmtree(old, ignore_errors=True)


def resolve(directory: str | os.PathLike) -> Path | None:
    """The complete checkpoint at ``directory``, or the one a kill mid-swap left aside, or None."""
    directory = Path(directory)
    for candidate in (directory, directory.with_name(f".{directory.name}.old")):
        if (candidate / "config.json").exists():
            return candidate
    return None


def _optimizer_arrays(model: OmniLearn) -> dict[str, np.ndarray]:
    arrays = {}
    for prefix, opt in (("head", model.optimizer), ("body", model.body_optimizer)):
        if opt is not None:
            for i, v in enumerate(opt.variables):
                arrays[f"{prefix}/{i}"] = np.asarray(v.numpy())
    return arrays


def save(
    model: OmniLearn,
    directory: str | os.PathLike,
    *,
    normalization: Normalization | None = None,
    classes: list[str] | None = None,
    epoch: int = 0,
    best: float | None = None,
    with_optimizer: bool = False,
) -> Path:
    """Write a checkpoint (atomically) and return its path."""
    with atomic_directory(directory) as tmp:
        for part in PARTS:
            getattr(model, part).save_weights(tmp / f"{part}.weights.h5")
        meta = {
            "model": model.model_config.to_dict(),
            "mode": model.mode,
            "classes": list(classes) if classes is not None else None,
            "epoch": int(epoch),
            "best": None if best is None else float(best),
        }
        (tmp / "config.json").write_text(json.dumps(meta, indent=2))
        if normalization is not None:
            normalization.save(tmp / "normalization.npz")
        if with_optimizer:
            np.savez(tmp / "optimizer.npz", **_optimizer_arrays(model))
    return Path(directory)


def read_meta(directory: str | os.PathLike) -> dict:
    """The ``config.json`` of a checkpoint."""
    found = resolve(directory)
    if found is None:
        raise FileNotFoundError(f"no checkpoint at {directory}")
    return json.loads((found / "config.json").read_text())


def load_normalization(directory: str | os.PathLike) -> Normalization | None:
    found = resolve(directory)
    path = None if found is None else found / "normalization.npz"
    return Normalization.load(path) if path is not None and path.exists() else None


def load(directory: str | os.PathLike, mode: str | None = None, **config_changes) -> OmniLearn:
    """Rebuild the model saved at ``directory`` with all its weights."""
    meta = read_meta(directory)
    config = ModelConfig.from_dict(meta["model"]).replace(**config_changes)
    model = OmniLearn(config, mode=mode or meta["mode"])
    load_pretrained(model, directory)
    return model


def load_pretrained(model: OmniLearn, directory: str | os.PathLike, parts: tuple[str, ...] = PARTS) -> list[str]:
    """Load a checkpoint's body (and heads) into ``model``; one call starts any downstream task.

    The paper (Sec. II E) loads every pretrained weight unless an input dimension changed: when
    the class count differs, the classifier's output layer and the generator's label
    embedding keep their fresh random initialisation.  Returns the names of the parts loaded.
    """
    found = resolve(directory)
    if found is None:
        raise FileNotFoundError(f"no checkpoint at {directory}")
    meta = json.loads((found / "config.json").read_text())
    saved = ModelConfig.from_dict(meta["model"])
    mine = model.model_config
    for field in ("num_feat", "projection_dim", "num_heads", "num_layers", "local", "num_local"):
        if getattr(saved, field) != getattr(mine, field):
            raise ValueError(f"{found}: body has {field}={getattr(saved, field)}, model has {getattr(mine, field)}")
    new_classes = saved.num_classes != mine.num_classes
    loaded = []
    for part in parts:
        path = found / f"{part}.weights.h5"
        if not path.exists():
            continue
        with warnings.catch_warnings():
            # Keras warns about each layer skipped for its shape; those are the expected ones.
            warnings.filterwarnings("ignore", message=".*could not be loaded.*")
            # With skip_mismatch Keras also reports the functional graph's weightless containers as
            # "freshly-initialized"; every weight but the mismatched ones is loaded (tested).
            warnings.filterwarnings("ignore", message="Skipping nested container at '_operations_by_depth")
            getattr(model, part).load_weights(path, skip_mismatch=part != "body" and new_classes)
        loaded.append(part)
    return loaded


def restore_training(model: OmniLearn, directory: str | os.PathLike) -> dict | None:
    """Load weights and optimizer state from a "last" checkpoint; returns its metadata or None.

    ``model`` must be compiled (so its optimizers exist and are built).
    """
    found = resolve(directory)
    if found is None or not (found / "optimizer.npz").exists():
        return None
    load_pretrained(model, found)
    with np.load(found / "optimizer.npz") as state:
        for prefix, opt in (("head", model.optimizer), ("body", model.body_optimizer)):
            if opt is None:
                continue
            for i, v in enumerate(opt.variables):
                v.assign(state[f"{prefix}/{i}"])
    return json.loads((found / "config.json").read_text())
