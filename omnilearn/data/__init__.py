"""Data: the unified format, the shared particle features, loaders and per-dataset preprocessors."""
