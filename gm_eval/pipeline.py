"""The ``score`` orchestration: evidence in, every result table out.

:func:`score` computes all result tables of ``docs/results-format.md`` from an
:class:`~gm_eval.evidence.Evidence` (indicators, scores and recommendations
here; time to event, disaggregation, equity tests, survey quality and the
descriptive tables by their own modules). :func:`score_data_dir` is the whole
run behind ``gm-eval score``: load and validate, score, publish.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import sys
import threading
import time
from pathlib import Path

import pandas as pd

from gm_eval import __version__
from gm_eval.contract import TABLE_ORDER
from gm_eval.evidence import Evidence
from gm_eval.indicators import catalogue, compute_indicators, questions
from gm_eval.indicators.base import Context
from gm_eval.parallel import BackgroundJob, SharedQueue
from gm_eval.recommend import recommendations
from gm_eval.scoring import (
    benchmark,
    criterion_scores,
    load_profile,
    profile_catalogue,
    score_indicators,
)

__all__ = ["score", "score_data_dir", "summary_lines", "print_summary", "data_quality_tables"]

_MECHANISM_COLUMNS = [
    "mechanism_id",
    "company_id",
    "name",
    "sector",
    "country",
    "mechanism_type",
    "target_ack_days",
    "target_close_days",
]


def data_quality_tables(evidence: Evidence) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``data_quality`` and ``warnings`` tables (no cell values, only counts).

    Returns
    -------
    data_quality : DataFrame
        ``table, file, rows, present, warnings`` for every contract table.
    warnings : DataFrame
        ``table, column, problem, count`` from the non-blocking validation warnings.
    """
    w = pd.DataFrame(
        [
            {"table": p.table, "column": p.column or "", "problem": p.problem}
            for p in evidence.warnings
        ],
        columns=["table", "column", "problem"],
    )
    if w.empty:
        wt = pd.DataFrame(columns=["table", "column", "problem", "count"])
    else:
        wt = w.groupby(["table", "column", "problem"], sort=False).size().rename("count").reset_index()
    per_table = w.groupby("table").size() if not w.empty else pd.Series(dtype="int64")
    rows = []
    for name in TABLE_ORDER:
        src = evidence.sources.get(name)
        df = evidence.tables.get(name)
        rows.append(
            {
                "table": name,
                "file": src.path if src else "",
                "rows": int(src.rows) if src else (len(df) if df is not None else 0),
                "present": bool(evidence.has(name)),
                "warnings": int(per_table.get(name, 0)),
            }
        )
    return pd.DataFrame(rows), wt


#: Modules that scoring imports on first use (``gm_eval.stats`` brings ``scipy.special``
#: and about 150 modules with it): :func:`score_data_dir` imports them while the files
#: are read, so that neither half of the scoring pays for them after the fork.
_SCORING_MODULES = ("gm_eval.stats", "gm_eval.timetoevent", "gm_eval.equity",
                    "gm_eval.survey_quality", "gm_eval.descriptive", "gm_eval.publish")


def _import_scoring_modules() -> None:
    """Import :data:`_SCORING_MODULES` (an import error is left for the real import)."""
    for name in _SCORING_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # pragma: no cover - raised again, with context, where used
            return


def _statistics_jobs(evidence: Evidence, min_n: int) -> dict[tuple, object]:
    """The jobs of the statistics modules, each computing the tables it is keyed by:
    time to event, equity, survey quality and the descriptive tables."""
    from gm_eval import descriptive, equity, survey_quality, timetoevent

    return {
        ("time_to_event", "time_to_event_summary"): lambda: timetoevent.intervals(
            evidence, min_n=min_n
        ),
        # one pass for both equity tables: their group counts are shared
        ("disaggregation", "equity_tests"): lambda: equity.equity_tables(evidence, min_n=min_n),
        ("survey_quality",): lambda: survey_quality.survey_quality(evidence),
        ("case_volume",): lambda: descriptive.case_volume(evidence),
        ("survey_items",): lambda: descriptive.survey_items(evidence),
        ("clms_funnel",): lambda: descriptive.clms_funnel(evidence),
        ("self_assessment",): lambda: descriptive.self_assessment_answers(evidence, questions()),
    }


