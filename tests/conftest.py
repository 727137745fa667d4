"""Test-wide settings: a throw-away pseudonymisation key, never the user's own."""

from __future__ import annotations

import os
import tempfile

# Set before any test imports gm_eval code that reads the key location.
_CONFIG_DIR = tempfile.mkdtemp(prefix="gm-eval-test-config-")
os.environ.setdefault("GM_EVAL_CONFIG_DIR", _CONFIG_DIR)
