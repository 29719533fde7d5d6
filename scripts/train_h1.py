#!/usr/bin/env python
"""H1 DIS Rapgap vs Djangoh (Table V): `finetune.py --dataset h1`; --fine_tune for OmniLearn."""
import sys

from finetune import main

if __name__ == "__main__":
    sys.exit(main(["--dataset", "h1", *sys.argv[1:]]))
