import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

from omnilearn.config import ModelConfig

#: Command-line flags of a tiny model, for tests that run the scripts.
TINY_FLAGS = ["--projection_dim", "16", "--num_layers", "1", "--num_heads", "2", "--K", "3"]
TINY_FLAGS += ["--num_class_layers", "1", "--num_gen_layers", "1"]


@pytest.fixture
def small_config() -> ModelConfig:
    """A PET small enough for fast tests, with every component switched on."""
    return ModelConfig(num_classes=3, projection_dim=16, num_heads=2, num_layers=2, K=4, num_fourier=16)


def random_batch(n=6, p=12, f=13, c=3, seed=0, min_particles=2):
    """A batch dict with random multiplicities; padded rows are exactly zero."""
    rng = np.random.default_rng(seed)
    mult = rng.integers(min_particles, p + 1, n)
    mask = (np.arange(p)[None, :] < mult[:, None]).astype("float32")
    x = rng.normal(size=(n, p, f)).astype("float32") * mask[..., None]
    y = rng.integers(0, c, n)
    return {
        "particles": x,
        "mask": mask,
        "jet": rng.normal(size=(n, 4)).astype("float32"),
        "label": np.eye(c, dtype="float32")[y],
        "weight": rng.uniform(0.5, 1.5, n).astype("float32"),
    }
