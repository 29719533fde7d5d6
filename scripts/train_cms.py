#!/usr/bin/env python
"""CMS Open Data quark/gluon (Table III): `omnilearn finetune --dataset cms ARGS`."""

import sys

from omnilearn.cli import main

if __name__ == "__main__":
    sys.exit(main(["finetune", "--dataset", "cms", *sys.argv[1:]]))
