"""Voila dashboards: the launcher, its shipped configuration and the view model.

Two notebooks in ``dashboards/`` call into this module and nothing else:
``sector_overview.ipynb`` displays :func:`build_sector_overview` and
``mechanism.ipynb`` displays :func:`build_mechanism_view`. Every computation
they show is a pure function of the published tables (``scores``,
``indicators``, ``disaggregation``, ``recommendations``, ``mechanisms``), so it
can be tested without a browser:

* :func:`filter_mechanisms`, :func:`filter_options` -- the sector, country and
  mechanism-type filters;
* :func:`neutral_labels`, :func:`display_labels` -- "Mechanism A", "Mechanism B"...
  for presentation mode;
* :func:`check_mechanism_id`, :func:`mechanism_from_query` -- untrusted ids from
  a query string or widget are checked against the mechanisms table, never used
  to build a path, never echoed;
* :func:`score_matrix`, :func:`ranking`, :func:`compare_to_sector_median`,
  :func:`children_lens`, :func:`disaggregation_view`,
  :func:`mechanism_recommendations`, :func:`suppression_note`.

Voila runs the whole notebook in a fresh kernel for every page view, so the
dashboards read only the published Parquet tables of a results directory
(given by the ``GM_EVAL_RESULTS`` environment variable), never raw data.

:func:`launch` starts Voila with :data:`VOILA_CONFIG`: sources stripped,
tracebacks hidden, bound to 127.0.0.1 unless a LAN address is asked for (then a
token is required), idle kernels culled, a per-cell timeout, and a preheated
kernel per dashboard so the first page paints quickly.
"""

from __future__ import annotations

import html
import ipaddress
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from urllib.parse import parse_qs

import numpy as np
import pandas as pd

from gm_eval.contract import CRITERIA, ID_PATTERN
from gm_eval.errors import GmEvalError, InputError
from gm_eval.heatmap_table import criteria_heatmap_html, heatmap_matrix

__all__ = [
    "RESULTS_ENV",
    "DASHBOARDS_ENV",
    "DIMENSIONS",
    "CHILD_LENS",
    "VOILA_CONFIG",
    "results_dir_from_env",
    "load_tables",
    "neutral_label",
    "neutral_labels",
    "display_labels",
    "filter_options",
    "filter_mechanisms",
    "check_mechanism_id",
    "mechanism_from_query",
    "score_matrix",
    "ranking",
    "compare_to_sector_median",
    "children_lens",
    "disaggregation_view",
    "mechanism_recommendations",
    "suppression_note",
    "query_string",
    "dashboards_dir",
    "voila_config",
    "VOILA_TEMPLATE",
    "write_voila_template",
    "voila_argv",
    "launch",
    "build_sector_overview",
    "show_sector_overview",
    "FIRST_PAINT_METADATA",
    "build_mechanism_view",
]

#: Environment variable holding the results directory the dashboards read.
RESULTS_ENV = "GM_EVAL_RESULTS"
#: Environment variable overriding where the dashboard notebooks are found.
DASHBOARDS_ENV = "GM_EVAL_DASHBOARDS"

#: Disaggregation dimensions of the ``disaggregation`` table, in display order.
DIMENSIONS: dict[str, str] = {
    "gender": "Gender",
    "age_band": "Age band",
    "migrant": "Migrant status",
    "channel": "Channel",
    "site": "Site",
}

#: Indicators of the children's lens panel and their plain-language labels.
CHILD_LENS: dict[str, str] = {
    "accessible.child_awareness_rate": "Children who know where to tell",
    "rights_compatible.child_referral_rate": "Child cases referred to protection",
    "rights_compatible.clms_exit_rate": "Out of child labour at follow-up",
}

_ID_RE = re.compile(ID_PATTERN)
_ALL = "(all)"
#: Most mechanisms drawn in the heatmap (the best overall of the filtered set).
MAX_LABELLED_ROWS = 60
#: Mechanisms shown in the ranking chart (the top of the filtered list).
RANKING_TOP = 25

#: Shipped Voila configuration (traitlets sections). :func:`voila_argv` turns it
#: into command-line options; ``ip``, ``port`` and ``token`` are added there.
VOILA_CONFIG: dict[str, dict[str, object]] = {
    "VoilaConfiguration": {
        # never show notebook source or Python tracebacks to viewers
        "strip_sources": True,
        "show_tracebacks": False,
        # a kernel per dashboard is started and the notebook pre-run before the
        # first viewer arrives (first paint target: 3 s with 1,000 mechanisms)
        "preheat_kernel": True,
        "default_pool_size": 1,
        # heartbeat on slow cells so a reverse proxy does not drop the page
        "http_keep_alive_timeout": 10,
        # the dashboards folder holds only notebooks: serve none of its files
        "file_denylist": [".*"],
        "theme": "light",
        "template": "gm_eval",
    },
    "VoilaExecutor": {
        # per-cell timeout in seconds; a cell over it stops the page cleanly
        "timeout": 60,
        "show_tracebacks": False,
    },
    "VoilaKernelManager": {
        # the drill-down waits for its ?mechanism= query string, which a
        # preheated kernel only receives when a viewer arrives: pre-running it
        # would hit the per-cell timeout while idle, so it starts on demand
        "preheat_denylist": ["mechanism.ipynb"],
    },
    "MappingKernelManager": {
        # cull kernels idle for 30 minutes, checked every minute, including
        # those of viewers who left a tab open (phones in a room); a presenter
        # back after a longer pause reloads the page
        "cull_idle_timeout": 1800,
        "cull_interval": 60,
        "cull_connected": True,
        "cull_busy": False,
    },
}