#: The order in which ``gm-eval score`` hands out the statistics jobs: the longest
#: (and those with the largest tables to write) first, so that the last ones, taken
#: by whichever process is free, are short.
_JOB_ORDER = ("disaggregation", "time_to_event", "case_volume", "survey_quality",
              "survey_items", "self_assessment", "clms_funnel")


def _run_job(names: tuple, job, log) -> dict[str, pd.DataFrame]:
    """Run one statistics job; its tables by name."""
    t0 = time.perf_counter()
    res = job()
    res = res if isinstance(res, tuple) else (res,)
    log(f"  {', '.join(names)}: {time.perf_counter() - t0:.2f} s")
    return dict(zip(names, res, strict=True))


def _others(evidence: Evidence, min_n: int, log) -> dict[str, pd.DataFrame]:
    """Tables of the statistics modules: time to event, equity, survey quality, descriptives."""
    out: dict[str, pd.DataFrame] = {}
    for names, job in _statistics_jobs(evidence, min_n).items():
        out.update(_run_job(names, job, log))
    return out


def score(
    evidence: Evidence,
    profile=None,
    min_n: int | None = None,
    k: int = 5,
    progress: bool = False,
) -> dict[str, pd.DataFrame]:
    """Compute every result table of an evaluation.

    Parameters
    ----------
    evidence : Evidence
        Validated input tables (:func:`gm_eval.load`).
    profile : None, path-like or dict
        Scoring profile merged over the default (:func:`gm_eval.scoring.load_profile`).
    min_n : int, optional
        ``small_n`` threshold; default the profile's ``min_n`` (30). When given it
        overrides the profile and is recorded in it.
    k : int
        Publication threshold: indicators whose denominator is below ``k`` are not
        scored (their values are withheld on publication).
    progress : bool
        Print timings to stderr.

    Returns
    -------
    dict of str to DataFrame
        ``mechanisms, indicator_catalogue, indicators, scores, recommendations,
        data_quality, warnings`` and the tables of the statistics modules
        (``time_to_event``, ``time_to_event_summary``, ``disaggregation``,
        ``equity_tests``, ``survey_quality``, ``case_volume``, ``survey_items``,
        ``clms_funnel``, ``self_assessment``). Unpublished: pass them to
        :func:`gm_eval.publish.write_results` (never write them yourself). The
        effective profile is ``gm_eval.scoring.load_profile(profile)``.

    Examples
    --------
    >>> import gm_eval
    >>> from gm_eval.pipeline import score
    >>> tables = score(gm_eval.load("demo/data"))  # doctest: +SKIP
    >>> tables["scores"].query("criterion == 'overall'")  # doctest: +SKIP
    """

    def log(msg):
        if progress:
            print(msg, file=sys.stderr)

    prof = load_profile(profile)
    if min_n is not None:
        prof["min_n"] = int(min_n)
    # The statistics tables do not depend on the indicators: compute them meanwhile on
    # the second core, in a forked child process where possible (see gm_eval.parallel).
    others = BackgroundJob(lambda: _others(evidence, prof["min_n"], log))
    try:
        tables = _main_tables(evidence, prof, k, log)
        tables.update(others.result())
    finally:
        others.close()
    return tables


