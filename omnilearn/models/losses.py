"""Per-jet loss terms of OmniLearn (paper Eq. 2) and their weighted batch average.

Every term is first reduced to one number per jet, then averaged as ``mean(weight * loss)``
over the batch (Keras' sample-weight convention).  That average is linear in the jets, so
gradients averaged over Horovod ranks with equal local batches equal those of the combined
batch.
"""

from __future__ import annotations

from keras import ops


def cross_entropy(labels, logits):
    """Categorical cross entropy per jet: labels one-hot ``(B, C)``, logits ``(B, C)`` → ``(B,)``."""
    return -ops.sum(labels * ops.log_softmax(logits, axis=-1), axis=-1)


def velocity_error(v, v_pred, mask, features=None):
    """‖v − v̂‖² averaged over the real particles and (diffused) features of each jet → ``(B,)``.

    ``v``, ``v_pred``: ``(B, P, F)``; ``mask``: ``(B, P)``; ``features``: ``(F,)`` 1 for the
    diffused features, or None for all.  Averaging per jet (not over the batch's particles)
    gives every jet the same say whatever its multiplicity.
    """
    sq = ops.square(v - v_pred) * mask[..., None]
    if features is None:
        count = ops.cast(ops.shape(v)[-1], v.dtype)
    else:
        features = ops.cast(features, v.dtype)
        sq, count = sq * features, ops.sum(features)
    return ops.sum(sq, axis=(1, 2)) / (ops.maximum(ops.sum(mask, axis=1), 1.0) * count)


def jet_error(jet, predicted):
    """Mean squared error over the jet features of each jet (the jet regression) → ``(B,)``."""
    return ops.mean(ops.square(jet - predicted), axis=-1)


def weighted_mean(per_jet, weight):
    """``mean(weight * per_jet)`` over the batch."""
    return ops.mean(per_jet * weight)
