#!/usr/bin/env python
"""`omnilearn report ARGS`: paper-style tables, ROC and loss plots of the evaluated tasks, and docs/results.md."""

import sys

from omnilearn.cli import main

if __name__ == "__main__":
    sys.exit(main(["report", *sys.argv[1:]]))
