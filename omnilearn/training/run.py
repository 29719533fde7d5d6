"""One training run from unified files: loaders, model (optionally from a pretrained body), fit."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import keras

from ..config import ModelConfig, TrainConfig
from ..data.format import Normalization, inspect_file
from ..data.loader import JetLoader
from ..models.omnilearn import OmniLearn
from . import checkpoint, distributed
from .trainer import fit, resume_hint


@dataclass
class RunResult:
    model: OmniLearn
    history: keras.callbacks.History
    outdir: Path
    classes: tuple[str, ...]
    normalization: Normalization


def adapt_configs(
    model_cfg: ModelConfig, train_cfg: TrainConfig, pretrained: str | os.PathLike | None = None
) -> tuple[ModelConfig, TrainConfig]:
    """The configurations a run actually uses.

    * A pretrained checkpoint decides the variant (and the jet-regression output), since its
      weights only mean something in the forward pass they were trained (or imported) in.
    * The upstream variant depends on the padding length, so the padding trim and bucketing,
      exact only for a padding-invariant model, are switched off there.
    """
    if pretrained is not None:
        saved = ModelConfig.from_dict(checkpoint.read_meta(pretrained)["model"])
        model_cfg = model_cfg.replace(variant=saved.variant, jet_regression=saved.jet_regression)
    if model_cfg.variant == "upstream":
        train_cfg = train_cfg.replace(trim_padding=0, bucket=False)
    return model_cfg, train_cfg


def run_training(
    train_files: Sequence[str | os.PathLike],
    val_files: Sequence[str | os.PathLike],
    outdir: str | os.PathLike,
    model_cfg: ModelConfig,
    train_cfg: TrainConfig,
    *,
    pretrained: str | os.PathLike | None = None,
    dataset: str | None = None,
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
    The checkpoints record the data settings (``dataset``, the particle count, feature count,
    classes, the features the files really provide, the pretrained checkpoint), so evaluation and
    fine-tuning read them from there. Before any work, the files are checked against the
    checkpoints (:func:`omnilearn.training.checkpoint.check_data`: one clear error if the
    feature count differs, or the classes differ from those of the run resumed; a warning if they
    lack inputs the pretrained model was trained with), and the validation files are read once
    for bad values.
    """
    # ``seed`` fixes the weight initialisation (Python, NumPy, TF and Keras' global generator), the
    # data order (the loader) and the diffusion/drop draws (the model's own generators)
    keras.utils.set_random_seed(seed)
    model_cfg, train_cfg = adapt_configs(model_cfg, train_cfg, pretrained)
    if pretrained is not None:  # before its normalisation is applied to the files
        checkpoint.check_data(pretrained, [inspect_file(p) for p in train_files], "fine-tune")
    normalization = checkpoint.load_normalization(pretrained) if pretrained is not None else None
    common = dict(
        normalization=normalization,
        num_particles=num_particles,
        rank=rank,
        num_workers=num_workers,
        trim_padding=train_cfg.trim_padding,
    )
    train = JetLoader(
        train_files,
        train_cfg.batch,
        shuffle=True,
        seed=seed,
        repeat=True,
        drop_remainder=True,
        bucket=train_cfg.bucket,
        **common,
    )
    if train.common_steps_per_epoch < 1:
        raise ValueError(f"{train.num_jets} training jets on this worker are fewer than one batch of {train_cfg.batch}")
    last = checkpoint.resolve(Path(outdir) / "last") if resume else None
    # the data must fit the checkpoints before any work: same classes and features to resume,
    # the same features to fine-tune (a warning if they lack inputs the pretrained model had)
    if last is not None:
        with resume_hint():
            checkpoint.check_data(last, train.infos, "resume")
    if last is not None:
        # a resumed run continues the data order where it stopped, not from epoch 0's shuffle
        with resume_hint():
            train.set_epoch(checkpoint.read_meta(last)["epoch"])
    val = JetLoader(val_files, train_cfg.batch, shuffle=False, **dict(common, normalization=train.normalization))
    # A bad validation file would otherwise show only after the first training epoch; the
    # training files are checked as they are read, so a bad one stops the first epoch.
    val.check_values(progress=None if rank == 0 and verbose else False)
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
    with train.data_errors(val):  # a bad chunk: its DataFormatError, not a TensorFlow traceback
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
            data={
                "dataset": dataset,
                "num_particles": train.num_particles,
                "num_features": train.num_features,
                "classes": list(train.classes),
                "particle_features": list(train.infos[0].particle_features),
                # what the model can learn from: the features some training file really has
                "present_features": [
                    name
                    for name in train.infos[0].particle_features
                    if any(name in info.present_features for info in train.infos)
                ],
                "pretrained": None if pretrained is None else str(pretrained),
                "seed": seed,
            },
            num_workers=num_workers,
            rank=rank,
            resume=resume,
            verbose=verbose,
            extra_callbacks=callbacks,
        )
    return RunResult(model, history, Path(outdir), train.classes, train.normalization)
