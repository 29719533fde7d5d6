"""Drop the padding a batch does not need (an exact speed-up: the model is padding invariant).

Files pad every jet to P particles (150 for JetClass) although a batch of 256 JetClass-like
jets rarely holds one with more than ~100.  Attention costs grow as P² and everything else
as P, so cutting the particle axis after the batch's last real particle saves most of the
work on padding, and the masked model gives the same outputs and losses on the real particles.
Rounding the cut up to a multiple keeps the number of distinct shapes small, so XLA compiles
the training step only a few times.
"""

from __future__ import annotations

import tensorflow as tf

#: particle keys cut together (everything else in a batch is per jet)
PARTICLE_KEYS = ("particles", "mask")


def trimmed_length(mask, multiple: int = 16):
    """Particles to keep: one past the batch's last real particle, rounded up to ``multiple``.

    Args:
        mask: ``(B, P)`` 1 for real particles (anywhere along the axis; order is not assumed).
        multiple: round up to a multiple of this (at least ``multiple``, at most P).

    Returns:
        scalar int32 tensor.
    """
    if multiple < 1:
        raise ValueError(f"multiple must be >= 1, got {multiple}")
    mask = tf.convert_to_tensor(mask)
    num = tf.shape(mask)[1]
    position = tf.range(1, num + 1, dtype=mask.dtype)
    last = tf.cast(tf.reduce_max(tf.cast(mask > 0, mask.dtype) * position[None, :]), tf.int32)
    rounded = (tf.maximum(last, 1) + multiple - 1) // multiple * multiple
    return tf.minimum(rounded, num)


def trim_padding(batch: dict, multiple: int = 16) -> dict:
    """The batch with its particle axis cut to :func:`trimmed_length` (usable in ``Dataset.map``)."""
    n = trimmed_length(batch["mask"], multiple)
    return {k: (v[:, :n] if k in PARTICLE_KEYS else v) for k, v in batch.items()}
