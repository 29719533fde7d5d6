"""One training run from unified files: loaders, model (optionally from a pretrained body), fit."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import keras

from ..config import ModelConfig, TrainConfig
from ..data.format import Normalization
from ..data.loader import JetLoader
from ..models.omnilearn import OmniLearn
from . import checkpoint, distributed
from .trainer import fit


@dataclass
class RunResult:
    model: OmniLearn
    history: keras.callbacks.History
    outdir: Path
    classes: tuple[str, ...]
    normalization: Normalization


def run_training(
    train_files: Sequence[str | os.PathLike],
    val_files: Sequence[str | os.PathLike],
    outdir: str | os.PathLike,
    model_cfg: ModelConfig,
    train_cfg: TrainConfig,
    *,
    pretrained: str | os.PathLike | None = None,
    num_particles: int | None = None,
    rank: int = 0,
    num_workers: int = 1,
    seed: int = 0,
    verbose: int | str = "auto",
    resume: bool = True,
) -> RunResult:
    """Train ``train_cfg.mode`` on the given files and write checkpoints under ``outdir``.

    With ``pretrained`` (a checkpoint directory, e.g. ``runs/pretrain/best``) every weight of
    the pretrained model is loaded except those whose shape depends on the class count, and
    the inputs are normalised with the *pretrained* statistics, so a feature value means the
    same physical quantity to the body as during pretraining.  Otherwise the training files'
    own statistics are used.  The class count and feature count come from the files.
    """
    normalization = checkpoint.load_normalization(pretrained) if pretrained is not None else None
    common = dict(normalization=normalization, num_particles=num_particles, rank=rank, num_workers=num_workers,
                  trim_padding=train_cfg.trim_padding)
    train = JetLoader(train_files, train_cfg.batch, shuffle=True, seed=seed, repeat=True, drop_remainder=True,
                      bucket=train_cfg.bucket, **common)
    if train.common_steps_per_epoch < 1:
        raise ValueError(f"{train.num_jets} training jets on this worker are fewer than one batch of {train_cfg.batch}")
    val = JetLoader(val_files, train_cfg.batch, shuffle=False, **dict(common, normalization=train.normalization))
    model_cfg = model_cfg.replace(num_classes=train.num_classes, num_feat=train.num_features)
    # seed + rank: each worker draws its own diffusion times and noise (rank 0 = single process)
    model = OmniLearn(model_cfg, mode=train_cfg.mode, seed=seed + rank, mixed_precision=train_cfg.mixed_precision)
    if pretrained is not None:
        checkpoint.load_pretrained(model, pretrained)
    callbacks = []
    if num_workers > 1:
        distributed.make_distributed(model)
        callbacks.append(distributed.BroadcastState())
        train_cfg = train_cfg.replace(jit_compile=False)  # Horovod ops have no XLA kernels
    history = fit(
        model,
        train.dataset(),
        train_cfg,
        outdir,
        steps_per_epoch=train.common_steps_per_epoch,
        # common_*: every worker must run the same number of (allreduced) validation steps
        val_data=val.dataset() if val.common_steps_per_epoch > 0 else None,
        validation_steps=val.common_steps_per_epoch or None,
        normalization=train.normalization,
        classes=list(train.classes),
        num_workers=num_workers,
        rank=rank,
        resume=resume,
        verbose=verbose,
        extra_callbacks=callbacks,
    )
    return RunResult(model, history, Path(outdir), train.classes, train.normalization)
