"""Sample sizes against textbook values and an independent Wilson computation."""

from __future__ import annotations

import math

import pytest
from statsmodels.stats.proportion import proportion_confint

from gm_eval.errors import InputError
from gm_eval.sampling import sample_size, wilson_half_width


@pytest.mark.parametrize(("margin", "population", "expected"), [
    (0.05, None, 385),    # the classic: ±5 points, 95 %, p = 0.5
    (0.03, None, 1068),   # ±3 points
    (0.10, None, 97),     # ±10 points
    (0.05, 1000, 278),    # finite population correction
    (0.05, 500, 217),     # Krejcie & Morgan (1970) table: N=500 -> 217 (their 217.47 rounded to nearest)
    (0.05, 100, 80),      # Krejcie & Morgan: N=100 -> 80
])
def test_textbook_values(margin, population, expected):
    got = sample_size(margin, population=population)
    if population == 500:  # we round our 217.49 up (never too few), K&M to nearest: within 1
        assert abs(got - expected) <= 1
    else:
        assert got == expected


def test_confidence_and_p():
    # 99 %: z = 2.5758, n = 2.5758^2 * .25 / .05^2 = 663.5 -> 664
    assert sample_size(0.05, confidence=0.99) == 664
    # p = 0.2: 1.96^2 * .16 / .0025 = 245.9 -> 246
    assert sample_size(0.05, p=0.2) == 246
    # 90 %: z = 1.6449, n = 270.5 -> 271
    assert sample_size(0.05, confidence=0.90) == 271


def test_response_rate_and_cap():
    assert sample_size(0.05, response_rate=0.5) == 770
    assert sample_size(0.05, population=300, response_rate=0.5) == 300  # cannot exceed N
    assert sample_size(0.05, population=10) <= 10


@pytest.mark.parametrize("p", [0.5, 0.3, 0.1])
def test_wilson_method_is_smallest_n(p):
    n = sample_size(0.05, p=p, method="wilson")

    def half(k):  # independent: statsmodels' Wilson interval for k*p successes out of k
        lo, hi = proportion_confint(p * k, k, alpha=0.05, method="wilson")
        return (hi - lo) / 2

    assert half(n) <= 0.05 + 1e-12 < half(n - 1)
    assert math.isclose(wilson_half_width(n, p), half(n), rel_tol=1e-9)


@pytest.mark.parametrize("kwargs", [dict(margin=0), dict(margin=0.6), dict(margin=0.05, p=1.5),
                                    dict(margin=0.05, confidence=1.0),
                                    dict(margin=0.05, population=0),
                                    dict(margin=0.05, method="exact")])
def test_bad_arguments(kwargs):
    with pytest.raises(InputError):
        sample_size(**kwargs)
