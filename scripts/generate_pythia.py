#!/usr/bin/env python
"""`omnilearn generate-pythia ARGS`: embedded Pythia 8 jets (unified or a released format)."""

import sys

from omnilearn.cli import main

if __name__ == "__main__":
    sys.exit(main(["generate-pythia", *sys.argv[1:]]))
