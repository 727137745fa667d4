"""Parameterised report notebooks, their content, and the batch runner.

Three layers, all in this module so that a notebook kernel needs to import
nothing heavy:

* **Content** (:func:`build_report`): the sections of a mechanism, company,
  sector or data-quality report (plain-language sentences, display tables,
  plotly figures) built from a results directory with :mod:`gm_eval.plots`,
  :mod:`gm_eval.tables` and :mod:`gm_eval.narrative`. Results tables are read
  once per process and split by mechanism once (group-wise), so building many
  reports in one worker costs one read.
* **Display** (:func:`open_report` and :class:`Report`): what the notebooks in
  ``notebooks/`` call. ``report.show("scorecard")`` displays one section as
  self-contained HTML; the first figure of the page carries plotly.js inline
  (nothing from a CDN, no MathJax), later figures reuse it. When the batch
  runner has prepared the content (``prepared=`` a JSON file written by the
  same worker), the kernel only reads it: the notebook then costs little more
  than starting the kernel. Without it the notebook computes the content
  itself, so a researcher can run any template by hand.
* **Batch** (:func:`run_reports`): papermill per entity in a pool of worker
  processes (or on a Dask cluster with ``scheduler=``), ``kernel_name="python3"``,
  absolute paths, offline HTML export with code hidden, an ``index.html``, a
  run manifest (versions, parameters, input hashes, status, error cell,
  duration), and resume.

Files written under the output directory::

    index.html                      links to every report, with status
    run_manifest.json               see :func:`run_reports`
    mechanism/<id>.ipynb, .html     one per mechanism
    company/<id>.ipynb, .html       one per company
    sector/<name>.ipynb, .html      one per sector
    data_quality/data_quality.ipynb, .html
    .prepared/<kind>/<id>.json      content prepared for the kernels (cache)
    .logs/worker-<pid>.log          standard error of the worker processes and their kernels
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "KINDS",
    "Report",
    "ReportTask",
    "RunSummary",
    "build_report",
    "export_html",
    "load_results",
    "notebooks_dir",
    "open_report",
    "plan_reports",
    "run_reports",
    "safe_name",
    "write_index",
]

#: Report kinds: template notebook and the name of its entity parameter.
KINDS: dict[str, tuple[str, str | None]] = {
    "mechanism": ("mechanism_report.ipynb", "mechanism_id"),
    "company": ("company_report.ipynb", "company_id"),
    "sector": ("sector_benchmark.ipynb", "sector"),
    "data_quality": ("data_quality.ipynb", None),
}

_ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
MANIFEST_NAME = "run_manifest.json"
#: How long a kernel waits for content the batch runner is still preparing.
PREPARE_WAIT_S = 300.0
#: How long to wait for a Dask scheduler before giving up (exit 2).
DASK_CONNECT_TIMEOUT = "15s"


# =========================================================================== paths
def notebooks_dir() -> Path:
    """Folder holding the template notebooks (``GM_EVAL_NOTEBOOKS`` overrides).

    The ``notebooks/`` folder of a source checkout, else the installed copy
    (:func:`gm_eval.resources.bundled_dir`).
    """
    from gm_eval.resources import bundled_dir

    return bundled_dir("notebooks", "mechanism_report.ipynb", "GM_EVAL_NOTEBOOKS")


def safe_name(entity_id: str) -> str:
    """File-name stem for an entity id.

    Ids matching ``[A-Za-z0-9_.-]{1,64}`` (the contract's id pattern) are kept
    as they are, except ``.`` and ``..``; anything else becomes a readable slug
    plus a short hash, so no path can be built from unchecked input.
    """
    s = str(entity_id)
    if _ID_RE.match(s) and s not in {".", ".."} and not s.startswith("."):
        return s
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", s).strip("_")[:40] or "entity"
    return f"{slug}-{hashlib.sha256(s.encode('utf-8')).hexdigest()[:10]}"


def _inside(base: Path, path: Path) -> Path:
    base, path = base.resolve(), path.resolve()
    if base != path and base not in path.parents:
        raise ValueError(f"refusing to write outside {base}: {path}")
    return path


# ========================================================================= results
class _ParquetResults:
    """Minimal reader of a results directory (used until ``gm_eval.results`` exists)."""

    def __init__(self, results_dir: Path):
        self.path = Path(results_dir)
        mf = self.path / "manifest.json"
        self.manifest = json.loads(mf.read_text(encoding="utf-8")) if mf.exists() else {}
        self._tables: dict = {}

    def table(self, name: str):
        import pandas as pd

        if name not in self._tables:
            pq, csv = self.path / f"{name}.parquet", self.path / f"{name}.csv"
            if pq.exists():
                df = pd.read_parquet(pq)
            elif csv.exists():
                df = pd.read_csv(csv)
            else:
                raise KeyError(f"results table {name!r} not found in {self.path}")
            self._tables[name] = df
        return self._tables[name]


_RESULTS_CACHE: dict[tuple, object] = {}


def _results_key(results_dir: Path) -> tuple:
    """Identity of a results directory's current content (names, sizes, mtimes)."""
    stamp = tuple(sorted((e.name, e.stat().st_mtime_ns, e.stat().st_size)
                         for e in os.scandir(results_dir) if e.is_file()))
    return (str(results_dir), stamp)


def load_results(results_dir):
    """Read a results directory once per process (cached on its files' sizes and mtimes).

    Uses :func:`gm_eval.results.read_results` when available.

    Parameters
    ----------
    results_dir : str or path-like

    Returns
    -------
    object
        With ``table(name) -> DataFrame`` and ``manifest`` (dict).
    """
    path = Path(results_dir).resolve()
    if not path.is_dir():
        from gm_eval.errors import InputError

        raise InputError(f"results directory not found: {results_dir}")
    key = _results_key(path)
    if key not in _RESULTS_CACHE:
        try:
            from gm_eval.results import read_results
        except ImportError:
            res = _ParquetResults(path)
        else:
            res = read_results(path)
        _RESULTS_CACHE.clear()
        _RESULTS_CACHE[key] = _Split(res)
    return _RESULTS_CACHE[key]


class _Split:
    """Results with each table split by ``mechanism_id`` once (group-wise), lazily."""

    def __init__(self, res):
        self.res = res
        self.manifest = getattr(res, "manifest", {}) or {}
        self._by_mech: dict[str, dict] = {}

    def has(self, name: str) -> bool:
        """Whether the results include table ``name``."""
        if hasattr(self.res, "has"):
            return bool(self.res.has(name))
        return name in self.manifest.get("tables", [])

    def table(self, name: str):
        try:
            return self.res.table(name)
        except (KeyError, FileNotFoundError, AttributeError):
            import pandas as pd

            return pd.DataFrame()

    def for_mechanisms(self, name: str, ids) -> object:
        """Rows of table ``name`` for the mechanisms ``ids`` (empty frame when none)."""
        import pandas as pd

        if name not in self._by_mech:
            df = self.table(name)
            self._by_mech[name] = (
                {k: g for k, g in df.groupby("mechanism_id", sort=False)} if "mechanism_id" in df else {}
            )
            self._by_mech[name]["__empty__"] = df.iloc[0:0]
        parts = [self._by_mech[name][i] for i in ids if i in self._by_mech[name]]
        return pd.concat(parts, ignore_index=True) if parts else self._by_mech[name]["__empty__"]


# ========================================================================= content
def _esc(s) -> str:
    return html.escape(str(s))


def _sentences(lines: list[str]) -> list:
    if not lines:
        return []
    return [["html", '<div class="gm-sentences"><ul>' + "".join(f"<li>{_esc(s)}</li>" for s in lines)
             + "</ul></div>"]]


def _note(text: str) -> list:
    return [["html", f'<div class="gm-note">{_esc(text)}</div>']]


def _fig(fig) -> list:
    from gm_eval.plots import figure_html

    return [["figure", figure_html(fig, include_plotlyjs=False)]]


def _html(s: str) -> list:
    return [["html", s]]


def _header(title: str, subtitle: str, manifest: dict) -> list:
    from gm_eval.tables import TABLE_CSS

    as_of = manifest.get("as_of", "")
    version = manifest.get("version", "")
    meta = f"Evaluation date {as_of}. " if as_of else ""
    meta += f"Scored with gm-eval {version}." if version else ""
    return _html(
        f"<style>{TABLE_CSS}</style>"
        f'<h1 class="gm-title">{_esc(title)}</h1>'
        f'<p class="gm-subtitle" style="font-size:1.15rem">{_esc(subtitle)}</p>'
        f'<p style="color:#555">{_esc(meta)}</p>'
    )


def _catalogue(res) -> tuple[dict, dict, dict]:
    """``(labels, units, sources)`` by indicator id, from the indicator catalogue."""
    cat = res.table("indicator_catalogue")
    if cat.empty:
        return {}, {}, {}
    ids = cat["indicator_id"].astype(str)

    def col(name):
        return dict(zip(ids, cat[name].astype(str), strict=True)) if name in cat else {}

    return col("label"), col("unit"), col("source")


def _labels(res) -> dict:
    return _catalogue(res)[0]


def _absent(res, name: str, what: str) -> list:
    """A note saying why ``what`` is not shown (table not in the results, or no rows here)."""
    if not res.has(name):
        return _note(f"{what}: not part of these results.")
    return _note(f"{what}: no data for this mechanism.")


def _mechanism_sections(res, mechanism_id: str) -> tuple[str, str, dict]:
    import pandas as pd

    from gm_eval import narrative as nv
    from gm_eval import plots, tables

    mech = res.table("mechanisms")
    row = mech[mech["mechanism_id"].astype(str) == mechanism_id]
    if row.empty:
        raise KeyError(f"mechanism {mechanism_id!r} is not in the results")
    m = row.iloc[0]
    name = str(m["name"]) if pd.notna(m.get("name")) else mechanism_id
    ids = [mechanism_id]
    scores = res.for_mechanisms("scores", ids)
    if scores.empty:
        raise ValueError(f"the results hold no scores for mechanism {mechanism_id!r}")
    ind_all = res.for_mechanisms("indicators", ids)
    labels, units, sources = _catalogue(res)
    na = plots.has_flag(ind_all["flags"], "not_applicable") if not ind_all.empty else pd.Series(dtype=bool)
    ind = ind_all[~na] if not ind_all.empty else ind_all
    s: dict[str, list] = {}
    subtitle = " · ".join(
        str(x) for x in (m.get("company_id"), m.get("sector"), m.get("mechanism_type"), m.get("country"))
        if pd.notna(x)
    )
    s["header"] = _header(f"{name}: grievance mechanism report", subtitle, res.manifest)

    crit = scores[scores["criterion"] != "overall"]
    s["scorecard"] = (
        _fig(plots.scorecard(scores)) + _html(tables.scorecard_table(scores))
        + (_note("Criteria marked 'not covered' had no evidence in the data supplied; they are not scored as zero.")
           if crit["score"].isna().any() else [])
    )
    n_na = int(na.sum()) if len(na) else 0
    s["indicators"] = (
        _sentences(nv.indicator_sentences(ind, labels, units=units)
                   + ([f"{n_na} indicators do not apply to this type of mechanism and are left out."]
                      if n_na else []))
        + _fig(plots.indicator_intervals(ind, labels, units=units))
        + _html(tables.indicator_table(ind, labels, units=units))
    )

    curve = res.for_mechanisms("time_to_event", ids)
    summ = res.for_mechanisms("time_to_event_summary", ids)
    if not summ.empty:
        summ = summ[(summ["n"].fillna(0) > 0) & ~plots.has_flag(summ["flags"], "not_applicable")]
    closed = curve[curve["interval"] == "received_to_closed"] if not curve.empty else curve
    target = m.get("target_close_days")
    summ_closed = summ[summ["interval"] == "received_to_closed"] if not summ.empty else summ
    if not summ_closed.empty and pd.notna(summ_closed["target_days"].iloc[0]):
        target = summ_closed["target_days"].iloc[0]
    if summ.empty and closed.empty:
        s["timeliness"] = _note("No case log was supplied, so the time taken to handle grievances is not covered.")
    else:
        s["timeliness"] = (
            _sentences(nv.time_to_event_sentences(summ))
            + _fig(plots.time_to_event_curve(closed, target, title="Time to close against the stated target"))
            + (_html(tables.time_to_event_table(summ)) if not summ.empty else [])
        )

    vol = res.for_mechanisms("case_volume", ids)
    if vol.empty:
        s["volume"] = _absent(res, "case_volume", "Case volume over time")
    else:
        s["volume"] = (
            _sentences(nv.suppression_sentence(vol, "monthly counts"))
            + _fig(plots.case_volume(vol, "category")) + _fig(plots.case_volume(vol, "channel"))
        )

    dis = res.for_mechanisms("disaggregation", ids)
    eq = res.for_mechanisms("equity_tests", ids)
    eq_blocks = _sentences(nv.equity_sentences(eq, labels))
    if not dis.empty:
        # the indicators with significant differences first, then those with most groups shown
        sig = eq[eq["significant"].astype("boolean").fillna(False).astype(bool)] if not eq.empty else eq
        shown = dis.dropna(subset=["value"]).groupby("indicator_id").size().sort_values(ascending=False)
        pick = list(dict.fromkeys([i for i in sig.get("indicator_id", []) if i in shown.index]
                                  + shown.index.tolist()))[:2]
        for ind_id in pick:
            d = dis[dis["indicator_id"] == ind_id]
            eq_blocks += _fig(plots.disaggregation(d, title=f"{labels.get(ind_id, ind_id)} by group"))
            eq_blocks += _sentences(nv.suppression_sentence(d, "group results"))
    tested = eq[eq["p_holm"].notna()] if not eq.empty else eq
    if not tested.empty:
        top = tested.sort_values("p_holm").head(12).copy()
        top["indicator_id"] = top["indicator_id"].map(lambda i: labels.get(i, i))
        eq_blocks += _html(tables.equity_table(top))
        if len(tested) > len(top):
            eq_blocks += _note(f"The {len(top)} comparisons with the smallest adjusted p-values of {len(tested)} "
                               "tested are shown.")
    s["equity"] = eq_blocks or _absent(res, "disaggregation", "Results by group")

    items = res.for_mechanisms("survey_items", ids)
    src = ind["indicator_id"].map(lambda i: sources.get(i, "")) if not ind.empty else pd.Series(dtype=str)
    sv: list = []
    for survey, title in (("worker_survey", "Worker survey"), ("child_survey", "Child survey")):
        it = items[items["survey"] == survey] if not items.empty else items
        si = ind[src.str.contains(survey, regex=False)] if not ind.empty else ind
        si = si[si["value"].notna() | plots.has_flag(si["flags"], "suppressed")] if not si.empty else si
        if it.empty and si.empty:
            sv += _note(f"{title}: no answers for this mechanism.")
            continue
        if not si.empty:
            sv += _sentences(nv.indicator_sentences(si, labels, n_best=1, units=units))
            sv += _fig(plots.indicator_intervals(si, labels, title=f"{title}: key results", units=units))
        if not it.empty:
            sv += _sentences(nv.survey_sentences(it) + nv.suppression_sentence(it, "answer shares"))
            sv += _fig(plots.survey_items(it, title=f"{title}: answers"))
    sq = res.for_mechanisms("survey_quality", ids)
    if not sq.empty:
        sv += _html(tables.survey_quality_table(sq))
    s["surveys"] = sv

    fun = res.for_mechanisms("clms_funnel", ids)
    clms_ind = ind[ind["indicator_id"].map(lambda i: "clms" in sources.get(i, "") or "clms" in i)] \
        if not ind.empty else ind
    clms_ind = clms_ind[clms_ind["value"].notna()] if not clms_ind.empty else clms_ind
    if not fun.empty:
        s["clms"] = (_sentences(nv.clms_sentences(fun) + nv.suppression_sentence(fun, "stage counts"))
                     + _fig(plots.clms_funnel(fun)))
    elif not clms_ind.empty:
        s["clms"] = _html(tables.indicator_table(clms_ind, labels, units=units))
    else:
        s["clms"] = _note("Not applicable: this mechanism has no child labour monitoring data.")

    sa = res.for_mechanisms("self_assessment", ids)
    sa_ind = ind[ind["indicator_id"].map(lambda i: sources.get(i, "") == "self_assessment"
                                         or i.endswith(".self_assessment"))] if not ind.empty else ind
    if not sa.empty:
        s["self_assessment"] = _html(tables.self_assessment_table(sa))
    elif not sa_ind.empty and sa_ind["value"].notna().any():
        s["self_assessment"] = (_note("Share of the self-assessment questions answered positively, by criterion.")
                                + _html(tables.indicator_table(sa_ind, labels, units=units)))
    else:
        s["self_assessment"] = _note("No self-assessment questionnaire was supplied.")
    rec = res.for_mechanisms("recommendations", ids)
    s["recommendations"] = (_html(tables.recommendations_table(rec, n=5)) if not rec.empty
                            else _note("No recommendations: no scored indicator fell short of its target."))

    summary = nv.scorecard_sentences(scores, name)
    summary += nv.time_to_event_sentences(summ)[:2] if not summ.empty else []
    summary += nv.equity_sentences(eq, labels)[:1]
    summary += nv.clms_sentences(fun)[:2] if not fun.empty else []
    if not rec.empty:
        top = rec.sort_values("rank").iloc[0]
        summary.append(f"First recommendation: {top['recommendation']}")
    s["summary"] = _sentences(summary)
    return f"{name}: grievance mechanism report", name, s


def _company_sections(res, company_id: str) -> tuple[str, str, dict]:
    from gm_eval import narrative as nv
    from gm_eval import plots, tables
    from gm_eval.contract import CRITERIA

    mech = res.table("mechanisms")
    mine = mech[mech["company_id"].astype(str) == company_id]
    if mine.empty:
        raise KeyError(f"company {company_id!r} has no mechanism in the results")
    ids = mine["mechanism_id"].tolist()
    names = dict(zip(mine["mechanism_id"], mine["name"].astype(str), strict=True))
    scores = res.for_mechanisms("scores", ids)
    if scores.empty:
        raise ValueError(f"the results hold no scores for company {company_id!r}")
    s: dict[str, list] = {}
    s["header"] = _header(f"{company_id}: company grievance mechanisms report",
                          f"{len(ids)} mechanism{'s' if len(ids) != 1 else ''}", res.manifest)
    s["summary"] = _sentences(nv.comparison_sentences(scores, names))
    s["comparison"] = _fig(plots.mechanism_comparison(scores, names))
    wide = scores.pivot_table(index="mechanism_id", columns="criterion", values="score", aggfunc="first",
                              dropna=False).reindex(ids)
    order = [c for c in (*CRITERIA, "overall") if c in wide.columns]
    wide = wide[order].reset_index()
    wide.insert(1, "name", wide["mechanism_id"].map(names))
    s["scores"] = _html(tables.html_table(
        wide, {"name": "Mechanism", **{c: plots.criterion_label(c) for c in order}}, {c: "int" for c in order}))
    crit = scores[scores["criterion"] != "overall"].dropna(subset=["score"])
    if not crit.empty:
        best = crit.loc[crit.groupby("mechanism_id")["score"].idxmax()]
        worst = crit.loc[crit.groupby("mechanism_id")["score"].idxmin()]
        sw = best[["mechanism_id", "criterion", "score"]].merge(
            worst[["mechanism_id", "criterion", "score"]], on="mechanism_id", suffixes=("_best", "_worst"))
        sw["name"] = sw["mechanism_id"].map(names)
        sw["criterion_best"] = sw["criterion_best"].map(plots.criterion_label)
        sw["criterion_worst"] = sw["criterion_worst"].map(plots.criterion_label)
        s["strengths"] = _html(tables.html_table(
            sw, {"name": "Mechanism", "criterion_best": "Strongest", "score_best": "Score",
                 "criterion_worst": "Weakest", "score_worst": "Score "}, {"score_best": "int", "score_worst": "int"}))
    else:
        s["strengths"] = _note("No criterion could be scored for this company's mechanisms.")
    s["distribution"] = _fig(plots.score_distribution(scores, title="Scores of this company's mechanisms"))
    rec = res.for_mechanisms("recommendations", ids)
    if rec.empty:
        s["recommendations"] = _note("No recommendations.")
    else:
        top = rec[rec["rank"] <= 2].copy()
        top["name"] = top["mechanism_id"].map(names)
        top["criterion_label"] = top["criterion"].map(plots.criterion_label)
        s["recommendations"] = _html(tables.html_table(
            top.sort_values(["mechanism_id", "rank"]),
            {"name": "Mechanism", "rank": "#", "criterion_label": "Criterion", "recommendation": "Recommendation"},
            {"rank": "int"}))
    return f"{company_id}: company report", company_id, s


def _neutral(ids: list[str]) -> dict[str, str]:
    out = {}
    for i, m in enumerate(sorted(ids)):
        letters, k = "", i
        while True:
            letters = chr(ord("A") + k % 26) + letters
            k = k // 26 - 1
            if k < 0:
                break
        out[m] = f"Mechanism {letters}"
    return out


def _sector_sections(res, sector: str, neutral_labels: bool = False) -> tuple[str, str, dict]:
    from gm_eval import narrative as nv
    from gm_eval import plots, tables

    mech = res.table("mechanisms")
    mine = mech[mech["sector"].astype(str) == sector]
    if mine.empty:
        raise KeyError(f"sector {sector!r} has no mechanism in the results")
    ids = mine["mechanism_id"].tolist()
    names = (_neutral(ids) if neutral_labels
             else dict(zip(mine["mechanism_id"], mine["name"].astype(str), strict=True)))
    scores = res.for_mechanisms("scores", ids)
    if scores.empty:
        raise ValueError(f"the results hold no scores for sector {sector!r}")
    s: dict[str, list] = {}
    sub = f"{len(ids)} mechanisms" + (" · names replaced by neutral labels" if neutral_labels else "")
    s["header"] = _header(f"Sector benchmark: {sector}", sub, res.manifest)
    s["summary"] = _sentences(nv.sector_sentences(scores))
    s["heatmap"] = _fig(plots.criteria_heatmap(scores, names))
    s["distribution"] = _fig(plots.score_distribution(scores))
    s["ranking"] = _fig(plots.ranking(scores, "overall", names))
    peer = scores[scores["criterion"] == "overall"].copy()
    peer["label"] = peer["mechanism_id"].map(names)
    if not neutral_labels:
        peer["company"] = peer["mechanism_id"].map(dict(zip(mine["mechanism_id"], mine["company_id"], strict=True)))
    peer = peer.sort_values("score", ascending=False)
    cols = {"label": "Mechanism"}
    if not neutral_labels:
        cols["company"] = "Company"
    cols.update({"score": "Overall score", "sector_median": "Sector median", "sector_percentile": "Percentile",
                 "coverage": "Evidence coverage"})
    s["peers"] = _html(tables.html_table(peer, cols, {"score": "int", "sector_median": "int",
                                                     "sector_percentile": "int", "coverage": "pct"}))
    ind = res.for_mechanisms("indicators", ids)
    child_ids = {"accessible.child_awareness_rate": "Child awareness",
                 "rights_compatible.child_referral_rate": "Child case referral",
                 "rights_compatible.clms_exit_rate": "Exit from child labour (CLMS)"}
    child = ind[ind["indicator_id"].isin(list(child_ids))].copy() if not ind.empty else ind
    if child.empty:
        s["children"] = _note("No child-specific evidence was supplied for this sector.")
    else:
        child["label"] = child["mechanism_id"].map(names)
        child["what"] = child["indicator_id"].map(child_ids)
        child["value_txt"] = [
            ("withheld" if "suppressed" in str(f) else "—") if v != v else f"{v:.0%}"
            for v, f in zip(child["value"], child["flags"], strict=True)
        ]
        child["flag_txt"] = child["flags"].map(tables.flag_text)
        shown = child.dropna(subset=["value"])
        figs = []
        if not shown.empty:
            import plotly.graph_objects as go

            fig = go.Figure(layout=dict(template=plots.TEMPLATE, title_text="The children's lens", barmode="group",
                                        height=480))
            for i, (iid, lab) in enumerate(child_ids.items()):
                d = shown[shown["indicator_id"] == iid]
                if len(d):
                    fig.add_bar(x=d["label"], y=d["value"], name=lab, marker_color=plots.OKABE_ITO[i])
            fig.update_yaxes(range=[0, 1], tickformat=".0%")
            figs = _fig(fig)
        s["children"] = (
            _sentences(nv.suppression_sentence(child, "child indicator values")) + figs
            + _html(tables.html_table(child.sort_values(["what", "label"]),
                                      {"label": "Mechanism", "what": "Indicator", "value_txt": "Value", "n": "n",
                                       "flag_txt": "Notes"}, {"n": "int"}))
        )
    return f"Sector benchmark: {sector}", sector, s


def _data_quality_sections(res) -> tuple[str, str, dict]:
    from gm_eval import narrative as nv
    from gm_eval import plots, tables

    mech = res.table("mechanisms")
    names = dict(zip(mech["mechanism_id"], mech["name"].astype(str), strict=True)) if not mech.empty else {}
    s: dict[str, list] = {}
    s["header"] = _header("Data quality", f"{len(mech)} mechanisms evaluated", res.manifest)
    dq, w = res.table("data_quality"), res.table("warnings")
    v = _html(tables.data_quality_table(dq)) if not dq.empty else _note("No input summary in the results.")
    if w.empty:
        v += _sentences(["No data warnings were raised when the data were checked."])
    else:
        v += _sentences([f"{int(w['count'].sum())} rows raised a warning when the data were checked "
                         f"({len(w)} kinds of problem); the table below lists them without any cell values."])
        v += _html(tables.warnings_table(w))
    s["validation"] = v
    scores = res.table("scores")
    cov = scores[scores["criterion"] != "overall"] if not scores.empty else scores
    if cov.empty:
        s["coverage"] = _note("No scores in the results.")
    else:
        per = cov.groupby("criterion", sort=False)["coverage"].agg(["median", "min"]).reset_index()
        per["criterion"] = per["criterion"].map(plots.criterion_label)
        per = per.assign(not_covered=cov.groupby("criterion", sort=False)["score"].apply(
            lambda x: int(x.isna().sum())).to_numpy())
        s["coverage"] = _fig(plots.coverage_heatmap(cov, names)) + _html(tables.html_table(
            per, {"criterion": "Criterion", "median": "Median coverage", "min": "Lowest coverage",
                  "not_covered": "Mechanisms not covered"}, {"median": "pct", "min": "pct", "not_covered": "int"}))
    sq = res.table("survey_quality")
    if sq.empty:
        s["reliability"] = _note("No survey scales were supplied.")
    else:
        low = sq[sq["cronbach_alpha"] < 0.7]
        s["reliability"] = _sentences(
            [f"{len(low)} of {len(sq)} survey scales have a reliability (Cronbach's alpha) below 0.7."]
        ) + _html(tables.survey_quality_table(sq, names))
    ind = res.table("indicators")
    if ind.empty:
        s["small_n"] = _note("No indicators in the results.")
    else:
        from gm_eval.plots import has_flag

        flagged = ind[has_flag(ind["flags"], "small_n") | has_flag(ind["flags"], "suppressed")]
        lines = [f"{len(flagged)} of {len(ind)} indicator values rest on a small sample or were withheld."]
        lines += nv.suppression_sentence(ind, "indicator values")
        s["small_n"] = _sentences(lines) + (_html(tables.small_n_table(flagged, names)) if len(flagged) else [])
    return "Data quality", "all mechanisms", s


def build_report(results_dir, kind: str, entity_id: str = "", neutral_labels: bool = False) -> Report:
    """Build the content of one report.

    Parameters
    ----------
    results_dir : str or path-like
        A results directory written by ``gm-eval score``.
    kind : {"mechanism", "company", "sector", "data_quality"}
        Report kind.
    entity_id : str
        Mechanism id, company id or sector name ("" for data quality).
    neutral_labels : bool
        Sector benchmark only: replace mechanism names by "Mechanism A", ...

    Returns
    -------
    Report

    Raises
    ------
    KeyError
        When the entity is not in the results.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown report kind {kind!r}; expected one of {sorted(KINDS)}")
    res = load_results(results_dir)
    if kind == "mechanism":
        title, label, sections = _mechanism_sections(res, str(entity_id))
    elif kind == "company":
        title, label, sections = _company_sections(res, str(entity_id))
    elif kind == "sector":
        title, label, sections = _sector_sections(res, str(entity_id), bool(neutral_labels))
    else:
        title, label, sections = _data_quality_sections(res)
    return Report(kind=kind, entity_id=str(entity_id), title=title, label=label, sections=sections,
                  results_dir=str(Path(results_dir).resolve()))


# ========================================================================= display
#: Placeholder left by a kernel in batch mode; :func:`export_html` puts plotly.js there.
PLOTLYJS_MARKER = '<script type="text/javascript" data-gm-eval="plotly.js"></script>'
_MARKER_RE = re.compile(r'<script[^>]*data-gm-eval="plotly\.js"[^>]*>\s*</script>')
_PLOTLYJS: list[str] = []


def _plotly_js() -> str:
    if not _PLOTLYJS:
        from importlib.resources import files

        _PLOTLYJS.append((files("plotly") / "package_data" / "plotly.min.js").read_text(encoding="utf-8"))
    return _PLOTLYJS[0]


def _plotly_script() -> str:
    return f'<script type="text/javascript">{_plotly_js()}</script>'


@dataclass
class Report:
    """The content of one report: HTML blocks per section, displayed by the notebooks.

    Parameters
    ----------
    kind, entity_id, title, label : str
        What the report is about; ``label`` is the display name.
    sections : dict of str to list
        ``key -> [[type, html], ...]`` with type ``html`` or ``figure``.
    results_dir : str
        Absolute path of the results directory.
    """

    kind: str
    entity_id: str
    title: str
    label: str
    sections: dict
    results_dir: str = ""
    defer_plotlyjs: bool = False
    _plotly_embedded: bool = field(default=False, repr=False)

    def html(self, key: str) -> str:
        """HTML of section ``key``; plotly.js is prepended before the page's first figure.

        With ``defer_plotlyjs`` (batch mode) a placeholder is written instead and
        :func:`export_html` embeds plotly.js there once, so the executed
        notebooks stay small.
        """
        if key not in self.sections:
            raise KeyError(f"{self.kind} report has no section {key!r}; sections: {list(self.sections)}")
        parts = []
        for typ, body in self.sections[key]:
            if typ == "figure" and not self._plotly_embedded:
                parts.append(PLOTLYJS_MARKER if self.defer_plotlyjs else _plotly_script())
                self._plotly_embedded = True
            parts.append(body)
        return "".join(parts)

    def show(self, key: str) -> None:
        """Display section ``key`` in the notebook."""
        from IPython.display import HTML, display

        display(HTML(self.html(key)))

    def to_json(self) -> str:
        """Serialise (for the batch runner's prepared content)."""
        return json.dumps({"kind": self.kind, "entity_id": self.entity_id, "title": self.title,
                           "label": self.label, "sections": self.sections, "results_dir": self.results_dir})

    @classmethod
    def from_json(cls, text: str) -> Report:
        """Inverse of :meth:`to_json`."""
        d = json.loads(text)
        return cls(**d)


def open_report(results_dir: str, kind: str, entity_id: str = "", prepared: str = "",
                neutral_labels: bool = False) -> Report:
    """What a template notebook calls: the report's content, prepared or built here.

    Parameters
    ----------
    results_dir : str
        Results directory.
    kind : str
        Report kind (see :data:`KINDS`).
    entity_id : str
        Mechanism id, company id or sector name.
    prepared : str
        Optional JSON file written by the batch runner for this very report;
        used only when its kind, entity and results directory match.
    neutral_labels : bool
        Sector benchmark: neutral labels instead of names.

    Returns
    -------
    Report
    """
    if prepared:
        p = Path(prepared)
        pending = p.with_name(p.name + ".pending")
        deadline = time.monotonic() + PREPARE_WAIT_S
        while pending.exists() and not p.is_file() and time.monotonic() < deadline:
            time.sleep(0.01)  # the batch runner is still preparing it, while this kernel started
        if p.is_file():
            rep = Report.from_json(p.read_text(encoding="utf-8"))
            if (rep.kind, rep.entity_id, rep.results_dir) == (kind, str(entity_id), str(Path(results_dir).resolve())):
                rep.defer_plotlyjs = True
                return rep
    return build_report(results_dir, kind, entity_id, neutral_labels=neutral_labels)


# =========================================================================== batch
@dataclass(frozen=True)
class ReportTask:
    """One report to render (picklable, JSON-like fields only)."""

    kind: str
    entity_id: str
    label: str
    template: str
    notebook: str
    html: str
    prepared: str
    parameters: dict

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.entity_id}"


@dataclass
class RunSummary:
    """Outcome of :func:`run_reports`."""

    out_dir: Path
    index: Path
    manifest: Path
    records: list

    @property
    def failed(self) -> list:
        return [r for r in self.records if r["status"] != "ok"]

    @property
    def ok(self) -> bool:
        return not self.failed


def plan_reports(results_dir, out_dir, mechanisms=None, companies=None, sectors=None,
                 data_quality: bool | None = None, neutral_labels: bool = False) -> list[ReportTask]:
    """List the reports to render.

    With no selection, every mechanism, company and sector plus the data
    quality report; with any of ``mechanisms``, ``companies``, ``sectors``,
    only those.

    Raises
    ------
    gm_eval.errors.InputError
        When a selected id is not in the results.
    """
    from gm_eval.errors import InputError

    results_dir = Path(results_dir).resolve()
    out_dir = Path(out_dir).resolve()
    res = load_results(results_dir)
    mech = res.table("mechanisms")
    if mech.empty:
        raise InputError(f"{results_dir}: the results hold no mechanisms")
    selecting = any(x for x in (mechanisms, companies, sectors))
    if data_quality is None:
        data_quality = not selecting
    names = dict(zip(mech["mechanism_id"].astype(str), mech["name"].astype(str), strict=True))
    avail = {
        "mechanism": list(dict.fromkeys(mech["mechanism_id"].astype(str))),
        "company": list(dict.fromkeys(mech["company_id"].dropna().astype(str))),
        "sector": list(dict.fromkeys(mech["sector"].dropna().astype(str))),
    }
    wanted = {"mechanism": mechanisms, "company": companies, "sector": sectors}
    tasks: list[ReportTask] = []
    for kind in ("mechanism", "company", "sector"):
        sel = wanted[kind]
        if selecting and not sel:
            continue
        ids = avail[kind] if not sel else list(dict.fromkeys(str(x) for x in sel))
        unknown = [i for i in ids if i not in avail[kind]]
        if unknown:
            raise InputError(f"unknown {kind} id(s) not in the results: {', '.join(map(repr, unknown))}")
        for eid in ids:
            tasks.append(_task(results_dir, out_dir, kind, eid, names.get(eid, eid) if kind == "mechanism" else eid,
                               neutral_labels))
    if data_quality:
        tasks.append(_task(results_dir, out_dir, "data_quality", "", "Data quality", False))
    return tasks


def _task(results_dir: Path, out_dir: Path, kind: str, eid: str, label: str, neutral: bool) -> ReportTask:
    template, param = KINDS[kind]
    stem = safe_name(eid) if eid else "data_quality"
    nb = _inside(out_dir, out_dir / kind / f"{stem}.ipynb")
    prepared = _inside(out_dir, out_dir / ".prepared" / kind / f"{stem}.json")
    params: dict = {"results_dir": str(results_dir), "prepared": str(prepared)}
    if param:
        params[param] = eid
    if kind == "sector":
        params["neutral_labels"] = bool(neutral)
    return ReportTask(kind=kind, entity_id=eid, label=label, template=str(notebooks_dir() / template),
                      notebook=str(nb), html=str(nb.with_suffix(".html")), prepared=str(prepared),
                      parameters=params)


# ---------------------------------------------------------------- HTML export
_TEMPLATE = r"""
{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block extra_css -%}
<style type="text/css">
body.jp-Notebook{max-width:1200px;margin:0 auto;padding:1rem 2rem;font-size:17px}
.jp-Cell{padding:0}.jp-OutputArea-output{overflow-x:auto}
.jp-RenderedHTMLCommon h1{font-size:2.1rem}.jp-RenderedHTMLCommon h2{font-size:1.6rem;margin-top:1.6em}
@media print{.plotly-graph-div{page-break-inside:avoid}}
</style>
{%- endblock extra_css -%}
"""

_EXPORTER = None


def _exporter():
    global _EXPORTER
    if _EXPORTER is None:
        from jinja2 import DictLoader
        from nbconvert import HTMLExporter

        _EXPORTER = HTMLExporter(
            template_name="lab",
            extra_loaders=[DictLoader({"gm_report.html.j2": _TEMPLATE})],
            template_file="gm_report.html.j2",
            exclude_input=True,
            exclude_input_prompt=True,
            exclude_output_prompt=True,
            anchor_link_text="",
        )
    return _EXPORTER


def export_html(notebook, html_path, title: str | None = None) -> Path:
    """Export an executed notebook to self-contained HTML with the code hidden.

    The page loads nothing from the web: no require.js, MathJax, mermaid or
    widget scripts from a CDN; figures carry plotly.js inline.

    Parameters
    ----------
    notebook : str, path-like or nbformat.NotebookNode
        Executed notebook.
    html_path : str or path-like
        Output file.
    title : str, optional
        Page title.
    """
    import nbformat

    nb = notebook if isinstance(notebook, nbformat.NotebookNode) else nbformat.read(str(notebook), as_version=4)
    if title:
        nb.metadata["title"] = title
    body, _ = _exporter().from_notebook_node(nb, resources={"metadata": {"name": title or "report"}})
    # nbconvert may re-serialise the placeholder's attributes: find it by its data attribute
    done: list[bool] = []

    def fill(_m) -> str:
        if done:
            return ""
        done.append(True)
        return _plotly_script()

    body = _MARKER_RE.sub(fill, body)
    html_path = Path(html_path)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = html_path.with_suffix(".html.tmp")
    tmp.write_text(body, encoding="utf-8")
    os.replace(tmp, html_path)
    return html_path


# ----------------------------------------------------------------- one report
def _error_record(exc) -> dict:
    rec = {"ename": type(exc).__name__, "evalue": _ANSI_RE.sub("", str(exc)).strip()[:2000]}
    for attr in ("cell_index", "exec_count", "ename", "evalue"):
        if hasattr(exc, attr):
            val = getattr(exc, attr)
            rec[attr] = _ANSI_RE.sub("", val).strip()[:2000] if isinstance(val, str) else val
    if hasattr(exc, "source"):
        rec["cell_source"] = str(exc.source)[:500]
    return rec


def run_one(task: dict) -> dict:
    """Render one report: prepare content, execute the notebook, export HTML.

    Runs in a worker process (pool or Dask worker). Never raises: the returned
    record has ``status`` ``ok`` or ``failed`` with ``stage`` and ``error``
    (for a notebook failure: the cell index, its source and the exception).
    """
    import papermill as pm

    t = ReportTask(**task)
    started = time.time()
    t0 = time.perf_counter()
    rec = {"kind": t.kind, "entity_id": t.entity_id, "label": t.label, "parameters": t.parameters,
           "notebook": t.notebook, "html": t.html, "started_at": _iso(started), "worker_pid": os.getpid()}
    Path(t.notebook).parent.mkdir(parents=True, exist_ok=True)
    # 1. prepare the content in this (reused) process, in a thread, while the kernel starts; the
    #    kernel waits for it (``.pending`` marker). On failure the notebook computes the content
    #    itself and fails visibly in its own cell.
    prepared = Path(t.prepared)
    prepared.parent.mkdir(parents=True, exist_ok=True)
    prepared.unlink(missing_ok=True)
    pending = prepared.with_name(prepared.name + ".pending")
    pending.touch()
    timing: dict = {}

    def prepare() -> None:
        p0 = time.perf_counter()
        try:
            rep = build_report(t.parameters["results_dir"], t.kind, t.entity_id,
                               neutral_labels=bool(t.parameters.get("neutral_labels", False)))
            tmp = prepared.with_suffix(".json.tmp")
            tmp.write_text(rep.to_json(), encoding="utf-8")
            os.replace(tmp, prepared)
        except Exception:  # noqa: BLE001 - the notebook will raise the real error in its own cell
            prepared.unlink(missing_ok=True)
        finally:
            pending.unlink(missing_ok=True)
            timing["prepare_s"] = round(time.perf_counter() - p0, 3)

    import threading

    worker = threading.Thread(target=prepare, name="gm-eval-prepare", daemon=True)
    worker.start()
    # 2. execute
    t1 = time.perf_counter()
    Path(t.html).unlink(missing_ok=True)
    try:
        try:
            nb = _execute_notebook(pm, t)
        except pm.PapermillExecutionError:
            raise
        except Exception:  # noqa: BLE001 - kernel start-up races (ports taken, dead kernel): retry once
            rec["retried"] = True
            nb = _execute_notebook(pm, t)
    except Exception as exc:  # noqa: BLE001 - PapermillExecutionError and kernel failures alike
        worker.join()
        rec.update(timing)
        rec.update(status="failed", stage="execute", error=_error_record(exc))
        rec["duration_s"] = round(time.perf_counter() - t0, 3)
        return rec
    worker.join()
    rec.update(timing)
    rec["execute_s"] = round(time.perf_counter() - t1, 3)
    # 3. export
    t2 = time.perf_counter()
    try:
        title = {"mechanism": f"{t.label}: grievance mechanism report", "company": f"{t.label}: company report",
                 "sector": f"Sector benchmark: {t.label}", "data_quality": "Data quality"}[t.kind]
        if t.kind == "sector" and t.parameters.get("neutral_labels"):
            title = f"Sector benchmark: {t.label} (neutral labels)"
        export_html(nb, t.html, title=title)
    except Exception as exc:  # noqa: BLE001
        rec.update(status="failed", stage="export", error=_error_record(exc))
        rec["duration_s"] = round(time.perf_counter() - t0, 3)
        return rec
    rec["export_s"] = round(time.perf_counter() - t2, 3)
    rec["status"] = "ok"
    rec["duration_s"] = round(time.perf_counter() - t0, 3)
    return rec


def _execute_notebook(pm, t: ReportTask):
    return pm.execute_notebook(
        t.template, t.notebook, parameters=dict(t.parameters), kernel_name="python3",
        progress_bar=False, log_output=False, request_save_on_cell_execute=False,
    )


def _iso(ts: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def _warm_worker(log_dir: str | None = None) -> None:
    """Pool initializer: import what every report needs once per worker.

    With ``log_dir``, the worker's standard error (and so its kernels' start-up
    chatter) goes to ``log_dir/worker-<pid>.log`` instead of the terminal.
    """
    if log_dir:
        Path(log_dir).mkdir(parents=True, exist_ok=True)
        fd = os.open(Path(log_dir) / f"worker-{os.getpid()}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 2)
        os.close(fd)
    import nbconvert  # noqa: F401
    import papermill  # noqa: F401

    from gm_eval import narrative, plots, tables  # noqa: F401


# --------------------------------------------------------------- the batch
def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _versions() -> dict:
    import platform
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version(), "platform": platform.platform()}
    for pkg in ("gm-eval", "papermill", "nbconvert", "nbclient", "ipykernel", "plotly", "pandas", "pyarrow",
                "dask", "distributed"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


def _previous(out_dir: Path) -> tuple[dict, dict]:
    """Report records of the previous run by ``kind/id``, and its results file hashes."""
    mf = out_dir / MANIFEST_NAME
    if not mf.exists():
        return {}, {}
    try:
        data = json.loads(mf.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}, {}
    recs = {f"{r['kind']}/{r['entity_id']}": r for r in data.get("reports", [])}
    return recs, data.get("results", {}).get("files", {})


def run_reports(results_dir, out_dir, mechanisms=None, companies=None, sectors=None,
                data_quality: bool | None = None, workers: int | None = None, resume: bool = False,
                scheduler: str | None = None, neutral_labels: bool = False, progress: bool | None = None,
                command: list[str] | None = None) -> RunSummary:
    """Render reports in parallel, export them to offline HTML, write index and manifest.

    Parameters
    ----------
    results_dir : str or path-like
        Results directory (``gm-eval score`` output).
    out_dir : str or path-like
        Reports directory (created).
    mechanisms, companies, sectors : list of str, optional
        Select reports (default: all, plus data quality).
    data_quality : bool, optional
        Force the data quality report on or off.
    workers : int, optional
        Worker processes (default: the number of cores). Ignored with ``scheduler``.
    resume : bool
        Re-run only reports that failed or whose files are missing in the
        previous run manifest of ``out_dir``; keep the others.
    scheduler : str, optional
        Address of a Dask distributed scheduler (``tcp://host:8786``); the
        reports then run on its workers, which must see ``results_dir`` and
        ``out_dir`` at the same paths and have gm-eval and a ``python3``
        kernel installed.
    neutral_labels : bool
        Sector benchmarks with neutral labels instead of mechanism names.
    progress : bool, optional
        Show a progress bar (default: when stderr is a terminal).
    command : list of str, optional
        The command line, recorded in the manifest.

    Returns
    -------
    RunSummary
        ``records`` holds one dict per report (``kind, entity_id, label,
        parameters, notebook, html, status, stage, error, started_at,
        duration_s, prepare_s, execute_s, export_s, reused``).
    """
    from tqdm.auto import tqdm

    started = time.time()
    results_dir = Path(results_dir).resolve()
    out_dir = Path(out_dir).resolve()
    tasks = plan_reports(results_dir, out_dir, mechanisms, companies, sectors, data_quality, neutral_labels)
    out_dir.mkdir(parents=True, exist_ok=True)
    prev, prev_files = _previous(out_dir) if resume else ({}, {})
    files = {p.name: _sha256(p) for p in sorted(results_dir.iterdir()) if p.is_file()}
    if resume and prev and prev_files != files:
        print(f"warning: {results_dir} changed since the previous run; the reports kept by --resume "
              "were rendered from the earlier results", file=sys.stderr)
    records: dict[str, dict] = {}
    todo: list[ReportTask] = []
    for t in tasks:
        old = prev.get(t.key)
        if (old and old.get("status") == "ok" and old.get("parameters") == t.parameters
                and Path(t.notebook).exists() and Path(t.html).exists()):
            records[t.key] = {**old, "reused": True}
        else:
            todo.append(t)
    workers = max(1, int(workers or os.cpu_count() or 1))
    bar = tqdm(total=len(todo), desc="reports", unit="report", disable=(not progress) if progress is not None else None,
               file=sys.stderr)
    payloads = [t.__dict__ for t in todo]
    for rec in _execute(payloads, workers, scheduler, log_dir=str(out_dir / ".logs")):
        rec["reused"] = False
        records[f"{rec['kind']}/{rec['entity_id']}"] = rec
        bar.update(1)
        if rec["status"] != "ok":
            bar.write(f"failed: {rec['kind']} {rec['entity_id']}: {rec['error'].get('ename')}: "
                      f"{rec['error'].get('evalue', '')[:200]}")
    bar.close()
    ordered = [records[t.key] for t in tasks if t.key in records]
    manifest = {
        "tool": "gm-eval report",
        "created_at": _iso(started),
        "finished_at": _iso(time.time()),
        "duration_s": round(time.time() - started, 3),
        "command": command,
        "parameters": {"results_dir": str(results_dir), "out_dir": str(out_dir), "mechanisms": mechanisms,
                       "companies": companies, "sectors": sectors, "data_quality": data_quality,
                       "workers": None if scheduler else workers, "scheduler": scheduler, "resume": resume,
                       "neutral_labels": neutral_labels},
        "versions": _versions(),
        "results": {
            "manifest": {k: load_results(results_dir).manifest.get(k)
                         for k in ("tool", "version", "created_at", "as_of", "k", "min_n")},
            "files": files,
        },
        "templates": {Path(t).name: _sha256(Path(t)) for t in sorted({t.template for t in tasks})},
        "summary": {"planned": len(tasks), "run": len(todo), "reused": len(tasks) - len(todo),
                    "ok": sum(r["status"] == "ok" for r in ordered),
                    "failed": sum(r["status"] != "ok" for r in ordered)},
        "reports": ordered,
    }
    mf = out_dir / MANIFEST_NAME
    tmp = mf.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, mf)
    index = write_index(out_dir, ordered, load_results(results_dir).manifest)
    return RunSummary(out_dir=out_dir, index=index, manifest=mf, records=ordered)


def _execute(payloads: list[dict], workers: int, scheduler: str | None, log_dir: str | None = None):
    """Yield one record per payload as reports finish."""
    if not payloads:
        return
    if scheduler:
        yield from _execute_dask(payloads, scheduler)
        return
    if workers == 1 or len(payloads) == 1:
        for p in payloads:
            yield run_one(p)
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    ctx = mp.get_context("forkserver") if "forkserver" in mp.get_all_start_methods() else mp.get_context("spawn")
    if ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload(["gm_eval.reports", "papermill", "nbconvert", "pandas", "plotly.graph_objects"])
    with ProcessPoolExecutor(max_workers=min(workers, len(payloads)), mp_context=ctx,
                             initializer=_warm_worker, initargs=(log_dir,)) as pool:
        futures = {pool.submit(run_one, p): p for p in payloads}
        for fut in as_completed(futures):
            try:
                yield fut.result()
            except Exception as exc:  # noqa: BLE001 - a worker died: record it, keep going
                p = futures[fut]
                yield _lost(p, exc)


def _lost(p: dict, exc: BaseException) -> dict:
    return {"kind": p["kind"], "entity_id": p["entity_id"], "label": p["label"], "parameters": p["parameters"],
            "notebook": p["notebook"], "html": p["html"], "status": "failed", "stage": "worker",
            "error": _error_record(exc), "duration_s": None}


def _execute_dask(payloads: list[dict], scheduler: str):
    from distributed import Client, as_completed

    from gm_eval.errors import InputError

    try:
        client = Client(scheduler, timeout=DASK_CONNECT_TIMEOUT)
    except OSError as exc:
        raise InputError(f"cannot connect to the Dask scheduler at {scheduler}: {exc}") from exc
    try:
        futures = {}
        for p in payloads:
            key = f"gm-eval-report-{p['kind']}-{safe_name(p['entity_id'] or 'all')}-{os.getpid()}-{time.time_ns()}"
            futures[client.submit(run_one, p, key=key, pure=False)] = p
        for fut in as_completed(list(futures)):
            try:
                yield fut.result()
            except Exception as exc:  # noqa: BLE001
                yield _lost(futures[fut], exc)
    finally:
        client.close()


# ------------------------------------------------------------------ index
def write_index(out_dir, records: list, results_manifest: dict | None = None) -> Path:
    """Write ``index.html`` linking every report (relative links, no external resources).

    Parameters
    ----------
    out_dir : str or path-like
        Reports directory.
    records : list of dict
        Report records (see :func:`run_reports`).
    results_manifest : dict, optional
        The results manifest, for the evaluation date.

    Returns
    -------
    pathlib.Path
    """
    out_dir = Path(out_dir).resolve()
    headings = {"mechanism": "Mechanism reports", "company": "Company reports", "sector": "Sector benchmarks",
                "data_quality": "Data quality"}
    parts = []
    n_failed = sum(r["status"] != "ok" for r in records)
    for kind, heading in headings.items():
        rows = [r for r in records if r["kind"] == kind]
        if not rows:
            continue
        parts.append(f"<h2>{_esc(heading)}</h2><ul>")
        for r in sorted(rows, key=lambda r: str(r["label"]).lower()):
            label = _esc(r["label"] or r["entity_id"])
            if r["status"] == "ok":
                rel = Path(r["html"]).resolve().relative_to(out_dir).as_posix()
                parts.append(f'<li><a href="{html.escape(rel, quote=True)}">{label}</a></li>')
            else:
                err = r.get("error") or {}
                cell = f" in cell {err['cell_index']}" if err.get("cell_index") is not None else ""
                parts.append(f'<li class="failed">{label}: <strong>failed</strong>{_esc(cell)} '
                             f"({_esc(err.get('ename', ''))}: {_esc(str(err.get('evalue', ''))[:200])})</li>")
        parts.append("</ul>")
    as_of = (results_manifest or {}).get("as_of")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>gm-eval reports</title>
<style>
body{{font-family:Verdana,"DejaVu Sans",Arial,sans-serif;font-size:18px;max-width:1000px;margin:2rem auto;
padding:0 1rem;color:#1a1a1a;line-height:1.5}}
a{{color:#0072B2}} li{{margin:0.3em 0}} li.failed{{color:#B34700}}
.summary{{background:#f2f2f2;padding:0.6em 1em;border-radius:6px}}
</style></head><body>
<h1>Grievance mechanism evaluation: reports</h1>
<p class="summary">{len(records)} reports{f", evaluation date {_esc(as_of)}" if as_of else ""}.
{f"<strong>{n_failed} failed</strong>: see run_manifest.json for the cell and error." if n_failed else "All rendered."}</p>
{"".join(parts)}
</body></html>
"""
    path = out_dir / "index.html"
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, path)
    return path
