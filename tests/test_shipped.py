"""The shipped YAML catalogues read by libyaml give what ``yaml.safe_load`` gives."""

from importlib import resources

import pytest
import yaml

from gm_eval.shipped import read_yaml


@pytest.mark.parametrize("name", ["indicators.yaml", "profile_default.yaml",
                                  "recommendations.yaml"])
def test_read_yaml_is_safe_load(name):
    text = resources.files("gm_eval.data").joinpath(name).read_text("utf-8")
    assert read_yaml(name) == yaml.safe_load(text)
