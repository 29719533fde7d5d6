#!/usr/bin/env python
"""`omnilearn sample ARGS`: JetNet jets from a trained generator run."""

import sys

from omnilearn.cli import main

if __name__ == "__main__":
    sys.exit(main(["sample", *sys.argv[1:]]))
