"""Training checkpoints: the model checkpoint of :mod:`omnilearn.models.checkpoint` plus the
training state (``optimizer.npz``, in the resumable ``last`` checkpoint: the optimizers' variables
and the random-number states), and resuming from it."""

from __future__ import annotations

import os
import shutil
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .. import atomic
from ..data.format import FileInfo
from ..errors import CheckpointError, OmniLearnWarning
from ..models import checkpoint as model_checkpoint
from ..models.checkpoint import (
    PARTS,
    atomic_directory,
    data_settings,
    load_normalization,
    load_pretrained,
    read_meta,
    resolve,
)
from ..models.omnilearn import OmniLearn

__all__ = [
    "PARTS",
    "atomic_directory",
    "check_data",
    "data_settings",
    "load",
    "load_normalization",
    "load_pretrained",
    "read_meta",
    "remove_stale",
    "resolve",
    "restore_training",
    "save",
]


#: A checkpoint write takes seconds: a temporary checkpoint of a writer on another host (whose
#: process cannot be checked) untouched for this long is stale.
STALE_TMP_SECONDS = 900.0


def remove_stale(outdir: str | os.PathLike) -> list[Path]:
    """Remove what killed runs left in the run folder ``outdir``: the temporary checkpoints
    ``.<name>.tmp-<host>-<pid>`` of writers that are gone (:func:`omnilearn.atomic.remove_stale`),
    and a checkpoint set aside mid-swap (``.<name>.old``) once ``<name>`` is complete again (while
    it is the only copy, :func:`resolve` reads it and the next write replaces it). Returns the
    folders removed."""
    outdir = Path(outdir)
    if not outdir.is_dir():
        return []
    removed = atomic.remove_stale(outdir, ".*.tmp-*", lambda name: name.rpartition(".tmp-")[2], STALE_TMP_SECONDS)
    for old in sorted(outdir.glob(".*.old")):
        if (outdir / old.name[1 : -len(".old")] / "config.json").exists():
            shutil.rmtree(old, ignore_errors=True)
            removed.append(old)
    return removed


def check_data(
    directory: str | os.PathLike, infos: Sequence[FileInfo], use: str, num_particles: int | None = None
) -> None:
    """Check that the unified files ``infos`` (:func:`omnilearn.data.format.inspect_file`) can be
    fed to the checkpoint at ``directory``, before any work is done with them.

    Args:
        use: ``"evaluate"`` or ``"resume"`` (the files must hold the checkpoint's classes, in
            its order) or ``"fine-tune"`` (the class count may differ: those head weights are new).
        num_particles: the particle count to evaluate with (default: the checkpoint's).

    Raises:
        CheckpointError: the feature count, or (evaluate, resume) the classes differ, or the
            files hold fewer particles per jet than asked for.

    Warns:
        OmniLearnWarning: the model was trained with particle features (charge, particle type)
            that the files do not really have (their ``present_features``): it then sees every
            particle as neutral and unidentified. Expected when fine-tuning a model pretrained
            with PID on top tagging, as the paper does; checkpoints and files written before
            these were recorded are not checked.
    """
    meta = read_meta(directory)
    settings = meta.get("data") or {}
    first = infos[0]
    where = first.path if len(infos) == 1 else f"{first.path} (and {len(infos) - 1} more)"
    trained = f"{directory} (trained on {settings.get('dataset') or 'unrecorded data'})"
    num_feat = meta["model"]["num_feat"]
    if first.num_features != num_feat:
        raise CheckpointError(
            f"{trained} takes {num_feat} particle features per particle; {where} has {first.num_features}"
        )
    classes = meta.get("classes") or settings.get("classes")
    if use in ("evaluate", "resume"):
        if classes is not None and list(classes) != list(first.classes):
            raise CheckpointError(
                f"{trained} tells apart the classes {list(classes)}; {where} holds {list(first.classes)}"
            )
        if classes is None and meta["model"]["num_classes"] != len(first.classes):
            raise CheckpointError(
                f"{trained} has {meta['model']['num_classes']} classes; {where} holds {len(first.classes)}"
            )
    wanted = num_particles or settings.get("num_particles")
    have = min(info.num_particles for info in infos)
    if use == "evaluate" and wanted and wanted > have:
        raise CheckpointError(
            f"{trained} was trained with {wanted} particles per jet; {where} holds {have}: "
            f"evaluate with --num_particles {have} (or fewer)"
        )
    present = set.intersection(*(set(info.present_features) for info in infos))
    missing = [name for name in settings.get("present_features") or () if name not in present]
    if missing:
        warnings.warn(
            f"{trained} was trained with the particle features {missing}, which {where} does not have "
            "(it holds zeros there): the model sees every particle as neutral and unidentified. "
            "Expected when the dataset has no charge or particle type (top tagging, ATLAS, JetNet); "
            "otherwise check the data.",
            OmniLearnWarning,
            stacklevel=2,
        )


def _seed_states(model: OmniLearn) -> list:
    """The random-number states of the model (diffusion time and noise, feature and label drop):
    saved with the optimizer so that a resumed run draws what the uninterrupted one would."""
    return [v for v in model.non_trainable_variables if v.path.endswith("seed_generator_state")]


def _optimizer_arrays(model: OmniLearn) -> dict[str, np.ndarray]:
    arrays = {}
    for prefix, opt in (("head", model.optimizer), ("body", model.body_optimizer)):
        if opt is not None:
            for i, v in enumerate(opt.variables):
                arrays[f"{prefix}/{i}"] = np.asarray(v.numpy())
    for i, v in enumerate(_seed_states(model)):
        arrays[f"seed/{i}"] = np.asarray(v.numpy())
    return arrays


def save(model: OmniLearn, directory: str | os.PathLike, *, with_optimizer: bool = False, **meta) -> Path:
    """:func:`omnilearn.models.checkpoint.save`, plus the optimizer state with ``with_optimizer``."""

    def optimizer_state(tmp: Path) -> None:
        np.savez(tmp / "optimizer.npz", **_optimizer_arrays(model))

    return model_checkpoint.save(model, directory, extra=optimizer_state if with_optimizer else None, **meta)


def load(directory: str | os.PathLike, mode: str | None = None, **config_changes) -> OmniLearn:
    """Rebuild the model saved at ``directory`` with all its weights (:meth:`OmniLearn.from_checkpoint`)."""
    return OmniLearn.from_checkpoint(directory, mode=mode, **config_changes)


def restore_training(model: OmniLearn, directory: str | os.PathLike) -> dict | None:
    """Load weights and optimizer state from a "last" checkpoint; returns its metadata or None.

    ``model`` must be compiled (so its optimizers exist and are built).
    """
    found = resolve(directory)
    if found is None or not (found / "optimizer.npz").exists():
        return None
    load_pretrained(model, found)
    path = found / "optimizer.npz"
    try:
        with np.load(path) as state:
            for prefix, opt in (("head", model.optimizer), ("body", model.body_optimizer)):
                if opt is None:
                    continue
                for i, v in enumerate(opt.variables):
                    v.assign(state[f"{prefix}/{i}"])
            for i, v in enumerate(_seed_states(model)):
                if f"seed/{i}" in state:
                    v.assign(state[f"seed/{i}"])
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as err:
        raise CheckpointError(f"{path}: unreadable optimizer state ({type(err).__name__}: {err})") from None
    return read_meta(found)
