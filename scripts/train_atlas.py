#!/usr/bin/env python
"""ATLAS top tagging (Table IV; --small: 4M-jet subset): `omnilearn finetune --dataset atlas ARGS`."""

import sys

from omnilearn.cli import main

if __name__ == "__main__":
    sys.exit(main(["finetune", "--dataset", "atlas", *sys.argv[1:]]))
