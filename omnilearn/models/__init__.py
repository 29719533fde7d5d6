"""PET body, heads, the OmniLearn keras.Model and the diffusion schedule."""

from .omnilearn import MODES, OmniLearn
from .pet import build_body, build_classifier, build_generator

__all__ = ["MODES", "OmniLearn", "build_body", "build_classifier", "build_generator"]
