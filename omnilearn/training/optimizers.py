"""LION with the paper's cosine warm-up schedule, and the body/head learning-rate split."""

from __future__ import annotations

import math

import keras

from ..config import TrainConfig


def learning_rate_schedule(cfg: TrainConfig, steps_per_epoch: int, num_workers: int = 1, scale: float = 1.0):
    """Cosine schedule: ``lr`` → ``lr·√workers`` over ``warm_epoch`` epochs, then down to ``lr_min``.

    The paper (Sec. II E) warms up from 3e-5 to 3e-5·√128 on 128 GPUs over 3 epochs and decays
    to 1e-6 by the end of training.  ``scale`` multiplies every rate (0.1 for the body when
    fine-tuning).
    """
    peak = cfg.lr * math.sqrt(num_workers)
    warm = cfg.warm_epoch * steps_per_epoch
    decay = max((cfg.epoch - cfg.warm_epoch) * steps_per_epoch, 1)
    alpha = min(cfg.lr_min / peak, 1.0)
    if warm > 0:
        return keras.optimizers.schedules.CosineDecay(
            cfg.lr * scale, decay, alpha=alpha, warmup_target=peak * scale, warmup_steps=warm
        )
    return keras.optimizers.schedules.CosineDecay(peak * scale, decay, alpha=alpha)


def lion(cfg: TrainConfig, schedule) -> keras.optimizers.Optimizer:
    """``keras.optimizers.Lion`` with the paper's β₁ = 0.95, β₂ = 0.99 and decoupled weight decay ``wd``."""
    return keras.optimizers.Lion(
        learning_rate=schedule, beta_1=cfg.b1, beta_2=cfg.b2, weight_decay=cfg.wd if cfg.wd > 0 else None
    )


def make_optimizers(cfg: TrainConfig, steps_per_epoch: int, num_workers: int = 1):
    """``(head_optimizer, body_optimizer)``; the body one is None unless fine-tuning.

    When fine-tuning, the body learns at ``body_lr_factor`` (0.1) times the heads' rate.
    """
    head = lion(cfg, learning_rate_schedule(cfg, steps_per_epoch, num_workers))
    if not cfg.fine_tune:
        return head, None
    body = lion(cfg, learning_rate_schedule(cfg, steps_per_epoch, num_workers, scale=cfg.body_lr_factor))
    return head, body
