#!/usr/bin/env python
"""CMS Open Data quark/gluon (Table III): `finetune.py --dataset cms`; --fine_tune for OmniLearn."""
import sys

from finetune import main

if __name__ == "__main__":
    sys.exit(main(["--dataset", "cms", *sys.argv[1:]]))