# --------------------------------------------------------------------- loading
def results_dir_from_env(env: Mapping[str, str] | None = None) -> Path:
    """Return the results directory named by :data:`RESULTS_ENV`.

    Raises
    ------
    gm_eval.errors.InputError
        When the variable is unset or does not name a directory.
    """
    env = os.environ if env is None else env
    value = env.get(RESULTS_ENV, "")
    if not value:
        raise InputError(f"no results directory: set {RESULTS_ENV} or use `gm-eval dashboard RESULTS_DIR`")
    path = Path(value)
    if not path.is_dir():
        raise InputError(f"results directory not found: {path}")
    return path


def load_tables(results_dir: str | Path, names: Iterable[str]) -> dict[str, pd.DataFrame]:
    """Read published tables of a results directory through :func:`gm_eval.results.read_results`.

    Parameters
    ----------
    results_dir : str or path-like
        A results directory written by ``gm-eval score``.
    names : iterable of str
        Documented table stems (from fixed lists in this module, never user input).

    Returns
    -------
    dict of str to DataFrame
        Tables not written are empty frames with the documented columns; ``flags``
        is text with ``""`` for none, ``mechanism_id`` is text.

    Raises
    ------
    gm_eval.errors.InputError
        When ``results_dir`` is not a results directory.
    """
    from gm_eval.results import read_results

    res = read_results(results_dir)
    if not res.has("mechanisms"):
        raise InputError(f"{results_dir} is not a results directory (no mechanisms table)")
    out: dict[str, pd.DataFrame] = {}
    for name in names:
        df = res.table(name)
        if "flags" in df.columns:
            df["flags"] = df["flags"].fillna("").astype("str")
        if "mechanism_id" in df.columns:
            df["mechanism_id"] = df["mechanism_id"].astype("str")
        out[name] = df
    return out


# ---------------------------------------------------------------------- labels
def neutral_label(i: int) -> str:
    """Neutral label number ``i`` (0-based): "Mechanism A" ... "Mechanism Z", "Mechanism AA"...

    Examples
    --------
    >>> neutral_label(0), neutral_label(25), neutral_label(26)
    ('Mechanism A', 'Mechanism Z', 'Mechanism AA')
    """
    if i < 0:
        raise ValueError("label number must be >= 0")
    letters = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        letters = chr(65 + r) + letters
    return f"Mechanism {letters}"


def neutral_labels(mechanism_ids: Sequence[str]) -> pd.Series:
    """Neutral labels for mechanisms, assigned in sorted id order (stable across filters).

    Returns
    -------
    Series
        Index ``mechanism_id``, values "Mechanism A", ...
    """
    ids = sorted(pd.unique(pd.Series(list(mechanism_ids), dtype="str")))
    return pd.Series([neutral_label(i) for i in range(len(ids))], index=pd.Index(ids, name="mechanism_id"),
                     name="label", dtype="str")


def display_labels(mechanisms: pd.DataFrame, presentation: bool = False) -> pd.Series:
    """Labels to show for each mechanism: its name, or a neutral label in presentation mode.

    Names are made unique by appending the id when two mechanisms share one.
    """
    if presentation:
        return neutral_labels(mechanisms["mechanism_id"])
    names = mechanisms["name"].astype("str").str.strip()
    dup = names.duplicated(keep=False)
    labels = names.where(~dup, names + " (" + mechanisms["mechanism_id"].astype("str") + ")")
    return pd.Series(labels.to_numpy(), index=pd.Index(mechanisms["mechanism_id"].astype("str"),
                                                        name="mechanism_id"), name="label", dtype="str")


# --------------------------------------------------------------------- filters
def filter_options(mechanisms: pd.DataFrame) -> dict[str, list[str]]:
    """Sorted distinct values of ``sector``, ``country`` and ``mechanism_type``."""
    out = {}
    for col in ("sector", "country", "mechanism_type"):
        vals = mechanisms[col].dropna().astype("str") if col in mechanisms else pd.Series([], dtype="str")
        out[col] = sorted(vals.unique().tolist())
    return out


def filter_mechanisms(mechanisms: pd.DataFrame, sector: str | None = None, country: str | None = None,
                      mechanism_type: str | None = None) -> pd.DataFrame:
    """Mechanisms matching every given filter (``None`` or ``"(all)"`` means no filter).

    Values are compared as plain strings against the table, so an unknown value
    simply matches nothing.
    """
    mask = pd.Series(True, index=mechanisms.index)
    for col, val in (("sector", sector), ("country", country), ("mechanism_type", mechanism_type)):
        if val is not None and val != _ALL and col in mechanisms:
            mask &= mechanisms[col].astype("str") == str(val)
    return mechanisms.loc[mask]


# ------------------------------------------------------------ untrusted input
def check_mechanism_id(value: object, known_ids: Iterable[str]) -> str | None:
    """Return ``value`` if it is exactly one of ``known_ids``, else ``None``.

    The value comes from a query string or a widget and is untrusted: it is
    matched against the allowlist as an exact string (no normalisation, no
    path handling) and only the matching known id is returned.
    """
    if not isinstance(value, str) or not _ID_RE.fullmatch(value):
        return None
    known = set(map(str, known_ids))
    return value if value in known else None


