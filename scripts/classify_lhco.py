#!/usr/bin/env python
"""`omnilearn lhco-classify ARGS` (see `omnilearn lhco-classify --help`)."""

import sys

from omnilearn.cli import main

if __name__ == "__main__":
    sys.exit(main(["lhco-classify", *sys.argv[1:]]))
