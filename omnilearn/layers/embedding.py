"""Embeddings and the two drop layers of PET (paper Sec. II A and C)."""

from __future__ import annotations

import keras
from keras import layers, ops

from . import activations


@keras.saving.register_keras_serializable("omnilearn")
class MLP(layers.Layer):
    """Two dense layers, ``width`` then ``out``, each activated (the paper: every MLP is GELU).

    Acts on the last axis of an input of any rank.
    """

    def __init__(self, width: int, out: int, use_bias: bool = True, activation: str = "gelu", **kwargs):
        super().__init__(**kwargs)
        self.width, self.out, self.use_bias, self.activation = width, out, use_bias, activation
        act = activations.get(activation)
        self.dense_0 = layers.Dense(width, activation=act, use_bias=use_bias, name="dense_0")
        self.dense_1 = layers.Dense(out, activation=act, use_bias=use_bias, name="dense_1")

    def build(self, input_shape):
        self.dense_0.build(input_shape)
        self.dense_1.build(tuple(input_shape[:-1]) + (self.width,))

    def call(self, x):
        return self.dense_1(self.dense_0(x))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.out,)

    def get_config(self):
        return {
            **super().get_config(),
            "width": self.width,
            "out": self.out,
            "use_bias": self.use_bias,
            "activation": self.activation,
        }


@keras.saving.register_keras_serializable("omnilearn")
class TimeEmbedding(layers.Layer):
    """Fourier features of the diffusion time, multiplied by t, then a two-layer MLP.

    Input ``(batch, 1)`` with t in [0, 1]; output ``(batch, dim)``.  The Fourier features are
    scaled by t and the MLP has no bias, so the embedding is exactly zero at t = 0: the
    body then behaves as a plain classifier (paper Sec. II A).  t is scaled by 1000 before
    the sinusoids, the range of integer DDPM time steps, so the lowest frequencies resolve
    the whole interval.  ``activation``: GELU (the paper) or swish (the authors' code).  The
    frequencies are computed in float32 in the graph, in the authors' order of operations, so
    that imported weights reproduce their outputs (the phases reach 1000).
    """

    def __init__(self, dim: int, num_fourier: int = 64, activation: str = "gelu", **kwargs):
        # float32 even under mixed precision: bfloat16 cannot resolve the phases 1000 t f
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.dim = dim
        self.num_fourier = num_fourier
        self.activation = activation
        self.net = MLP(2 * dim, dim, use_bias=False, activation=activation, name="mlp")

    def build(self, input_shape):
        self.net.build((input_shape[0], self.num_fourier))

    def call(self, t):
        half = self.num_fourier // 2
        step = ops.log(ops.convert_to_tensor(10000.0, dtype=t.dtype)) / (half - 1)
        freq = ops.exp(-step * ops.arange(half, dtype=t.dtype))
        angle = t * freq * 1000.0
        fourier = ops.concatenate([ops.sin(angle), ops.cos(angle)], axis=-1) * t
        return self.net(fourier)

    def get_config(self):
        return {
            **super().get_config(),
            "dim": self.dim,
            "num_fourier": self.num_fourier,
            "activation": self.activation,
        }


@keras.saving.register_keras_serializable("omnilearn")
class FeatureDrop(layers.Layer):
    """With probability ``rate`` per jet, zero the features from column ``start`` on.

    Training only.  Applied to the charge and PID flags so that one body serves datasets with
    and without particle identification (paper Sec. II A, p = 0.2).  Input and output
    ``(batch, particles, features)``.
    """

    def __init__(self, rate: float, start: int, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self.start = start
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, x, training=None):
        if not training or self.rate <= 0 or self.start >= x.shape[-1]:
            return x
        keep = keras.random.uniform((ops.shape(x)[0], 1, 1), seed=self.seed_generator) >= self.rate
        keep = ops.cast(keep, x.dtype)
        return ops.concatenate([x[..., : self.start], x[..., self.start :] * keep], axis=-1)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "start": self.start, "seed": self.seed}


@keras.saving.register_keras_serializable("omnilearn")
class LayerDrop(layers.Layer):
    """With probability ``rate`` per sample, replace the whole input row with zeros (training only).

    Used on the class-label embedding of the generator head (paper Sec. II C, p = 0.1), which
    also makes classifier-free guidance possible.  Input and output ``(batch, dim)``.
    """

    def __init__(self, rate: float, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, x, training=None):
        if not training or self.rate <= 0:
            return x
        keep = keras.random.uniform((ops.shape(x)[0], 1), seed=self.seed_generator) >= self.rate
        return x * ops.cast(keep, x.dtype)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


@keras.saving.register_keras_serializable("omnilearn")
class ScaleShift(layers.Layer):
    """``x * (1 + scale) + shift`` with scale/shift from a per-jet condition.

    Inputs: ``x`` (batch, particles, dim), ``cond`` (batch, 2*dim), ``mask`` (batch, particles)
    or None.  With a mask the padded particles get no scale/shift, and with ``mask_output``
    (the default) the output is re-masked; without ``mask_output`` padded rows keep ``x`` (the
    authors' body, whose time condition is multiplied by the mask).  Without a mask every row
    is modulated (the authors' classifier head).
    """

    def __init__(self, mask_output: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.mask_output = mask_output

    def call(self, x, cond, mask=None):
        scale, shift = ops.split(cond, 2, axis=-1)
        scale, shift = scale[:, None, :], shift[:, None, :]
        if mask is None:
            return x * (1.0 + scale) + shift
        m = mask[..., None]
        if self.mask_output:
            return (x * (1.0 + scale) + shift) * m
        return x * (1.0 + scale * m) + shift * m

    def get_config(self):
        return {**super().get_config(), "mask_output": self.mask_output}


@keras.saving.register_keras_serializable("omnilearn")
class Masked(layers.Layer):
    """Zero the padded particles: ``x * mask[..., None]``."""

    def call(self, x, mask):
        return x * mask[..., None]


@keras.saving.register_keras_serializable("omnilearn")
class ParticleBroadcast(layers.Layer):
    """Copy a per-jet vector ``(batch, dim)`` to every real particle: ``(batch, particles, dim)``."""

    def call(self, vector, mask):
        return vector[:, None, :] * mask[..., None]
