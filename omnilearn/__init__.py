"""OmniLearn: a jet-physics foundation model (arXiv:2404.16091) in TensorFlow / Keras 3."""

__version__ = "0.1.0"
