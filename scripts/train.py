#!/usr/bin/env python
"""`omnilearn train ARGS`: pretrain OmniLearn (see `omnilearn train --help`)."""

import sys

from omnilearn.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
