#!/usr/bin/env python
"""`omnilearn evaluate ARGS` (--dataset jetnet30|jetnet150): JetNet metrics of generated jets."""

import sys

from omnilearn.cli import main

if __name__ == "__main__":
    sys.exit(main(["evaluate", *sys.argv[1:]]))
