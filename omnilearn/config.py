"""Model and training configuration with the paper's defaults, in one place.

Numbers quoted from arXiv:2404.16091 (Sec. II): width 128, 8 body transformer blocks, 2 local
(DGCNN) layers with k = 10, LayerScale init 1e-5, feature drop p = 0.2, class-label layer drop
p = 0.1, LION with beta_1 = 0.95 and beta_2 = 0.99, cosine schedule from 3e-5 warmed up over
3 epochs to 3e-5 * sqrt(workers) and decaying to 1e-6, body learning rate x0.1 at fine-tune.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .data.features import JET_FEATURES, NUM_KINEMATIC_FEATURES, NUM_PARTICLE_FEATURES

#: Model variants: ``paper`` (the paper's description, padding invariant; the default) and
#: ``upstream`` (the forward pass of the authors' released code, for their checkpoints).
VARIANTS: tuple[str, ...] = ("paper", "upstream")


@dataclass(frozen=True)
class ModelConfig:
    """Shape of the PET body and its heads.

    Choices where the paper is silent (each gives the paper's parameter counts, see
    ``tests/test_model.py``): 4 attention heads; transformer MLPs widen to 2x the width;
    the time embedding uses 64 Fourier features; layer normalisation is per particle so that
    padded particles never leak into real ones.

    ``variant="upstream"`` computes the authors' released forward pass instead (see
    :mod:`omnilearn.models.pet`); :meth:`upstream` gives the configuration of their JetClass
    checkpoint.  ``jet_regression`` adds their Dense(num_jet) jet-regression output beside the
    logits and, in mode ``all``, its loss (off by default: the paper's loss, Eq. 2, has no
    such term).
    """

    variant: str = "paper"
    jet_regression: bool = False
    num_feat: int = NUM_PARTICLE_FEATURES
    num_jet: int = len(JET_FEATURES)
    num_classes: int = 10
    projection_dim: int = 128
    num_heads: int = 4
    num_layers: int = 8
    num_class_layers: int = 2
    num_gen_layers: int = 2
    local: bool = True
    num_local: int = 2
    K: int = 10
    layer_scale: bool = True
    layer_scale_init: float = 1e-5
    feature_drop: float = 0.2
    #: features from this index on are the ones the feature drop zeroes (charge, PID flags)
    num_kinematic: int = NUM_KINEMATIC_FEATURES
    class_drop: float = 0.1
    dropout: float = 0.0
    num_fourier: int = 64
    #: the generator diffuses the first ``num_diffusion`` particle features in the authors' order
    #: (Δη, Δφ, log(1 − pT/pT,jet), log pT, …; :func:`~omnilearn.data.features.diffused_columns`);
    #: the others are zero in x̂ and outside the loss. The paper is silent: 3, as the authors.
    num_diffusion: int = 3
    #: decay of the exponential moving averages of the body and generator head weights, kept in
    #: the checkpoint and used by the sampler; 0: none. The paper is silent: 0.999, as the authors.
    ema: float = 0.999
    #: recompute activations in the backward pass instead of keeping them (one of RECOMPUTE):
    #: less memory for more compute, same gradients (see docs/performance.md)
    recompute: str = "local"

    def __post_init__(self):
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {self.variant!r}")
        if not 1 <= self.num_diffusion <= self.num_feat:
            raise ValueError(f"num_diffusion must be in 1..{self.num_feat}, got {self.num_diffusion}")
        if not 0.0 <= self.ema < 1.0:
            raise ValueError(f"ema must be in [0, 1), got {self.ema}")
        if self.recompute not in RECOMPUTE:
            raise ValueError(f"recompute must be one of {RECOMPUTE}, got {self.recompute!r}")
        if self.recompute == "all" and self.dropout > 0:
            # a recomputed block would draw new dropout masks: different gradients
            raise ValueError("recompute='all' needs dropout = 0")

    @classmethod
    def upstream(cls, **changes) -> ModelConfig:
        """The configuration of the authors' released JetClass checkpoint (their feature drop
        0.1; label drop 0.1; the jet-regression output), in the upstream variant."""
        return cls(variant="upstream", jet_regression=True, feature_drop=0.1, class_drop=0.1).replace(**changes)

    def replace(self, **changes) -> ModelConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


#: ``ModelConfig.recompute``: what the backward pass recomputes instead of keeping from the
#: forward pass (``local``: the DGCNN layers' edge tensors; ``all``: those and every transformer block).
RECOMPUTE: tuple[str, ...] = ("none", "local", "all")

#: Training modes: which heads are trained (``all``: classifier, generator and smeared classifier).
MODES: tuple[str, ...] = ("classifier", "generator", "all")


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (paper defaults for pretraining on one worker)."""

    mode: str = "all"  # one of MODES
    batch: int = 256
    epoch: int = 200
    warm_epoch: int = 3
    stop_epoch: int = 30
    lr: float = 3e-5
    lr_min: float = 1e-6
    wd: float = 0.0
    b1: float = 0.95
    b2: float = 0.99
    fine_tune: bool = False
    body_lr_factor: float = 0.1
    #: compile the train/test steps with XLA (about 2x faster on CPU; off for Horovod, whose
    #: collectives cannot sit inside an XLA cluster)
    jit_compile: bool = True
    #: cut each batch's padding after its last real particle, rounded up to a multiple of
    #: this (exact, as the model is padding invariant, and faster); 0: off
    trim_padding: int = 16
    #: draw training batches from jets of similar multiplicity (less padding to trim; batches
    #: are then not uniform draws, so off by default)
    bucket: bool = False
    #: bfloat16 compute with float32 weights (keras mixed_bfloat16; for GPUs, not exact)
    mixed_precision: bool = False
    #: run each batch as this many micro-batches and sum their gradients before the one
    #: optimizer step (the same update, less memory; ``OmniLearn.accumulated_gradients``)
    accum_steps: int = 1

    def replace(self, **changes) -> TrainConfig:
        return dataclasses.replace(self, **changes)
