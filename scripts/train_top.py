#!/usr/bin/env python
"""Top tagging (Table I): `omnilearn finetune --dataset top ARGS`; --fine_tune for OmniLearn."""

import sys

from omnilearn.cli import main

if __name__ == "__main__":
    sys.exit(main(["finetune", "--dataset", "top", *sys.argv[1:]]))
