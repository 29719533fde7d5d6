#!/usr/bin/env python
"""JetNet generator and jet-level model: `omnilearn finetune ARGS` (--dataset jetnet30|jetnet150)."""

import sys

from omnilearn.cli import main

if __name__ == "__main__":
    sys.exit(main(["finetune", *sys.argv[1:]]))