def mechanism_from_query(qs: str | None, known_ids: Iterable[str]) -> tuple[str | None, str]:
    """Read ``?mechanism=`` from a raw query string and check it against ``known_ids``.

    Returns
    -------
    (str or None, str)
        The known mechanism id (or ``None``) and a message for the viewer. The
        message never contains the submitted value. An absent parameter gives
        ``(None, "")``.
    """
    if not qs:
        return None, ""
    try:
        params = parse_qs(qs[:4096], keep_blank_values=True, max_num_fields=32)
    except ValueError:
        return None, "The link is not valid. Choose a mechanism from the list."
    values = params.get("mechanism")
    if not values:
        return None, ""
    found = check_mechanism_id(values[0], known_ids)
    if found is None:
        return None, "Unknown mechanism in the link. Choose a mechanism from the list."
    return found, ""


def query_string() -> str:
    """The page's query string inside a Voila kernel ("" elsewhere).

    With preheated kernels Voila delivers the request only when the viewer
    arrives; ``voila.utils.get_query_string`` waits for it.
    """
    try:
        from voila.utils import get_query_string

        qs = get_query_string()
    except Exception:  # noqa: BLE001 - outside Voila there is no request
        qs = os.environ.get("QUERY_STRING", "")
    return qs or ""


# -------------------------------------------------------------- view models
def score_matrix(scores: pd.DataFrame, mechanism_ids: Sequence[str]) -> pd.DataFrame:
    """Mechanisms x criteria score matrix, best overall first.

    Returns
    -------
    DataFrame
        Index ``mechanism_id``; columns the eight criteria (in canonical order)
        then ``overall``; missing scores are NaN (not covered or suppressed).
    """
    sub = scores[scores["mechanism_id"].isin(list(mechanism_ids))]
    wide = heatmap_matrix(sub).reindex(index=pd.Index(list(mechanism_ids), name="mechanism_id").unique(),
                                       columns=[*CRITERIA, "overall"])
    return wide.sort_values("overall", ascending=False, na_position="last", kind="stable")


def ranking(scores: pd.DataFrame, mechanism_ids: Sequence[str]) -> pd.DataFrame:
    """Overall ranking of the given mechanisms.

    Returns
    -------
    DataFrame
        ``mechanism_id, score, band, rank`` sorted best first; ``rank`` is 1 for
        the best (ties share the best rank); mechanisms without an overall score
        come last with ``rank`` missing.
    """
    ov = scores[(scores["criterion"] == "overall") & scores["mechanism_id"].isin(list(mechanism_ids))]
    cols = ["mechanism_id", "score"] + (["band"] if "band" in ov else [])
    ov = ov[cols].sort_values(["score", "mechanism_id"], ascending=[False, True], na_position="last")
    ov = ov.assign(rank=ov["score"].rank(method="min", ascending=False).astype("Int64"))
    return ov.reset_index(drop=True)


def compare_to_sector_median(scores: pd.DataFrame, mechanism_id: str) -> pd.DataFrame:
    """One mechanism's criterion scores beside its sector median.

    Returns
    -------
    DataFrame
        ``criterion, score, sector_median`` for the eight criteria in canonical order.
    """
    sub = scores[(scores["mechanism_id"] == mechanism_id) & scores["criterion"].isin(CRITERIA)]
    sub = sub.set_index("criterion").reindex(list(CRITERIA))
    med = sub["sector_median"] if "sector_median" in sub else np.nan
    return pd.DataFrame({"criterion": list(CRITERIA), "score": sub["score"].to_numpy(),
                         "sector_median": np.asarray(med, dtype="float64")})


def children_lens(indicators: pd.DataFrame, mechanism_ids: Sequence[str]) -> pd.DataFrame:
    """The children's lens indicators of the given mechanisms.

    Returns
    -------
    DataFrame
        ``mechanism_id, indicator_id, label, value, ci_low, ci_high, n, status``
        with one row per mechanism and child-lens indicator; ``status`` is
        ``ok``, ``suppressed`` (withheld at the publication boundary) or
        ``not_covered`` (no evidence).
    """
    ids = pd.Index(list(mechanism_ids), name="mechanism_id").unique()
    grid = pd.MultiIndex.from_product([ids, list(CHILD_LENS)], names=["mechanism_id", "indicator_id"])
    cols = ["value", "ci_low", "ci_high", "n", "flags"]
    sub = indicators[indicators["indicator_id"].isin(list(CHILD_LENS)) & indicators["mechanism_id"].isin(ids)]
    sub = sub.set_index(["mechanism_id", "indicator_id"])[cols].reindex(grid).reset_index()
    flags = sub["flags"].fillna("").astype("str")
    status = np.select(
        [flags.str.contains("suppressed", regex=False),
         flags.str.contains("not_covered", regex=False) | sub["value"].isna()],
        ["suppressed", "not_covered"], default="ok")
    sub["status"] = pd.Series(status, index=sub.index, dtype="str")
    sub["label"] = sub["indicator_id"].map(CHILD_LENS)
    return sub[["mechanism_id", "indicator_id", "label", "value", "ci_low", "ci_high", "n", "status"]]


