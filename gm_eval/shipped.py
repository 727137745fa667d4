"""Reading the YAML catalogues shipped in ``gm_eval/data``.

One loader for the indicator registry, the default scoring profile and the
recommendation texts: libyaml's parser when PyYAML was built with it (ten times
faster than the pure-Python one), with the same safe constructor, so the result
is the Python objects ``yaml.safe_load`` gives. Users' own YAML files (profiles,
mappings) are read by ``yaml.safe_load`` itself, whose error messages the
documentation quotes.
"""

from __future__ import annotations

from importlib import resources

import yaml

__all__ = ["read_yaml"]


def read_yaml(name: str):
    """Parse the shipped file ``gm_eval/data/<name>``.

    Examples
    --------
    >>> sorted(read_yaml("profile_default.yaml"))[:2]
    ['bands', 'coverage_threshold']
    """
    text = resources.files("gm_eval.data").joinpath(name).read_text("utf-8")
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