def _main_tables(evidence: Evidence, prof: dict, k: int, log) -> dict[str, pd.DataFrame]:
    """Indicators, scores, recommendations and data quality (the calling process's half)."""
    t0 = time.perf_counter()
    ctx = Context(evidence)
    mechs = ctx.mechanisms
    ind = compute_indicators(evidence, min_n=prof["min_n"])
    ind = score_indicators(ind, prof, k=k)
    log(f"  indicators: {time.perf_counter() - t0:.2f} s")
    t0 = time.perf_counter()
    scores = benchmark(criterion_scores(ind, prof), mechs)
    recs = recommendations(ind, scores, prof)
    dq, warn = data_quality_tables(evidence)
    log(f"  scores, benchmarks, recommendations: {time.perf_counter() - t0:.2f} s")
    return {
        "mechanisms": mechs.reindex(columns=_MECHANISM_COLUMNS),
        "indicator_catalogue": profile_catalogue(catalogue(), prof),
        "indicators": ind,
        "scores": scores,
        "recommendations": recs,
        "data_quality": dq,
        "warnings": warn,
    }


def summary_lines(scores: pd.DataFrame, mechanisms: pd.DataFrame | None = None) -> list[str]:
    """One line per mechanism: overall score, band and weakest criterion.

    The weakest criterion is the lowest-scored criterion with enough evidence for a
    band (any scored criterion when none has).
    """
    lines = []
    crit = scores[scores["criterion"] != "overall"].dropna(subset=["score"])
    banded = crit["band"] != "insufficient_evidence"
    has_banded = banded.groupby(crit["mechanism_id"]).transform("any")
    crit = crit[banded | ~has_banded]
    weakest = crit.loc[crit.groupby("mechanism_id", sort=False)["score"].idxmin()]
    worst = {m: f"{c} ({v:.0f})" for m, c, v in zip(
        weakest["mechanism_id"], weakest["criterion"], weakest["score"], strict=True)}
    overall = scores[scores["criterion"] == "overall"]
    width = max([len(str(m)) for m in overall["mechanism_id"]] + [9])
    lines.append(f"{'mechanism':<{width}}  overall  band                   weakest criterion")
    for row in overall.itertuples(index=False):
        s = "    -" if pd.isna(row.score) else f"{row.score:5.1f}"
        wk = worst.get(row.mechanism_id, "-")
        lines.append(f"{row.mechanism_id:<{width}}  {s}    {row.band:<21}  {wk}")
    return lines


def print_summary(results, file=None) -> None:
    """Print the per-mechanism summary of a results directory (or a ``scores`` table).

    Parameters
    ----------
    results : path-like, gm_eval.results.Results or DataFrame
        A results directory, its reader, or the ``scores`` table itself.
    file : file-like, optional
        Where to print (default stdout).
    """
    if isinstance(results, pd.DataFrame):
        scores = results
    else:
        from gm_eval.results import Results, read_results

        res = results if isinstance(results, Results) else read_results(results)
        scores = res.table("scores")
    print("\n".join(summary_lines(scores)), file=file)


def score_data_dir(
    data_dir,
    out_dir,
    as_of=None,
    profile=None,
    mapping=None,
    k: int = 5,
    progress: bool = True,
    summary: bool = False,
) -> Path:
    """Load, validate, score and publish one data directory.

    Parameters
    ----------
    data_dir : path-like
        Input data directory.
    out_dir : path-like
        Results directory; replaced atomically on success, untouched on failure.
    as_of : str or date, optional
        Evaluation date (default: the latest date in the data).
    profile : path-like or dict, optional
        Scoring profile (merged over the default).
    mapping : path-like or dict, optional
        Mapping file for a user's own export.
    k : int
        Suppression threshold for publication.
    progress : bool
        Print progress to stderr.
    summary : bool
        Print the per-mechanism summary (:func:`summary_lines`) of the scores written
        to stdout, once the results directory is in place.

    Returns
    -------
    pathlib.Path
        The results directory.

    Raises
    ------
    gm_eval.errors.InputError
        Invalid data, profile or mapping (nothing is written).
    """
    from gm_eval import load

    t0 = time.perf_counter()
    prof = load_profile(profile)  # fail early on a bad profile, before reading data
    # Import what scoring needs while the files are read (mostly outside the GIL), and
    # before the fork of _score_and_write (which needs this thread to have ended).
    importer = threading.Thread(target=_import_scoring_modules, name="gm-eval-import",
                                daemon=True)
    importer.start()
    try:
        evidence = load(data_dir, mapping=mapping, as_of=as_of)
    finally:
        importer.join()
    if progress:
        print(f"loaded {data_dir} in {time.perf_counter() - t0:.2f} s", file=sys.stderr)
    out, scores = _score_and_write(evidence, prof, k, out_dir, progress)
    if progress:
        print(f"scored and wrote {out} in {time.perf_counter() - t0:.2f} s", file=sys.stderr)
    if summary:
        print_summary(scores)
    return out


