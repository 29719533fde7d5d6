#!/usr/bin/env python
"""H1 DIS Rapgap vs Djangoh (Table V): `omnilearn finetune --dataset h1 ARGS`."""

import sys

from omnilearn.cli import main

if __name__ == "__main__":
    sys.exit(main(["finetune", "--dataset", "h1", *sys.argv[1:]]))
