"""Decoy personal data: names, phone numbers and free text that must never reach an output.

Every decoy value contains one of :data:`DECOY_MARKERS`, so a leak test can
search any output file for ``"DECOY"``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from gm_eval.contract import CATEGORIES
from gm_eval.synth._util import arrow_to_str

__all__ = ["DECOY_MARKERS", "decoy_names", "decoy_phones", "decoy_text", "decoy_comments"]

#: Substrings present in every decoy value (``"DECOY"`` is in all of them).
DECOY_MARKERS: tuple[str, ...] = ("DECOY", "DECOYNAME", "DECOY-Name-", "+66-DECOY-", "DECOYTEXT")

_FIRST_NAMES = np.array([
    "Somchai", "Nguyen Thi Lan", "Ama", "Kofi", "Rahima", "Maria", "Siti", "Juan", "Aung",
    "Fatima", "Kwame", "Priya", "Mei Ling", "Arjun", "Joy", "Bui Van Hung", "Akosua", "Wanjiru",
    "Dewi", "Malee", "Sokha", "Nasrin", "Rosa", "Tuan",
    # non-ASCII names: files must round-trip as UTF-8
    "Nguyễn Thị Ánh", "สมชาย", "রহিমা", "Zoë",
], dtype=object)

_CASE_TEXT = {
    "child_labour": "Children under 15 seen working at the drying area during school hours",
    "sexual_exploitation_abuse": "Images of a child shared online and offers made through a chat group",
    "sexual_harassment": "Line supervisor makes comments and touches workers on night shift",
    "forced_labour": "Recruitment fee debt deducted from pay and passport kept by the agent",
    "wages_benefits": "Overtime not paid for the last two months and piece rate cut",
    "working_hours": "Made to work 14 hours a day for three weeks before shipment",
    "health_safety": "No gloves or masks when spraying, two workers fainted",
    "discrimination": "Pregnant workers not renewed and migrants paid less for the same work",
    "retaliation": "After complaining I was moved to the worst line and threatened with dismissal",
    "other": "Canteen food is bad and the bus to the dormitory is always late",
}
_COMMENTS = np.array([
    "Nobody told me what happened after I called",
    "The helpline staff spoke my language and were kind",
    "I am afraid the supervisor will find out",
    "We need a box where we can write without our name",
    "My friend complained and was moved to another line",
    "I did not know there was a hotline",
], dtype=object)


_POOL = 20_000


def _numbers(rng: np.random.Generator, n: int, digits: int) -> pd.Series:
    return pd.Series(rng.integers(0, 10**digits, n)).astype("str").str.zfill(digits)


def _take(pool: pd.Series, idx: np.ndarray, valid: np.ndarray | None = None) -> pd.Series:
    """``pool[idx]`` as a fresh ``str`` Series, blank where not ``valid`` (pyarrow take)."""
    arr = pa.array(pool.to_numpy(dtype=object), pa.string())
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    return arrow_to_str(pc.take(arr, pa.array(np.asarray(idx, dtype="int64"), mask=mask)))


def _from_pool(rng: np.random.Generator, pool: pd.Series, n: int,
               valid: np.ndarray | None = None) -> pd.Series:
    """``n`` values drawn from a prepared pool (keeps large tables fast)."""
    return _take(pool, rng.integers(0, len(pool), n), valid)


def _name_pool(rng: np.random.Generator, size: int) -> pd.Series:
    first = pd.Series(_FIRST_NAMES[rng.integers(0, len(_FIRST_NAMES), size)]).astype("str")
    num = _numbers(rng, size, 6)
    variant = rng.integers(0, 3, size)
    a = first + " DECOYNAME"
    b = "DECOY-Name-" + num
    c = first + " DECOY-Name-" + num
    return a.where(variant == 0, b.where(variant == 1, c))


def decoy_names(rng: np.random.Generator, n: int, valid: np.ndarray | None = None) -> pd.Series:
    """Fake names, e.g. ``"Somchai DECOYNAME"`` or ``"DECOY-Name-004217"``; blank where not ``valid``."""
    return _from_pool(rng, _name_pool(rng, min(n, _POOL) or 1), n, valid)


def decoy_phones(rng: np.random.Generator, n: int, valid: np.ndarray | None = None) -> pd.Series:
    """Fake phone numbers ``+66-DECOY-<7 digits>``; blank where not ``valid``."""
    return _from_pool(rng, "+66-DECOY-" + _numbers(rng, min(n, _POOL) or 1, 7), n, valid)


def decoy_text(rng: np.random.Generator, category_codes: np.ndarray,
               valid: np.ndarray | None = None) -> pd.Series:
    """Case descriptions matching the category, with ``DECOYTEXT`` and sometimes a name.

    ``category_codes`` index :data:`gm_eval.contract.CATEGORIES`.
    """
    codes = np.asarray(category_codes, dtype="int64")
    n = len(codes)
    per = max(1, min(n, _POOL) // len(CATEGORIES))
    body = pd.Series(np.repeat([_CASE_TEXT.get(c, _CASE_TEXT["other"]) for c in CATEGORIES], per)).astype("str")
    pool = body + " [DECOYTEXT-" + _numbers(rng, len(body), 5) + "]"
    with_name = rng.random(len(pool)) < 0.2
    pool = ("My name is " + _name_pool(rng, len(pool)) + ". " + pool).where(with_name, pool)
    return _take(pool, codes * per + rng.integers(0, per, n), valid)


def decoy_comments(rng: np.random.Generator, n: int, share: float = 0.3) -> pd.Series:
    """Survey comments with ``DECOYTEXT``; blank for ``1 - share`` of respondents."""
    pool = pd.Series(_COMMENTS).astype("str") + " (DECOYTEXT)"
    return _from_pool(rng, pool, n, rng.random(n) < share)