def disaggregation_view(disaggregation: pd.DataFrame, mechanism_id: str, dimension: str,
                        indicator_id: str | None = None) -> pd.DataFrame:
    """Rows of the disaggregation table for one mechanism and dimension.

    Parameters
    ----------
    disaggregation : DataFrame
        The published ``disaggregation`` table.
    mechanism_id : str
        A checked, known mechanism id.
    dimension : str
        One of :data:`DIMENSIONS`; anything else gives an empty frame.
    indicator_id : str, optional
        Restrict to one indicator.

    Returns
    -------
    DataFrame
        ``indicator_id, group, value, ci_low, ci_high, n, suppressed`` in table order.
    """
    cols = ["indicator_id", "group", "value", "ci_low", "ci_high", "n", "suppressed"]
    if dimension not in DIMENSIONS or disaggregation.empty:
        return pd.DataFrame(columns=cols)
    mask = (disaggregation["mechanism_id"] == mechanism_id) & (disaggregation["dimension"] == dimension)
    if indicator_id is not None:
        mask &= disaggregation["indicator_id"] == indicator_id
    sub = disaggregation.loc[mask]
    sup = sub["flags"].fillna("").astype("str").str.contains("suppressed", regex=False)
    sub = sub.assign(group=sub["group"].astype("str"), suppressed=sup)
    return sub[cols].reset_index(drop=True)


def mechanism_recommendations(recommendations: pd.DataFrame, mechanism_id: str) -> pd.DataFrame:
    """Recommendations for one mechanism, by rank."""
    if recommendations.empty:
        return pd.DataFrame(columns=["rank", "criterion", "recommendation", "reference"])
    sub = recommendations[recommendations["mechanism_id"] == mechanism_id].sort_values("rank")
    return sub.reset_index(drop=True)


def suppression_note(indicators: pd.DataFrame, mechanism_ids: Sequence[str], k: int | None = None) -> str:
    """Plain-text note on how many indicator values were withheld for these mechanisms."""
    sub = indicators[indicators["mechanism_id"].isin(list(mechanism_ids))]
    n_sup = int(sub["flags"].fillna("").astype("str").str.contains("suppressed", regex=False).sum())
    if n_sup == 0:
        return "No values were withheld."
    kk = f" (fewer than {k} people)" if k else ""
    return (f"{n_sup:,} indicator value{'s were' if n_sup != 1 else ' was'} withheld to protect "
            f"privacy{kk}; they show as blank cells marked 'suppressed'.")


# ------------------------------------------------------------------ launcher
def dashboards_dir() -> Path:
    """Folder holding ``sector_overview.ipynb`` and ``mechanism.ipynb``.

    :data:`DASHBOARDS_ENV` overrides the default: the ``dashboards/`` folder
    next to the package in a source checkout, else the installed copy
    (:func:`gm_eval.resources.bundled_dir`).
    """
    from gm_eval.resources import bundled_dir

    path = bundled_dir("dashboards", "sector_overview.ipynb", DASHBOARDS_ENV)
    if not (path / "sector_overview.ipynb").is_file():
        raise GmEvalError(f"dashboard notebooks not found in {path}; set {DASHBOARDS_ENV}")
    return path


def _is_loopback(ip: str) -> bool:
    if ip == "localhost":
        return True
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def voila_config(overrides: Mapping[str, Mapping[str, object]] | None = None) -> dict:
    """The shipped configuration with ``overrides`` merged per section."""
    cfg = {sec: dict(vals) for sec, vals in VOILA_CONFIG.items()}
    for sec, vals in (overrides or {}).items():
        cfg.setdefault(sec, {}).update(vals)
    return cfg


def _cli_value(v: object) -> str:
    if isinstance(v, bool):
        return "True" if v else "False"
    return str(v)


#: Voila template shipped with the dashboards, Voila's ``lab`` template with:
#:
#: - no Font Awesome stylesheet links to cdn.jsdelivr.net, so a page requests
#:   nothing but the dashboard server (offline venues, no third-party requests);
#: - a server-rendered first paint: an output marked with
#:   :data:`FIRST_PAINT_METADATA` is written into the page as HTML (not handed
#:   to the JavaScript front end), the cells are not hidden while the front end
#:   loads and the loading spinner is one short line, so the heatmap shows as
#:   soon as the page arrives; a small script removes that static copy when
#:   the interactive heatmap (``.gm-out-heatmap``) is in the page.
VOILA_TEMPLATE = "gm_eval"
_TEMPLATE_CONF = '{"base_template": "lab"}'
_TEMPLATE_INDEX = """{%- extends 'voila/templates/lab/index.html.j2' -%}
{% import "spinner.macro.html.j2" as spinner %}
{%- block notebook_css -%}
  {% if frontend == "voila" %}
    {{ resources.include_js("static/voila-style.js") }}
  {% endif %}
  {{ spinner.css() }}
  <style>
    .jp-mod-noOutputs.jp-mod-noInput { display: none; }
    #loading { height: auto; flex-direction: row; justify-content: flex-start; gap: 0.6em;
               padding: 0.4em 1em; font-size: 0.8em; }
    #loading h2 { font-size: 1em; font-weight: normal; margin: 0; }
    .spinner-container { width: 1.6em; }
    #rendered_cells { display: block !important; }  /* shown while the front end loads */
    .gm-first-paint { padding: 0 1em; }
  </style>
  {{ super.super() }}
{%- endblock notebook_css -%}

{% block data_priority scoped %}
{% if output and (output.get("metadata") or {}).get("gm_eval") == "first-paint"
      and "text/html" in (output.get("data") or {}) %}
<div class="gm-first-paint">{{ output["data"]["text/html"] }}</div>
{% elif output %}
  <script type="application/vnd.voila.cell-output+json">
    {{ output | trusted | tojson }}
  </script>
{% endif %}
{% endblock data_priority %}

{%- block body_footer -%}
{{ super() }}
<script>
(function () {
  function swap() {
    if (!document.querySelector(".gm-out-heatmap")) { return false; }
    document.querySelectorAll(".gm-first-paint").forEach(function (e) { e.remove(); });
    return true;
  }
  if (!swap()) {
    var mo = new MutationObserver(function () { if (swap()) { mo.disconnect(); } });
    mo.observe(document.body, {childList: true, subtree: true});
  }
})();
</script>
{%- endblock body_footer -%}
"""


