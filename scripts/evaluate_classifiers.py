#!/usr/bin/env python
"""`omnilearn evaluate ARGS`: classifiers of a task on its test split."""

import sys

from omnilearn.cli import main

if __name__ == "__main__":
    sys.exit(main(["evaluate", *sys.argv[1:]]))
