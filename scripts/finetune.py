#!/usr/bin/env python
"""`omnilearn finetune ARGS`: a task, fine-tuned (--fine_tune) or from scratch."""

import sys

from omnilearn.cli import main

if __name__ == "__main__":
    sys.exit(main(["finetune", *sys.argv[1:]]))