def write_voila_template(root: str | Path) -> Path:
    """Write the :data:`VOILA_TEMPLATE` template under ``root`` (a Jupyter data dir).

    Voila finds it when ``root`` is on ``JUPYTER_PATH``; :func:`launch` does this.

    Returns
    -------
    Path
        ``root / "voila" / "templates" / "gm_eval"``.
    """
    tdir = Path(root) / "voila" / "templates" / VOILA_TEMPLATE
    tdir.mkdir(parents=True, exist_ok=True)
    (tdir / "conf.json").write_text(_TEMPLATE_CONF, encoding="utf-8")
    (tdir / "index.html.j2").write_text(_TEMPLATE_INDEX, encoding="utf-8")
    return tdir


def voila_argv(port: int = 8866, ip: str = "127.0.0.1", token: str | None = None,
               notebooks: str | Path | None = None, base_url: str = "/",
               overrides: Mapping[str, Mapping[str, object]] | None = None) -> list[str]:
    """The Voila command line for the dashboards.

    Parameters
    ----------
    port : int
        TCP port.
    ip : str
        Address to bind; 127.0.0.1 by default. Any non-loopback address (a LAN
        address, ``0.0.0.0``) requires ``token``.
    token : str, optional
        Token viewers must pass (``?token=...``). Required off loopback.
    notebooks : path-like, optional
        Folder of the dashboard notebooks (default :func:`dashboards_dir`).
    base_url : str
        URL prefix when served behind a reverse proxy under a path (``/gm-eval/``).
    overrides : mapping, optional
        Extra traitlets settings, e.g. ``{"VoilaConfiguration": {"default_pool_size": 2}}``.

    Raises
    ------
    gm_eval.errors.InputError
        A non-loopback address without a token, an empty token, a bad port or base URL.
    """
    if not re.fullmatch(r"/((?!\.+/)[A-Za-z0-9._-]+/)*", base_url):
        raise InputError(f"base URL must look like /prefix/ (letters, digits, . _ -), not {base_url!r}")
    if not (0 < int(port) < 65536):
        raise InputError(f"port must be between 1 and 65535, not {port}")
    if token is not None and len(token) < 8:
        raise InputError("the token must be at least 8 characters")
    if not _is_loopback(ip) and not token:
        raise InputError(f"serving on {ip} makes the dashboards visible to the network: "
                         "pass --token (at least 8 characters) as well")
    folder = Path(notebooks) if notebooks is not None else dashboards_dir()
    argv = [sys.executable, "-m", "gm_eval.voila_server", str(folder), "--no-browser",
            f"--Voila.ip={ip}", f"--port={int(port)}", f"--Voila.base_url={base_url}"]
    argv.append(f"--Voila.token={token}" if token else "--Voila.token=")
    for sec, vals in voila_config(overrides).items():
        for key, val in vals.items():
            if isinstance(val, (list, tuple)):  # traitlets 5: one option per list item
                argv.extend(f"--{sec}.{key}={item}" for item in val)
            else:
                argv.append(f"--{sec}.{key}={_cli_value(val)}")
    return argv


def launch(results_dir: str | Path, port: int = 8866, ip: str = "127.0.0.1", token: str | None = None,
           wait: bool = True, base_url: str = "/", overrides: Mapping[str, Mapping[str, object]] | None = None,
           notebooks: str | Path | None = None, **popen_kwargs) -> subprocess.Popen | int:
    """Serve the dashboards for ``results_dir`` with Voila.

    Parameters
    ----------
    results_dir : path-like
        A results directory; it is passed to the kernels in :data:`RESULTS_ENV`
        and is not itself served.
    port, ip, token, base_url, overrides, notebooks
        See :func:`voila_argv`.
    wait : bool
        Block until Voila exits and return its exit code; otherwise return the
        running :class:`subprocess.Popen`.

    Raises
    ------
    gm_eval.errors.InputError
        When ``results_dir`` is not a results directory or the address is unsafe.
    """
    results_dir = Path(results_dir).resolve()
    if not (results_dir / "mechanisms.parquet").is_file() and not (results_dir / "mechanisms.csv").is_file():
        raise InputError(f"{results_dir} is not a results directory (run `gm-eval score` first)")
    argv = voila_argv(port=port, ip=ip, token=token, base_url=base_url, overrides=overrides, notebooks=notebooks)
    env = {**os.environ, **popen_kwargs.pop("env", {}), RESULTS_ENV: str(results_dir)}
    data_root = Path(tempfile.mkdtemp(prefix="gm-eval-voila-"))
    write_voila_template(data_root)
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(data_root), env.get("JUPYTER_PATH", "")) if p)
    proc = subprocess.Popen(argv, env=env, **popen_kwargs)
    if not wait:
        return proc
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        return proc.wait()


# ------------------------------------------------------------------ widgets
def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _message(text: str, kind: str = "info"):
    import ipywidgets as w

    colour = {"info": "#1f4e79", "warning": "#8a4b00"}.get(kind, "#1f4e79")
    return w.HTML(f'<div class="gm-message gm-{kind}" style="padding:0.6em 1em;border-left:4px solid '
                  f'{colour};background:#f4f6f8;margin:0.5em 0">{_esc(text)}</div>')


