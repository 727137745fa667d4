"""gm_eval."""
