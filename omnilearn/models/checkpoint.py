"""Checkpoints: body and heads in separate weight files, written atomically.

A checkpoint is a directory::

    config.json              model configuration, mode, classes, epoch, best validation loss,
                             and the data settings it was trained with (``data``: dataset,
                             particle count, particle features) and the training flags (``train``)
    body.weights.h5          the PET body alone (what every downstream task starts from)
    classifier.weights.h5    classifier head
    generator.weights.h5     generator head
    ema_body.weights.h5,     the EMA copies of the body and generator head (models with
    ema_generator.weights.h5 ``ModelConfig.ema`` > 0; the sampler uses them)
    normalization.npz        the input normalisation the model was trained with
    optimizer.npz            optimizer state (only in the "last" checkpoint, for resuming;
                             written by :mod:`omnilearn.training.checkpoint`)

It is written to a temporary directory next to it and swapped in with renames, so a job killed
at any moment leaves either the previous complete checkpoint or the new one. The user-facing
calls are :meth:`OmniLearn.from_checkpoint <omnilearn.models.omnilearn.OmniLearn.from_checkpoint>`
and :meth:`OmniLearn.save_checkpoint <omnilearn.models.omnilearn.OmniLearn.save_checkpoint>`.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
import zipfile
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .. import atomic
from ..config import ModelConfig
from ..data.format import Normalization
from ..errors import CheckpointError, OmniLearnError

PARTS = ("body", "classifier", "generator")
#: The EMA copies, saved beside the parts when the model keeps them.
EMA_PARTS = ("ema_body", "ema_generator")
#: The model fields a pretrained body must share with the model it is loaded into.
BODY_FIELDS = ("variant", "num_feat", "projection_dim", "num_heads", "num_layers", "local", "num_local")


@contextmanager
def atomic_directory(directory: str | os.PathLike):
    """Yield a temporary directory that replaces ``directory`` only if the block succeeds.

    The temporary directory is ``.<name>.tmp-<host>-<pid>`` (so a later run can tell whether its
    writer is gone: :func:`omnilearn.training.checkpoint.remove_stale`); the previous checkpoint
    is set aside as ``.<name>.old`` until the new one is in place, so a kill at any moment
    leaves a complete checkpoint that :func:`resolve` finds.
    """
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = directory.with_name(f".{directory.name}.tmp-{atomic.writer_tag()}")
    old = directory.with_name(f".{directory.name}.old")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if directory.exists():
        shutil.rmtree(old, ignore_errors=True)
        os.replace(directory, old)
    # else: an earlier kill mid-swap left only ``old``, the last complete copy: keep it until
    # the new one is in place
    os.replace(tmp, directory)
    shutil.rmtree(old, ignore_errors=True)


def resolve(directory: str | os.PathLike) -> Path | None:
    """The complete checkpoint at ``directory``, or the one a kill mid-swap left aside, or None."""
    directory = Path(directory)
    for candidate in (directory, directory.with_name(f".{directory.name}.old")):
        if (candidate / "config.json").exists():
            return candidate
    return None


def save(
    model,
    directory: str | os.PathLike,
    *,
    normalization: Normalization | None = None,
    classes: list[str] | None = None,
    epoch: int = 0,
    best: float | None = None,
    data: Mapping[str, Any] | None = None,
    train: Mapping[str, Any] | None = None,
    extra: Callable[[Path], None] | None = None,
) -> Path:
    """Write a checkpoint of ``model`` (an :class:`~omnilearn.models.omnilearn.OmniLearn`)
    atomically and return its path. ``data``: the data settings it was trained with (dataset,
    num_particles, particle_features); ``train``: the training flags; ``extra(tmp_dir)`` writes
    more files into the checkpoint before it is swapped in."""
    with atomic_directory(directory) as tmp:
        for part in PARTS + EMA_PARTS:
            if getattr(model, part, None) is not None:
                getattr(model, part).save_weights(tmp / f"{part}.weights.h5")
        meta = {
            "model": model.model_config.to_dict(),
            "mode": model.mode,
            "classes": list(classes) if classes is not None else None,
            "epoch": int(epoch),
            "best": None if best is None else float(best),
            "data": dict(data) if data is not None else {},
            "train": dict(train) if train is not None else {},
        }
        (tmp / "config.json").write_text(json.dumps(meta, indent=2, default=str))
        if normalization is not None:
            normalization.save(tmp / "normalization.npz")
        if extra is not None:
            extra(tmp)
    return Path(directory)


def read_meta(directory: str | os.PathLike) -> dict:
    """The ``config.json`` of a checkpoint (:class:`CheckpointError` naming it if unreadable)."""
    found = resolve(directory)
    if found is None:
        raise FileNotFoundError(f"no checkpoint at {directory}")
    return _read_config(found)


def _read_config(found: Path) -> dict:
    path = found / "config.json"
    try:
        meta = json.loads(path.read_text())
        ModelConfig.from_dict(meta["model"])
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as err:
        raise CheckpointError(
            f"{path}: not a readable checkpoint configuration ({type(err).__name__}: {err})"
        ) from None
    return meta


def data_settings(directory: str | os.PathLike) -> dict:
    """The data settings a checkpoint was trained with: ``dataset``, ``num_particles``,
    ``particle_features`` (empty for checkpoints written without them)."""
    return read_meta(directory).get("data") or {}


def load_normalization(directory: str | os.PathLike) -> Normalization | None:
    found = resolve(directory)
    path = None if found is None else found / "normalization.npz"
    if path is None or not path.exists():
        return None
    try:
        return Normalization.load(path)
    except OmniLearnError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise CheckpointError(f"{path}: unreadable normalisation ({type(err).__name__}: {err})") from None


def load_pretrained(model, directory: str | os.PathLike, parts: tuple[str, ...] = PARTS) -> list[str]:
    """Load a checkpoint's body (and heads) into ``model``; one call starts any downstream task.

    The paper (Sec. II E) loads every pretrained weight unless an input dimension changed: when
    the class count differs, the classifier's output layer and the generator's label
    embedding keep their fresh random initialisation.  Returns the names of the parts loaded.

    A model with EMA copies takes the checkpoint's (same class count, both parts loaded), or
    else copies of the weights just loaded: the averages start from the pretrained model.
    """
    found = resolve(directory)
    if found is None:
        raise FileNotFoundError(f"no checkpoint at {directory}")
    meta = _read_config(found)
    saved = ModelConfig.from_dict(meta["model"])
    mine = model.model_config
    for field in BODY_FIELDS:
        if getattr(saved, field) != getattr(mine, field):
            raise CheckpointError(
                f"{found}: body has {field}={getattr(saved, field)}, model has {getattr(mine, field)}"
            )
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
            try:
                getattr(model, part).load_weights(path, skip_mismatch=part != "body" and new_classes)
            except (OSError, ValueError, KeyError) as err:  # truncated or overwritten: h5py/Keras errors
                raise CheckpointError(f"{path}: cannot load the {part} weights ({type(err).__name__}: {err})") from None
        loaded.append(part)
    if getattr(model, "has_ema", False):
        files = [found / f"{part}.weights.h5" for part in EMA_PARTS]
        if not new_classes and {"body", "generator"} <= set(loaded) and all(f.exists() for f in files):
            for part, path in zip(EMA_PARTS, files):
                getattr(model, part).load_weights(path)
            loaded += list(EMA_PARTS)
        else:
            model.reset_ema()
    return loaded
