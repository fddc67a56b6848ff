"""``python -m nanogest``: the same as the installed ``nanogest`` command."""

import sys

from nanogest.cli import main

if __name__ == "__main__":
    sys.exit(main())
