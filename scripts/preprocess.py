#!/usr/bin/env python
"""`omnilearn preprocess ARGS`: a released dataset into unified train/val/test files."""

import sys

from omnilearn.cli import main

if __name__ == "__main__":
    sys.exit(main(["preprocess", *sys.argv[1:]]))
