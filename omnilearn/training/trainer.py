"""Fit an OmniLearn model: optimizers, checkpoints, early stopping, resume after a kill."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
from pathlib import Path

import keras
import numpy as np

from ..config import TrainConfig
from ..data.format import Normalization
from ..errors import CheckpointError, OmniLearnError
from ..models.omnilearn import OmniLearn
from . import checkpoint
from .checkpoint import resolve
from .optimizers import make_optimizers


class TrainingDivergedError(OmniLearnError, RuntimeError):
    """The loss or the weights became non-finite; the checkpoints on disk are the last finite ones."""


def _non_finite(logs: dict | None) -> dict:
    return {k: float(v) for k, v in (logs or {}).items() if np.ndim(v) == 0 and not math.isfinite(float(v))}


class CheckpointCallback(keras.callbacks.Callback):
    """After each epoch: the resumable ``last`` checkpoint, and ``best`` when ``monitor`` improves.

    Only ``rank`` 0 writes (data-parallel runs). A non-finite loss (checked after every batch)
    or weight (checked before every write) stops training at once with
    :class:`TrainingDivergedError`, so ``last`` and ``best`` never hold non-finite weights and a
    diverged run cannot run on until early stopping and exit as if it had succeeded.
    """

    def __init__(
        self,
        outdir: str | os.PathLike,
        normalization: Normalization | None = None,
        classes: list[str] | None = None,
        monitor: str = "val_loss",
        data: dict | None = None,
        train: dict | None = None,
        best: float = math.inf,
        rank: int = 0,
    ):
        super().__init__()
        self.outdir = Path(outdir)
        self.normalization = normalization
        self.classes = classes
        self.meta = {"data": data, "train": train}
        self.monitor = monitor
        self.best = best
        self.rank = rank
        self.epoch = 0

    def _diverged(self, where: str, what: str) -> TrainingDivergedError:
        kept = resolve(self.outdir / "last")
        state = f"{kept} holds the last finite weights" if kept is not None else "no checkpoint was written"
        return TrainingDivergedError(
            f"training diverged {where}: {what}; {state}. Lower the learning rate (--lr) or check the inputs."
        )

    def on_train_batch_end(self, batch, logs=None):
        bad = _non_finite(logs)
        if bad:
            self.model.stop_training = True
            raise self._diverged(f"in epoch {self.epoch + 1}, batch {batch + 1}", f"non-finite {bad}")

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        bad = _non_finite(logs)
        if bad:
            raise self._diverged(f"in epoch {epoch + 1}", f"non-finite {bad}")
        if not all(np.isfinite(w).all() for w in self.model.get_weights()):
            raise self._diverged(f"in epoch {epoch + 1}", "non-finite weights")
        value = (logs or {}).get(self.monitor, (logs or {}).get("loss"))
        improved = value is not None and float(value) < self.best
        if improved:
            self.best = float(value)
        if self.rank != 0:
            return
        common = dict(
            normalization=self.normalization, classes=self.classes, epoch=epoch + 1, best=self.best, **self.meta
        )
        if improved:
            checkpoint.save(self.model, self.outdir / "best", **common)
        checkpoint.save(self.model, self.outdir / "last", with_optimizer=True, **common)


def _truncate_history(path: Path, epochs: int) -> None:
    """Keep the header and the complete rows of the first ``epochs`` epochs of a CSVLogger file
    (atomically); a row cut short by a kill (no line end) is dropped, not continued."""
    if not path.exists() or epochs <= 0:
        return
    lines = path.read_text().splitlines(keepends=True)
    kept = lines[:1] + [
        ln
        for ln in lines[1:]
        if ln.endswith("\n") and ln.split(",", 1)[0].strip().isdigit() and int(ln.split(",")[0]) < epochs
    ]
    if kept != lines:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text("".join(kept))
        os.replace(tmp, path)


@contextlib.contextmanager
def resume_hint():
    """A checkpoint to resume from that cannot be read: say how to go on."""
    try:
        yield
    except CheckpointError as err:
        raise CheckpointError(f"cannot resume: {err}. Delete it, or start over with --no_resume") from None


def fit(
    model: OmniLearn,
    train_data,
    cfg: TrainConfig,
    outdir: str | os.PathLike,
    *,
    steps_per_epoch: int,
    val_data=None,
    validation_steps: int | None = None,
    normalization: Normalization | None = None,
    classes: list[str] | None = None,
    data: dict | None = None,
    num_workers: int = 1,
    rank: int = 0,
    resume: bool = True,
    verbose: int | str = "auto",
    extra_callbacks: list | None = None,
) -> keras.callbacks.History:
    """Compile ``model`` with LION + cosine warm-up and train it.

    Writes ``<outdir>/last`` (resumable), ``<outdir>/best`` (lowest validation loss) and
    ``<outdir>/history.csv`` (one row per epoch, all loss terms); each checkpoint records
    ``data`` (the data settings: dataset, particle count, ...) and ``cfg``.  With ``resume`` and an
    existing ``last`` checkpoint, training continues from the epoch after it with the same
    optimizer state.  Early stopping after ``cfg.stop_epoch`` epochs without improvement
    restores the best weights.
    """
    outdir = Path(outdir)
    head_opt, body_opt = make_optimizers(cfg, steps_per_epoch, num_workers)
    model.compile(optimizer=head_opt, body_optimizer=body_opt, jit_compile=cfg.jit_compile, accum_steps=cfg.accum_steps)
    initial_epoch, best = 0, math.inf
    if rank == 0:
        checkpoint.remove_stale(outdir)  # what a killed run left: temporary checkpoints of dead writers
    if resume:
        with resume_hint():
            meta = checkpoint.restore_training(model, outdir / "last")
        if meta is not None:
            initial_epoch = meta["epoch"]
            best = meta["best"] if meta["best"] is not None else math.inf
            if verbose:
                print(f"Resuming from {outdir / 'last'} after epoch {initial_epoch}")
    monitor = "val_loss" if val_data is not None else "loss"
    callbacks = []
    if rank == 0:
        outdir.mkdir(parents=True, exist_ok=True)
        # The row of an epoch is written before its checkpoint, and a resume drops rows of epochs
        # the checkpoint does not hold: a kill between the two neither loses nor repeats a row.
        _truncate_history(outdir / "history.csv", initial_epoch)
        callbacks.append(keras.callbacks.CSVLogger(str(outdir / "history.csv"), append=initial_epoch > 0))
    callbacks += [
        CheckpointCallback(
            outdir,
            normalization,
            classes,
            monitor=monitor,
            best=best,
            rank=rank,
            data=data,
            train=dataclasses.asdict(cfg),
        ),
        keras.callbacks.EarlyStopping(monitor=monitor, patience=cfg.stop_epoch, restore_best_weights=True),
    ]
    callbacks += extra_callbacks or []
    if initial_epoch >= cfg.epoch:
        return keras.callbacks.History()
    return model.fit(
        train_data,
        validation_data=val_data,
        epochs=cfg.epoch,
        initial_epoch=initial_epoch,
        steps_per_epoch=steps_per_epoch,
        validation_steps=validation_steps,
        callbacks=callbacks,
        verbose=verbose if rank == 0 else 0,
        shuffle=False,  # the loader shuffles
    )