def _show(out, fig) -> None:
    """Replace the content of an Output widget with a plotly figure.

    The figure is published as the ``application/vnd.plotly.v1+json`` mimetype
    only (rendered by Voila's bundled plotly extension, offline). Publishing the
    bundle directly instead of ``fig.show()`` avoids importing plotly's renderer
    machinery (nbformat, jsonschema), which costs seconds in a fresh kernel.
    """
    import json

    from IPython.display import display

    bundle = json.loads(fig.to_json())
    bundle["config"] = {"displaylogo": False, "responsive": True}
    with out:
        out.clear_output(wait=True)
        display({"application/vnd.plotly.v1+json": bundle}, raw=True)


def _safe_build(builder, *args, **kwargs):
    """Run a widget builder; on failure return a clean message, never a traceback."""
    try:
        return builder(*args, **kwargs)
    except InputError as exc:
        print(f"gm-eval dashboard: {exc}", file=sys.stderr)
        return _message("No results to show: the results directory is missing or incomplete. "
                        "Start the dashboard with `gm-eval dashboard RESULTS_DIR`.", "warning")
    except Exception as exc:  # noqa: BLE001 - the viewer must never see a trace
        print(f"gm-eval dashboard: {type(exc).__name__}: {exc}", file=sys.stderr)
        return _message("This view could not be drawn from the results. "
                        "Check the results directory with `gm-eval validate`.", "warning")


_OVERVIEW_TABLES = ("mechanisms", "scores", "indicators")
_MECHANISM_TABLES = ("mechanisms", "scores", "disaggregation", "recommendations", "indicator_catalogue")


def _manifest_k(results_dir: Path) -> int | None:
    from gm_eval.results import read_results

    try:
        return int(read_results(results_dir).manifest.get("k"))
    except (GmEvalError, TypeError, ValueError):
        return None


_PRESENT_CSS = """<style>
.gm-present, .gm-present .widget-label, .gm-present select, .gm-present .widget-html-content,
.gm-present button, .gm-present .widget-toggle-button { font-size: 24px !important; }
.gm-present .widget-dropdown, .gm-present .widget-dropdown select,
.gm-present .widget-toggle-button { height: 44px !important; }
.gm-present h2 { font-size: 40px !important; } .gm-present h3 { font-size: 30px !important; }
.gm-dash h3 { margin: 0.8em 0 0.3em 0; }
</style>"""


def _big(fig, big: bool, rows: bool = False):
    """Presentation mode: larger type (and taller figures) in a figure.

    ``rows`` marks a figure with one category per mechanism on the y axis, whose
    every label must stay visible.
    """
    if big:
        fig.update_layout(font_size=24, title_font_size=30, hoverlabel_font_size=22)
        if fig.layout.height:
            fig.update_layout(height=int(fig.layout.height * 1.4))
    if rows:
        fig.update_yaxes(dtick=1)
    return fig


def build_sector_overview(results_dir: str | Path | None = None):
    """The sector overview dashboard as one ipywidgets container.

    Filters (sector, country, mechanism type) drive a mechanisms x criteria
    heatmap, the ranking, the score distributions, the selected mechanism
    against its sector median, and the children's lens panel. A presentation
    toggle switches to large type and neutral labels ("Mechanism A").

    Parameters
    ----------
    results_dir : path-like, optional
        Default: the directory named by :data:`RESULTS_ENV`.

    Returns
    -------
    ipywidgets.Widget
        The dashboard, or a short message widget when the results cannot be read
        (never a traceback).
    """
    return _safe_build(_sector_overview, results_dir)


