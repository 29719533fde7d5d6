#!/usr/bin/env python
"""Top tagging (Table I): `finetune.py --dataset top`; --fine_tune for OmniLearn."""
import sys

from finetune import main

if __name__ == "__main__":
    sys.exit(main(["--dataset", "top", *sys.argv[1:]]))
