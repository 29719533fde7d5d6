"""What training reads: the unified HDF5 format, the Table X particle features, the streaming
loader and padding helpers. Converters of the released formats live in :mod:`omnilearn.datasets`."""