def _sector_overview(results_dir):
    import ipywidgets as w

    from gm_eval import plots

    rdir = Path(results_dir) if results_dir is not None else results_dir_from_env()
    t = load_tables(rdir, _OVERVIEW_TABLES)
    mech, scores, indicators = t["mechanisms"], t["scores"], t["indicators"]
    k = _manifest_k(rdir)
    opts = filter_options(mech)
    dd = {
        "sector": w.Dropdown(options=[_ALL, *opts["sector"]], value=_ALL, description="Sector"),
        "country": w.Dropdown(options=[_ALL, *opts["country"]], value=_ALL, description="Country"),
        "mechanism_type": w.Dropdown(options=[_ALL, *opts["mechanism_type"]], value=_ALL,
                                     description="Type"),
    }
    for d in dd.values():
        d.add_class(f"gm-filter-{d.description.lower()}")
    present = w.ToggleButton(value=False, description="Presentation mode",
                             tooltip="Large type and neutral labels for showing to a room")
    present.add_class("gm-present-toggle")
    selected = w.Dropdown(options=[], description="Mechanism", layout=w.Layout(width="460px"))
    selected.add_class("gm-select-mechanism")
    outs = {name: w.Output(layout=w.Layout(min_height="120px"))
            for name in ("ranking", "distribution", "median", "children")}
    # the heatmap is an HTML table (gm_eval.heatmap_table): no plotly.js to run,
    # so a filter change redraws it at once and the server can pre-render it
    outs["heatmap"] = w.HTML(layout=w.Layout(min_height="120px", overflow="auto"))
    for name, o in outs.items():
        o.add_class(f"gm-out-{name}")
    status, note, heat_note = w.HTML(), w.HTML(), w.HTML()
    state = {"busy": False}

    def current():
        sub = filter_mechanisms(mech, dd["sector"].value, dd["country"].value, dd["mechanism_type"].value)
        return sub, display_labels(mech, present.value)

    def draw_selected(*_):
        if state["busy"]:
            return
        sub, labels = current()
        mid = check_mechanism_id(selected.value, sub["mechanism_id"])
        if mid is None:
            for name in ("median", "children"):
                outs[name].clear_output()
            return
        big = present.value
        label = labels[mid]
        _show(outs["median"], _big(plots.versus_sector_median(
            compare_to_sector_median(scores, mid), label, f"{label} against the sector median"), big))
        _show(outs["children"], _big(plots.children_lens(
            children_lens(indicators, [mid]), f"Children's lens: {label}"), big))

    def draw_all(*_):
        sub, labels = current()
        ids = sub["mechanism_id"].tolist()
        big = present.value
        if big:
            root.add_class("gm-present")
        else:
            root.remove_class("gm-present")
        ranked = ranking(scores, ids)
        order = ranked["mechanism_id"].tolist()
        seen = set(order)
        order += [m for m in ids if m not in seen]
        status.value = (f"<b>{len(ids):,}</b> of {len(mech):,} mechanisms shown"
                        if ids else "<b>No mechanism matches these filters.</b>")
        lab = labels.to_dict()
        top = order[:MAX_LABELLED_ROWS]
        sub_scores = scores[scores["mechanism_id"].isin(ids)]
        # the heatmap first: its message reaches the browser before the larger ones below
        heat_note.value = ("" if not ids else
                           f"<i>The {len(top)} highest overall scores of {len(ids):,}; use the filters "
                           "to see the others. Blank cells: no evidence or withheld.</i>"
                           if len(ids) > len(top) else
                           "<i>Blank cells: no evidence, or withheld to protect privacy.</i>")
        outs["heatmap"].value = "" if not ids else criteria_heatmap_html(
            sub_scores[sub_scores["mechanism_id"].isin(top)], lab, "Scores by mechanism and criterion",
            order=top, big=big)
        note.value = f"<i>{_esc(suppression_note(indicators, ids, k))}</i>"
        state["busy"] = True
        old = selected.value
        selected.options = list(zip(labels.reindex(order).tolist(), order, strict=True))
        selected.value = old if old in seen else (order[0] if order else None)
        state["busy"] = False
        if not ids:
            for name, o in outs.items():
                if name != "heatmap":
                    o.clear_output()
            return
        _show(outs["ranking"], _big(plots.ranking(
            sub_scores[sub_scores["mechanism_id"].isin(order[:RANKING_TOP])], "overall", lab,
            f"Ranking: overall score (top {min(RANKING_TOP, len(ids))} of {len(ids):,})"), big, rows=True))
        dist = plots.score_distribution(sub_scores, None,
                                        f"Distribution of scores across {len(ids):,} mechanisms")
        if len(ids) > 100:  # thousands of points cost the browser seconds: draw boxes and outliers
            dist.update_traces(boxpoints="outliers", selector=dict(type="box"))
        _show(outs["distribution"], _big(dist, big))
        draw_selected()

    for widget in (*dd.values(), present):
        widget.observe(draw_all, names="value")
    selected.observe(draw_selected, names="value")

    def h(text):
        return w.HTML(f"<h3>{_esc(text)}</h3>")

    root = w.VBox([
        w.HTML(_PRESENT_CSS + "<h2>Grievance mechanisms: sector overview</h2>"),
        w.HBox([*dd.values(), present], layout=w.Layout(flex_flow="row wrap")),
        status, note,
        heat_note, outs["heatmap"], outs["ranking"], outs["distribution"],
        h("One mechanism against its sector median"), selected, outs["median"],
        h("Children's lens: awareness, referral, exit from child labour"), outs["children"],
    ])
    root.add_class("gm-dash")
    draw_all()
    # what the server sends inside the page, shown until the controls load
    root.gm_first_paint = (
        '<div class="gm-dash-static" style="font-family:sans-serif">'
        "<h2>Grievance mechanisms: sector overview</h2>"
        f"<div>{status.value}</div><div>{note.value}</div><div>{heat_note.value}</div>"
        f"{outs['heatmap'].value}"
        '<p class="gm-loading" style="color:#555"><i>Loading the filters and charts&hellip;</i></p></div>')
    return root


#: Metadata marking the output the ``gm_eval`` Voila template renders on the
#: server, inside the page (see :func:`show_sector_overview`).
FIRST_PAINT_METADATA = {"gm_eval": "first-paint"}


def show_sector_overview(results_dir: str | Path | None = None) -> None:
    """Display the sector overview, with a server-rendered first paint under Voila.

    Displays :func:`build_sector_overview`'s dashboard. Under Voila it first
    displays a static HTML copy of the page's head and heatmap, marked with
    :data:`FIRST_PAINT_METADATA`: the ``gm_eval`` template writes it into the
    page as HTML, so a viewer sees the heatmap as soon as the page arrives (with
    a preheated kernel, before any JavaScript has run); it is removed when the
    interactive heatmap appears. Elsewhere (JupyterLab, papermill) only the
    dashboard is displayed.

    Parameters
    ----------
    results_dir : path-like, optional
        Default: the directory named by :data:`RESULTS_ENV`.
    """
    from IPython.display import display

    root = build_sector_overview(results_dir)
    static = getattr(root, "gm_first_paint", None)
    if static and "VOILA_BASE_URL" in os.environ:
        display({"text/html": static, "text/plain": "Sector overview"}, raw=True,
                metadata=dict(FIRST_PAINT_METADATA))
    display(root)


