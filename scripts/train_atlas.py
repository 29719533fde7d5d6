#!/usr/bin/env python
"""ATLAS top tagging (Table IV; --small for the 4M-jet subset): `finetune.py --dataset atlas`; --fine_tune for OmniLearn."""
import sys

from finetune import main

if __name__ == "__main__":
    sys.exit(main(["--dataset", "atlas", *sys.argv[1:]]))
