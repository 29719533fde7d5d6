#!/usr/bin/env python
"""Quark/gluon (Table II): `omnilearn finetune --dataset qg ARGS`; --fine_tune for OmniLearn."""

import sys

from omnilearn.cli import main

if __name__ == "__main__":
    sys.exit(main(["finetune", "--dataset", "qg", *sys.argv[1:]]))
