"""``python -m strategies.cli``: the ``tickstate`` command."""

import sys

from strategies.cli import main

sys.exit(main())
