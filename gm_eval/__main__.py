"""``python -m gm_eval``: the gm-eval command line."""

import sys

from gm_eval.cli import main

sys.exit(main())
