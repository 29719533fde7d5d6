"""Local encoding: a dynamic graph (DGCNN) edge convolution over the k nearest neighbours."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers, ops

from .embedding import MLP

# Added to the distance of excluded pairs (padding, self); far above any real distance.
_FAR = 1e9


def knn(points, mask, k: int):
    """Indices of the k nearest real neighbours of every particle, excluding itself.

    Args:
        points: ``(batch, particles, dims)`` coordinates of the metric.
        mask: ``(batch, particles)`` 1 for real particles.
        k: number of neighbours.

    Returns:
        ``idx`` ``(batch, particles, k)`` int indices into ``particles + k`` slots (the last k
        are dummies that stand in when a jet has fewer than k + 1 particles) and ``valid``
        ``(batch, particles, k)`` 1 where the neighbour is a real particle.
    """
    # float32 even under mixed precision: the distance expansion cancels digits
    points, mask = ops.cast(points, "float32"), ops.cast(mask, "float32")
    sq = ops.sum(points * points, axis=-1)
    dist = sq[:, :, None] + sq[:, None, :] - 2.0 * ops.einsum("bid,bjd->bij", points, points)
    n = ops.shape(points)[1]
    excluded = (1.0 - mask[:, None, :]) + ops.eye(n, dtype=points.dtype)[None]
    dist = dist + _FAR * ops.minimum(excluded, 1.0)
    # k dummy columns keep top_k defined for jets (or test inputs) with <= k particles.
    batch = ops.shape(points)[0]
    dist = ops.concatenate([dist, ops.full((batch, n, k), 2 * _FAR, dtype=dist.dtype)], axis=-1)
    neg, idx = ops.top_k(-dist, k=k)
    valid = ops.cast(-neg < 0.5 * _FAR, points.dtype)
    return idx, valid


def knn_with_padding(points, mask, k: int):
    """The authors' neighbourhood: the k nearest slots, padding included, after the nearest one.

    Padded slots are moved 999 away in every coordinate (so they neighbour each other), the
    squared distances get +1e-5, and ``top_k(k + 1)`` minus its first entry (the particle itself,
    or for ties the lowest index) gives ``(batch, particles, k)`` indices.  The same arithmetic
    as the authors' code, so that near ties resolve the same way.
    """
    points = ops.cast(points, "float32") + 999.0 * (1.0 - ops.cast(mask, "float32")[..., None])
    r = ops.sum(points * points, axis=2, keepdims=True)
    m = ops.matmul(points, ops.transpose(points, (0, 2, 1)))
    dist = r - 2 * m + ops.transpose(r, (0, 2, 1)) + 1e-5
    _, idx = ops.top_k(-dist, k=k + 1)
    return idx[:, :, 1:]


@keras.saving.register_keras_serializable("omnilearn")
class EdgeConv(layers.Layer):
    """One DGCNN layer: edges ``[x_i, x_j - x_i]`` → two GELU MLP layers → mean over neighbours.

    The neighbourhood is the ``k`` nearest real particles in ``points`` (Δη–Δφ for the first
    layer, the previous layer's output for the second).  Neighbours that are padding are left
    out of the mean, so extra padded particles change nothing.

    ``exclude_padding=False`` is the authors' variant: neighbours from :func:`knn_with_padding`,
    all k in the mean, and padded particles get an output too.  (Their edges are ordered
    ``[x_j - x_i, x_i]``; that is the same layer with the kernel's two row blocks swapped,
    which :mod:`omnilearn.models.upstream` does on import.)

    ``recompute``: the backward pass recomputes the layer (``tf.recompute_grad``) instead of
    keeping its ``(batch, particles, k, 2 dim)`` edge tensors; same gradients, less memory.

    Inputs: ``points`` (batch, particles, d), ``features`` (batch, particles, f), ``mask``
    (batch, particles).  Output: (batch, particles, dim), zero on padded particles unless
    ``exclude_padding`` is False.
    """

    def __init__(self, dim: int, k: int = 10, exclude_padding: bool = True, recompute: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.dim = dim
        self.k = k
        self.exclude_padding = exclude_padding
        self.recompute = recompute
        self.net = MLP(2 * dim, dim, name="mlp")

    def build(self, points_shape, features_shape=None, mask_shape=None):
        self.net.build((None, None, None, 2 * features_shape[-1]))

    def call(self, points, features, mask):
        if self.recompute:
            return tf.recompute_grad(self._forward)(points, features, mask)
        return self._forward(points, features, mask)

    def _forward(self, points, features, mask):
        if self.exclude_padding:
            idx, valid = knn(points, mask, self.k)
        else:
            idx, valid = knn_with_padding(points, mask, self.k), None
        batch, num, f = ops.shape(features)[0], ops.shape(features)[1], features.shape[-1]
        # The first dense layer is linear in [x_i, x_j - x_i]: with its kernel split as
        # [W_c; W_d] it equals x_i (W_c - W_d) + b + x_j W_d, so it runs once per particle and
        # only its output is gathered, k times cheaper than on every edge (same weights).
        dense_0 = self.net.dense_0
        kernel = ops.cast(dense_0.kernel, features.dtype)
        own = ops.matmul(features, kernel[:f] - kernel[f:])
        if dense_0.use_bias:
            own = own + ops.cast(dense_0.bias, features.dtype)
        other = ops.matmul(features, kernel[f:])
        # Dummy slots (index >= particles) are invalid and weighted 0 below; any real row will do.
        # int32 rows gathered per jet: take_along_axis would build int64 indices of the
        # gathered tensor's full (batch, particles * k, dim) shape
        flat = ops.minimum(ops.reshape(ops.cast(idx, "int32"), (batch, -1)), num - 1)
        neighbours = tf.gather(other, flat, axis=1, batch_dims=1)
        neighbours = ops.reshape(neighbours, (batch, num, self.k, ops.shape(other)[-1]))
        edges = self.net.dense_1(dense_0.activation(own[:, :, None, :] + neighbours))
        if valid is None:
            return ops.mean(edges, axis=2)
        valid = ops.cast(valid[..., None], edges.dtype)
        pooled = ops.sum(edges * valid, axis=2) / ops.maximum(ops.sum(valid, axis=2), 1.0)
        return pooled * mask[..., None]

    def compute_output_shape(self, points_shape, features_shape=None, mask_shape=None):
        return tuple(features_shape[:-1]) + (self.dim,)

    def get_config(self):
        return {
            **super().get_config(),
            "dim": self.dim,
            "k": self.k,
            "exclude_padding": self.exclude_padding,
            "recompute": self.recompute,
        }
