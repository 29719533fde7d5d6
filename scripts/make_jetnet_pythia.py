#!/usr/bin/env python
"""`omnilearn generate-pythia --format jetnet ARGS`: Pythia t/W/Z jets as JetNet files."""

import sys

from omnilearn.cli import main

if __name__ == "__main__":
    sys.exit(main(["generate-pythia", "--format", "jetnet", *sys.argv[1:]]))