def build_mechanism_view(results_dir: str | Path | None = None, qs: str | None = None):
    """The drill-down dashboard for one mechanism as one ipywidgets container.

    Parameters
    ----------
    results_dir : path-like, optional
        Default: the directory named by :data:`RESULTS_ENV`.
    qs : str, optional
        The raw page query string; ``?mechanism=ID`` preselects a mechanism
        when ``ID`` is a known id. Anything else shows a clean message that
        does not repeat the submitted value.

    Returns
    -------
    ipywidgets.Widget
        The dashboard, or a short message widget when the results cannot be read.
    """
    return _safe_build(_mechanism_view, results_dir, qs)


def _mechanism_view(results_dir, qs):
    import ipywidgets as w

    from gm_eval import plots

    rdir = Path(results_dir) if results_dir is not None else results_dir_from_env()
    t = load_tables(rdir, _MECHANISM_TABLES)
    mech, scores, dis, recs = t["mechanisms"], t["scores"], t["disaggregation"], t["recommendations"]
    cat = t["indicator_catalogue"]
    ind_labels = (dict(zip(cat["indicator_id"], cat["label"].astype("str"), strict=True))
                  if {"indicator_id", "label"} <= set(cat.columns) else {})
    labels = display_labels(mech)
    known = mech["mechanism_id"].tolist()
    chosen, msg = mechanism_from_query(qs, known)
    order = mech.sort_values("name")["mechanism_id"].tolist()
    pick = w.Dropdown(options=list(zip(labels.reindex(order).tolist(), order, strict=True)),
                      value=chosen or (order[0] if order else None),
                      description="Mechanism", layout=w.Layout(width="460px"))
    pick.add_class("gm-select-mechanism")
    dim = w.Dropdown(options=[(v, k) for k, v in DIMENSIONS.items()], value="gender",
                     description="Break down by", style={"description_width": "initial"})
    dim.add_class("gm-select-dimension")
    ind = w.Dropdown(options=[], description="Indicator", layout=w.Layout(width="460px"))
    ind.add_class("gm-select-indicator")
    info, dis_note, recs_html = w.HTML(), w.HTML(), w.HTML()
    out_scores, out_dis = w.Output(), w.Output()
    out_scores.add_class("gm-out-scores")
    out_dis.add_class("gm-out-disaggregation")
    state = {"busy": False}

    def draw_dis(*_):
        if state["busy"]:
            return
        mid = check_mechanism_id(pick.value, known)
        if mid is None or ind.value is None:
            out_dis.clear_output()
            dis_note.value = "<i>No breakdown is published for this mechanism.</i>"
            return
        view = disaggregation_view(dis, mid, dim.value, ind.value)
        rows = dis[(dis["mechanism_id"] == mid) & (dis["dimension"] == dim.value)
                   & (dis["indicator_id"] == ind.value)]
        title = f"{ind_labels.get(ind.value, ind.value)} by {DIMENSIONS[dim.value].lower()}"
        _show(out_dis, plots.disaggregation(rows, title))
        withheld = view.loc[view["suppressed"], "group"].str.replace("_", " ").tolist()
        dis_note.value = (f"<i>Withheld to protect privacy (too few people): "
                          f"{_esc(', '.join(withheld))}.</i>" if withheld else "")

    def draw(*_):
        mid = check_mechanism_id(pick.value, known)
        if mid is None:
            return
        row = mech.set_index("mechanism_id").loc[mid]
        info.value = (f"<h2>{_esc(row['name'])}</h2><p>Sector: <b>{_esc(row['sector'])}</b> &middot; "
                      f"Country: <b>{_esc(row.get('country', ''))}</b> &middot; Type: "
                      f"<b>{_esc(str(row['mechanism_type']).replace('_', ' '))}</b></p>")
        _show(out_scores, plots.versus_sector_median(compare_to_sector_median(scores, mid), labels[mid],
                                                     "Scores against the sector median"))
        avail = (dis.loc[dis["mechanism_id"] == mid, "indicator_id"].drop_duplicates().tolist()
                 if not dis.empty else [])
        state["busy"] = True
        old = ind.value
        ind.options = [(ind_labels.get(i, i), i) for i in avail]
        ind.value = old if old in avail else (avail[0] if avail else None)
        state["busy"] = False
        draw_dis()
        rec = mechanism_recommendations(recs, mid)
        if rec.empty:
            recs_html.value = "<p>No recommendations were published for this mechanism.</p>"
        else:
            items = "".join(
                f"<li><b>{_esc(plots.criterion_label(str(r.criterion)))}</b>: {_esc(r.recommendation)}"
                + (f" <small>({_esc(r.reference)})</small>"
                   if isinstance(r.reference, str) and r.reference else "") + "</li>"
                for r in rec.itertuples())
            recs_html.value = f'<ol class="gm-recommendations">{items}</ol>'

    pick.observe(draw, names="value")
    dim.observe(draw_dis, names="value")
    ind.observe(draw_dis, names="value")
    children = [w.HTML(_PRESENT_CSS)]
    if msg:
        children.append(_message(msg, "warning"))
    children += [pick, info, w.HTML("<h3>Scores against the sector median</h3>"), out_scores,
                 w.HTML("<h3>Breakdown</h3>"), w.HBox([dim, ind], layout=w.Layout(flex_flow="row wrap")),
                 out_dis, dis_note, w.HTML("<h3>Recommendations</h3>"), recs_html]
    root = w.VBox(children)
    root.add_class("gm-dash")
    draw()
    return root
