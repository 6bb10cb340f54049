"""``python -m sphinx_cnncount.lint lint|diff ...``: the two subcommands on their own."""

import sys

from .cli import main

sys.exit(main())
