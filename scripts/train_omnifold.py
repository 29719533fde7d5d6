#!/usr/bin/env python
"""OmniFold (Tables VIII–IX): `omnilearn omnifold ARGS`; --fine_tune for OmniLearn; --dataset omnifold[_pythia]."""

import sys

from omnilearn.cli import main

if __name__ == "__main__":
    sys.exit(main(["omnifold", *sys.argv[1:]]))
