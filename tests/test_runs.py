"""gm_eval.runs: columns read by runs of equal values, against row-by-row answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gm_eval.runs import per_run, value_runs

ARROW = pd.StringDtype("pyarrow", na_value=np.nan)


@pytest.mark.parametrize("seed", range(3))
def test_per_run_equals_the_test_on_every_row(seed):
    rng = np.random.default_rng(seed)
    ids = [f"M{i}" for i in rng.integers(0, 20, 300)]  # ids recur in runs apart
    values = np.repeat(ids, rng.integers(1, 50, len(ids))).tolist()
    s = pd.Series(values, dtype=ARROW)
    starts, vals = value_runs(s)
    assert starts[0] == 0 and all(values[i] == v for i, v in zip(starts, vals, strict=True))
    assert all(values[i] != values[i - 1] for i in starts[1:])  # a run starts at each change
    test = {f"M{i}" for i in range(0, 20, 3)}.__contains__
    np.testing.assert_array_equal(per_run(s, test), np.array([test(v) for v in values]))


def test_columns_not_read_by_runs():
    grouped = ["a"] * 40 + ["b"] * 40
    assert per_run(pd.Series(grouped, dtype=object), bool) is None  # not Arrow
    assert per_run(pd.Series(grouped[:-1] + [None], dtype=ARROW), bool) is None  # a blank
    assert per_run(pd.Series(["a", "b"] * 40, dtype=ARROW), bool) is None  # too many runs
    assert per_run(pd.Series([], dtype=ARROW), bool) is None


def test_unknown_mechanism_reported_in_a_grouped_arrow_column():
    # the link check of validation reads grouped ids by runs: an unknown id is found
    from gm_eval.validate import _date_limit, _table_checks

    ids = pd.Series(["M1"] * 50 + ["M9"] * 3 + ["M2"] * 50, dtype=ARROW,
                    index=pd.RangeIndex(2, 105))  # rows numbered as in the file
    df = pd.DataFrame({"mechanism_id": ids})
    limit = _date_limit(None, pd.Timestamp("2100-01-01"))
    out = _table_checks("cases", df, {"M1", "M2"}, limit)
    (rows, col, vals, problem, _, _), = out.links
    assert col == "mechanism_id" and list(rows) == [52, 53, 54] and set(vals) == {"M9"}
    assert "not a mechanism_id" in problem
