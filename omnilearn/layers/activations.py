"""A memory-lean exact GELU: the same values and gradient as TensorFlow's, keeping only its input.

The lean gradient pays off where TensorFlow runs op by op (it keeps 3–4 intermediates of each
activation for the backward pass). Under XLA, and where no gradient is taken, the plain formula
is better: XLA fuses the element-wise chain and keeps no extra copies either, while the custom
gradient's boundary blocks that fusion (a paper-size step is about a third slower with it).
Models switch with :func:`fused`, around the code they trace.
"""

from __future__ import annotations

import contextlib
import math
import threading

import keras
import tensorflow as tf

_SQRT_HALF = 0.7071067811865476
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@tf.custom_gradient
def _gelu(x):
    # TF's exact GELU, in its order of operations, so the outputs are bitwise the same
    c = tf.cast(_SQRT_HALF, x.dtype)
    y = 0.5 * x * tf.math.erfc(-x * c)

    def grad(dy):
        # d/dx x·Φ(x) = Φ(x) + x·φ(x), recomputed from x: TF's autodiff keeps erfc's
        # intermediates alive for the backward pass, 3–4 tensors of x's size per activation
        cdf = 0.5 * tf.math.erfc(-x * c)
        pdf = tf.cast(_INV_SQRT_2PI, x.dtype) * tf.exp(-0.5 * x * x)
        return dy * (cdf + x * pdf)

    return y, grad


_state = threading.local()


@contextlib.contextmanager
def fused(enabled: bool = True):
    """Inside, :func:`gelu` is TF's plain exact GELU (for XLA-compiled or gradient-free code
    being traced); outside, the lean custom-gradient one. Values are the same either way."""
    previous = getattr(_state, "fused", False)
    _state.fused = bool(enabled)
    try:
        yield
    finally:
        _state.fused = previous


@keras.saving.register_keras_serializable("omnilearn")
def gelu(x):
    """Exact GELU ``x Φ(x)`` (erf form) whose backward pass saves only ``x``; any shape
    (TF's own inside :func:`fused`)."""
    x = tf.convert_to_tensor(x)
    if getattr(_state, "fused", False):
        return tf.nn.gelu(x, approximate=False)
    return _gelu(x)


def get(name: str):
    """The activation named ``name``: :func:`gelu` for ``"gelu"``, else Keras' own."""
    return gelu if name == "gelu" else keras.activations.get(name)
