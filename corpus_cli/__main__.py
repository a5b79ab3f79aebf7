"""`python -m corpus_cli`: the `corpus` command run from a checkout."""

import sys

from corpus_cli.main import main

if __name__ == "__main__":
    sys.exit(main())
