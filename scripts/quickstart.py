#!/usr/bin/env python
"""`omnilearn quickstart ARGS`: Pythia jets, pretrain, fine-tune, evaluate, plot."""

import sys

from omnilearn.cli import main

if __name__ == "__main__":
    sys.exit(main(["quickstart", *sys.argv[1:]]))
