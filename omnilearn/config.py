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


@dataclass(frozen=True)
class ModelConfig:
    """Shape of the PET body and its heads.

    Choices where the paper is silent (each gives the paper's parameter counts, see
    ``tests/test_model.py``): 4 attention heads; transformer MLPs widen to 2x the width;
    the time embedding uses 64 Fourier features; layer normalisation is per particle so that
    padded particles never leak into real ones.
    """

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

    def replace(self, **changes) -> "ModelConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings (paper defaults for pretraining on one worker)."""

    mode: str = "all"  # "classifier", "generator" or "all"
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

    def replace(self, **changes) -> "TrainConfig":
        return dataclasses.replace(self, **changes)
