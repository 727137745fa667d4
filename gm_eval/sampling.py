"""Sample sizes for estimating a rate from a survey.

How many workers (or children) to interview so that a rate such as the share
who trust the mechanism is known within ``± margin`` with the given
confidence. Two methods:

``normal`` (default, the textbook formula)
    :math:`n_0 = z^2 p (1 - p) / e^2` with :math:`z` the normal quantile of
    ``(1 + confidence) / 2``; :math:`n_0` rounded up is the classic 385 for
    ±5 % at 95 % with :math:`p = 0.5`.
``wilson``
    The smallest :math:`n_0` for which the half-width of the Wilson score
    interval (the interval gm-eval reports) at the planned :math:`p` is at
    most ``margin``; usually within a few respondents of the normal answer
    (381 instead of 385 for ±5 % at 95 % with :math:`p = 0.5`).

With a finite population of size :math:`N` (the workforce), the finite
population correction gives :math:`n = n_0 / (1 + (n_0 - 1) / N)`, rounded up
(278 for ±5 % at 95 % with :math:`N = 1000`). Dividing by the expected
response rate gives how many people to approach.

Use :math:`p = 0.5` unless a previous survey suggests otherwise: it is the
worst case and so always safe.

Examples
--------
>>> sample_size(0.05)
385
>>> sample_size(0.05, population=1000)
278
"""

from __future__ import annotations

import math

from scipy.stats import norm

from gm_eval.errors import InputError

__all__ = ["sample_size", "wilson_half_width"]


def wilson_half_width(n: float, p: float = 0.5, confidence: float = 0.95) -> float:
    """Half-width of the Wilson score interval for an observed proportion ``p`` out of ``n``.

    Parameters
    ----------
    n : float
        Sample size (> 0).
    p : float
        Observed proportion in [0, 1].
    confidence : float
        Two-sided confidence level.

    Returns
    -------
    float
        :math:`z \\sqrt{p(1-p)/n + z^2/(4n^2)} / (1 + z^2/n)`.
    """
    z = norm.ppf(0.5 + confidence / 2)
    return z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)


def _check(margin: float, p: float, confidence: float, population: int | None,
           response_rate: float) -> None:
    if not 0 < margin < 0.5:
        raise InputError(f"margin must be between 0 and 0.5 (e.g. 0.05 for ±5 points), got {margin}")
    if not 0 <= p <= 1:
        raise InputError(f"p must be a proportion between 0 and 1, got {p}")
    if not 0.5 <= confidence < 1:
        raise InputError(f"confidence must be at least 0.5 and below 1, got {confidence}")
    if population is not None and population < 1:
        raise InputError(f"population must be a positive whole number, got {population}")
    if not 0 < response_rate <= 1:
        raise InputError(f"response_rate must be in (0, 1], got {response_rate}")


def sample_size(margin: float, p: float = 0.5, confidence: float = 0.95,
                population: int | None = None, method: str = "normal",
                response_rate: float = 1.0) -> int:
    """Number of completed responses needed to estimate a rate within ``± margin``.

    Parameters
    ----------
    margin : float
        Target half-width of the confidence interval, as a proportion (0.05 = ±5 points).
    p : float, default 0.5
        Expected rate; 0.5 is the conservative choice.
    confidence : float, default 0.95
        Two-sided confidence level.
    population : int, optional
        Size of the population surveyed (e.g. the workforce); applies the finite
        population correction. ``None`` means very large.
    method : {"normal", "wilson"}
        Normal approximation (textbook) or Wilson score interval half-width.
    response_rate : float, default 1
        Expected share of people approached who complete the survey; the result is
        divided by it (and capped at ``population``).

    Returns
    -------
    int
        Required number of people (completed responses when ``response_rate`` is 1),
        never more than ``population``.

    Raises
    ------
    gm_eval.errors.InputError
        On a margin, rate, confidence or population out of range.

    Examples
    --------
    >>> sample_size(0.05), sample_size(0.05, population=800), sample_size(0.1)
    (385, 260, 97)
    """
    _check(margin, p, confidence, population, response_rate)
    z = norm.ppf(0.5 + confidence / 2)
    if method == "normal":
        n0 = z * z * p * (1 - p) / (margin * margin)
        if n0 == 0:  # p is 0 or 1: the normal formula degenerates
            n0 = 1.0
    elif method == "wilson":
        lo, hi = 1, 1
        while wilson_half_width(hi, p, confidence) > margin:
            hi *= 2
        while lo < hi:  # smallest integer n with half-width <= margin (monotone in n)
            mid = (lo + hi) // 2
            if wilson_half_width(mid, p, confidence) <= margin:
                hi = mid
            else:
                lo = mid + 1
        n0 = float(lo)
    else:
        raise InputError(f"method must be 'normal' or 'wilson', got {method!r}")
    n = n0 if population is None else n0 / (1 + (n0 - 1) / population)
    # guard against float noise such as 384.00000000001 before rounding up
    n = math.ceil(round(n, 9))
    n = math.ceil(round(n / response_rate, 9))
    if population is not None:
        n = min(n, int(population))
    return int(n)
