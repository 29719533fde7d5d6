#!/usr/bin/env python
"""`omnilearn pythia-tasks ARGS`: top and q/g on Pythia jets in the released formats."""

import sys

from omnilearn.cli import main

if __name__ == "__main__":
    sys.exit(main(["pythia-tasks", *sys.argv[1:]]))
