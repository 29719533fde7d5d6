#!/usr/bin/env python
"""Quark/gluon (Table II): `finetune.py --dataset qg`; --fine_tune for OmniLearn."""
import sys

from finetune import main

if __name__ == "__main__":
    sys.exit(main(["--dataset", "qg", *sys.argv[1:]]))
