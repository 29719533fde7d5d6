"""Fit an OmniLearn model: optimizers, checkpoints, early stopping, resume after a kill."""

from __future__ import annotations

import math
import os
from pathlib import Path

import keras

from ..config import TrainConfig
from ..data.format import Normalization
from ..models.omnilearn import OmniLearn
from . import checkpoint
from .optimizers import make_optimizers


class CheckpointCallback(keras.callbacks.Callback):
    """After each epoch: the resumable ``last`` checkpoint, and ``best`` when ``monitor`` improves.

    Only ``rank`` 0 writes (data-parallel runs).
    """

    def __init__(
        self,
        outdir: str | os.PathLike,
        normalization: Normalization | None = None,
        classes: list[str] | None = None,
        monitor: str = "val_loss",
        best: float = math.inf,
        rank: int = 0,
    ):
        super().__init__()
        self.outdir = Path(outdir)
        self.normalization = normalization
        self.classes = classes
        self.monitor = monitor
        self.best = best
        self.rank = rank

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor, (logs or {}).get("loss"))
        improved = value is not None and float(value) < self.best
        if improved:
            self.best = float(value)
        if self.rank != 0:
            return
        common = dict(normalization=self.normalization, classes=self.classes, epoch=epoch + 1, best=self.best)
        if improved:
            checkpoint.save(self.model, self.outdir / "best", **common)
        checkpoint.save(self.model, self.outdir / "last", with_optimizer=True, **common)


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
    num_workers: int = 1,
    rank: int = 0,
    resume: bool = True,
    verbose: int | str = "auto",
    extra_callbacks: list | None = None,
) -> keras.callbacks.History:
    """Compile ``model`` with LION + cosine warm-up and train it.

    Writes ``<outdir>/last`` (resumable), ``<outdir>/best`` (lowest validation loss) and
    ``<outdir>/history.csv`` (one row per epoch, all loss terms).  With ``resume`` and an
    existing ``last`` checkpoint, training continues from the epoch after it with the same
    optimizer state.  Early stopping after ``cfg.stop_epoch`` epochs without improvement
    restores the best weights.
    """
    outdir = Path(outdir)
    head_opt, body_opt = make_optimizers(cfg, steps_per_epoch, num_workers)
    model.compile(optimizer=head_opt, body_optimizer=body_opt, jit_compile=cfg.jit_compile)
    initial_epoch, best = 0, math.inf
    if resume:
        meta = checkpoint.restore_training(model, outdir / "last")
        if meta is not None:
            initial_epoch = meta["epoch"]
            best = meta["best"] if meta["best"] is not None else math.inf
            if verbose:
                print(f"Resuming from {outdir / 'last'} after epoch {initial_epoch}")
    monitor = "val_loss" if val_data is not None else "loss"
    callbacks = [
        CheckpointCallback(outdir, normalization, classes, monitor=monitor, best=best, rank=rank),
        keras.callbacks.EarlyStopping(monitor=monitor, patience=cfg.stop_epoch, restore_best_weights=True),
    ]
    if rank == 0:
        outdir.mkdir(parents=True, exist_ok=True)
        callbacks.append(keras.callbacks.CSVLogger(str(outdir / "history.csv"), append=initial_epoch > 0))
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
