"""The variance-preserving cosine diffusion schedule and v-parameterisation (paper Sec. II D).

x̂ = α(t) x + σ(t) ε with α = cos(πt/2), σ = sin(πt/2), so α(0) = 1, σ(0) = 0 and α(1) = 0,
σ(1) = 1; the network predicts v = α ε − σ x.  Because α² + σ² = 1, the clean data and noise
come back from (x̂, v) without division: x = α x̂ − σ v and ε = σ x̂ + α v, which keeps
sampling stable at both ends of the interval.
"""

from __future__ import annotations

import math

import numpy as np
from keras import ops

from ..data.features import diffused_columns


def alpha_sigma(t):
    """α(t), σ(t) for t of any shape."""
    angle = 0.5 * math.pi * t
    return ops.cos(angle), ops.sin(angle)


def perturb(x, t, noise, mask, features=None):
    """Noised particles and the velocity target.

    Args:
        x: clean particles ``(B, P, F)``; t: ``(B, 1)``; noise: ε ``(B, P, F)``; mask ``(B, P)``;
        features: ``(F,)`` 1 for the diffused features (``ModelConfig.num_diffusion``), or None
            for all. The others are set to 0 in x̂ and v, as the authors do.

    Returns:
        ``(x̂, v)``, both ``(B, P, F)`` and zero on padded particles.
    """
    alpha, sigma = alpha_sigma(t[:, :, None])
    m = mask[..., None]
    if features is not None:
        m = m * ops.cast(features, m.dtype)
    noise = noise * m
    return (alpha * x + sigma * noise) * m, (alpha * noise - sigma * x) * m


def feature_mask(num_feat: int, num_diffusion: int):
    """``(F,)`` float32, 1 on the diffused columns (:func:`~omnilearn.data.features.diffused_columns`)."""
    mask = np.zeros(num_feat, np.float32)
    mask[diffused_columns(num_feat, num_diffusion)] = 1.0
    return mask


def predict_x0_eps(x_t, v, t):
    """Invert the v-parameterisation: ``(x̂_0, ε̂)`` from the noised input and predicted v."""
    alpha, sigma = alpha_sigma(t[:, :, None])
    return alpha * x_t - sigma * v, sigma * x_t + alpha * v
