#!/usr/bin/env python
"""`omnilearn lhco-sample ARGS` (see `omnilearn lhco-sample --help`)."""

import sys

from omnilearn.cli import main

if __name__ == "__main__":
    sys.exit(main(["lhco-sample", *sys.argv[1:]]))
