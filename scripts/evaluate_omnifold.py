#!/usr/bin/env python
"""`omnilearn omnifold-evaluate ARGS`: OmniFold runs on the test split (Tables VIII–IX, Figs. 7–9)."""

import sys

from omnilearn.cli import main

if __name__ == "__main__":
    sys.exit(main(["omnifold-evaluate", *sys.argv[1:]]))