def _manifest(evidence: Evidence, prof: dict) -> dict:
    return {
        "tool": "gm-eval",
        "version": __version__,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "as_of": pd.Timestamp(evidence.as_of).date().isoformat(),
        "min_n": prof["min_n"],
        "profile": prof,
        "inputs": {
            name: {"file": s.path, "sha256": s.sha256, "rows": s.rows}
            for name, s in evidence.sources.items()
        },
    }


def _score_and_write(evidence: Evidence, profile: dict, k: int, out_dir, progress: bool
                     ) -> tuple[Path, pd.DataFrame]:
    """:func:`score` and :func:`gm_eval.publish.write_results` in one pass, two halves at once.

    A forked child process (see :mod:`gm_eval.parallel`) takes the statistics jobs
    (:func:`_statistics_jobs`, longest first) from a :class:`~gm_eval.parallel.SharedQueue`
    one at a time, and computes, publishes and writes each into the results directory
    being built, while this process computes, publishes and writes the indicators,
    scores and recommendations, then takes the jobs still in the queue: the two
    halves balance themselves. When the child fails, the jobs it took are done here
    again. The tables and the manifest are those of
    ``write_results(score(evidence, profile, k=k), manifest, out_dir, k=k)``.
    Returns the results directory and the published ``scores`` table.
    """
    from gm_eval.publish import atomic_directory, write_manifest, write_tables

    def log(msg):
        if progress:
            print(msg, file=sys.stderr)

    prof = load_profile(profile)
    target = Path(out_dir)
    jobs = sorted(_statistics_jobs(evidence, prof["min_n"]).items(),
                  key=lambda item: _JOB_ORDER.index(item[0][0]))
    with atomic_directory(target) as tmp:
        queue = SharedQueue(len(jobs))
        here = os.getpid()
        mine: list[int] = []  # the jobs this process did

        def take_jobs(done: list[int]) -> list[str]:
            # jobs taken from the shared queue until it is empty; each is published
            # and written at once by whoever computed it
            written = []
            while (i := queue.claim()) is not None:
                written += _write_job(i)
                done.append(i)
            return written

        def _write_job(i: int) -> list[str]:
            names, job = jobs[i]
            where = "" if os.getpid() == here else " [second process]"
            tables = _run_job(names, job, lambda m: log(m + where))
            t0 = time.perf_counter()
            written = write_tables(tables, tmp, k=k)
            log(f"  publish and write ({', '.join(names)}): "
                f"{time.perf_counter() - t0:.2f} s{where}")
            return written

        def the_rest() -> list[str]:  # after a failed child: every job not done here
            return [n for i in range(len(jobs)) if i not in mine for n in _write_job(i)]

        # the second core starts on the statistics jobs at once; this process computes
        # the indicators, then takes statistics jobs too, until none is left
        job = BackgroundJob(lambda: take_jobs([]), fallback=the_rest)
        published: dict[str, pd.DataFrame] = {}
        try:
            main = _main_tables(evidence, prof, k, log)
            t0 = time.perf_counter()
            names = write_tables(main, tmp, k=k, published=published)
            log(f"  publish and write (indicators, scores...): {time.perf_counter() - t0:.2f} s")
            names += take_jobs(mine)
            t0 = time.perf_counter()
            names += job.result()
            log(f"  waited for the second core: {time.perf_counter() - t0:.2f} s")
        finally:
            job.close()
            queue.close()
        write_manifest(tmp, _manifest(evidence, prof), k, names)
    return target.absolute(), published["scores"]
