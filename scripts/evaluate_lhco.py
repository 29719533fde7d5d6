#!/usr/bin/env python
"""`omnilearn lhco-evaluate ARGS` (see `omnilearn lhco-evaluate --help`)."""

import sys

from omnilearn.cli import main

if __name__ == "__main__":
    sys.exit(main(["lhco-evaluate", *sys.argv[1:]]))
