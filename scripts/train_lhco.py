#!/usr/bin/env python
"""`omnilearn lhco-train ARGS` (see `omnilearn lhco-train --help`)."""

import sys

from omnilearn.cli import main

if __name__ == "__main__":
    sys.exit(main(["lhco-train", *sys.argv[1:]]))
