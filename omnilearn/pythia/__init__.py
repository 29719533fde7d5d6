"""The embedded default data: jets generated here with Pythia 8 and FastJet.

``generator`` makes JetClass-like jets in the unified format (cached, deterministic given the
seed); ``formats`` writes Pythia jets in the released layouts of the top-tagging, quark/gluon
and JetNet datasets, so that they go through the real converters of :mod:`omnilearn.datasets`.
"""
