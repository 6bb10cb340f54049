"""``python -m sphinx_cnncount`` is the ``cnncount`` command."""

import sys

from .cli import main

sys.exit(main())
