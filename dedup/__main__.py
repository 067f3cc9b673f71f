"""``python -m dedup``: the command-line interface (see :mod:`dedup.cli`)."""

import sys

from dedup.cli import main

if __name__ == "__main__":
    sys.exit(main())
