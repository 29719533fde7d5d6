"""``python -m omnilearn COMMAND ...``: the ``omnilearn`` command (:mod:`omnilearn.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
