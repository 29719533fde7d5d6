"""The paper's datasets: one converter module per released format, all behind one registry.

``registry.get(name)`` gives a dataset's unified files and its ``preprocess(input, outdir)``,
which imports the converter module (``jetclass``, ``top``, ``qg``, ``cms``, ``atlas``, ``h1``,
``jetnet``) only when used, so h5py/uproot/pandas are loaded only for the format at hand.
"""
