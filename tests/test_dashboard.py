"""Unit tests of the dashboard view model, launcher configuration and CLI (no browser)."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from browser.results_fixture import fixture_tables, write_fixture_results

from gm_eval import dashboard as d
from gm_eval.contract import CRITERIA
from gm_eval.errors import InputError

REPO = Path(__file__).resolve().parents[1]
HOSTILE = ["../../etc/passwd", "<script>alert(1)</script>", "M01/../M02", "M01 ", " M01", "m01", "",
           "M01\x00", "M01%2F..", "M" + "0" * 100, "M01;rm -rf /", "${HOME}"]


@pytest.fixture(scope="module")
def tables():
    return fixture_tables(12, seed=7)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return write_fixture_results(tmp_path_factory.mktemp("res") / "results", 12, seed=7)


# ----------------------------------------------------------------- labels
@pytest.mark.parametrize("i, expected", [(0, "Mechanism A"), (1, "Mechanism B"), (25, "Mechanism Z"),
                                         (26, "Mechanism AA"), (27, "Mechanism AB"), (51, "Mechanism AZ"),
                                         (52, "Mechanism BA"), (701, "Mechanism ZZ"),
                                         (702, "Mechanism AAA")])
def test_neutral_label_is_bijective_base26(i, expected):
    assert d.neutral_label(i) == expected


def test_neutral_labels_unique_for_1000_and_stable_under_order():
    ids = [f"M{i:04d}" for i in range(1000)]
    lab = d.neutral_labels(ids)
    assert lab.is_unique and len(lab) == 1000
    shuffled = d.neutral_labels(list(reversed(ids)))
    assert shuffled.to_dict() == lab.to_dict()
    assert lab["M0000"] == "Mechanism A" and lab["M0999"] == "Mechanism ALL"  # 999 = 26*38 + 11


def test_display_labels_presentation_hides_names(tables):
    mech = tables["mechanisms"]
    named = d.display_labels(mech)
    assert named.to_dict() == dict(zip(mech["mechanism_id"], mech["name"], strict=True))
    neutral = d.display_labels(mech, presentation=True)
    assert set(neutral) == {f"Mechanism {chr(65 + i)}" for i in range(12)}
    assert not set(neutral) & set(mech["name"])


def test_display_labels_disambiguates_duplicate_names():
    mech = pd.DataFrame({"mechanism_id": ["a", "b", "c"], "name": ["Hotline", "Hotline", "Other"]})
    assert d.display_labels(mech).tolist() == ["Hotline (a)", "Hotline (b)", "Other"]


# ---------------------------------------------------------------- filters
def test_filters(tables):
    mech = tables["mechanisms"]
    opts = d.filter_options(mech)
    assert opts["sector"] == sorted(set(mech["sector"]))
    assert opts["mechanism_type"] == sorted(set(mech["mechanism_type"]))
    sea = d.filter_mechanisms(mech, sector="seafood")
    assert set(sea["mechanism_id"]) == {"M02", "M06", "M10"}  # every 4th from M02 (fixture cycles sectors)
    both = d.filter_mechanisms(mech, sector="seafood", country="BD")
    assert set(both["mechanism_id"]) == set(mech.loc[(mech["sector"] == "seafood") & (mech["country"] == "BD"),
                                                     "mechanism_id"])
    assert len(d.filter_mechanisms(mech, sector="(all)", country=None)) == 12
    assert d.filter_mechanisms(mech, sector="../../etc").empty


# ------------------------------------------------------- untrusted ids
def test_check_mechanism_id_allowlist(tables):
    known = tables["mechanisms"]["mechanism_id"]
    assert d.check_mechanism_id("M03", known) == "M03"
    for bad in [*HOSTILE, None, 3, ["M01"]]:
        assert d.check_mechanism_id(bad, known) is None, bad


def test_mechanism_from_query(tables):
    known = tables["mechanisms"]["mechanism_id"].tolist()
    assert d.mechanism_from_query("mechanism=M02", known) == ("M02", "")
    assert d.mechanism_from_query("mechanism=M02&mechanism=M03", known) == ("M02", "")
    assert d.mechanism_from_query("", known) == (None, "")
    assert d.mechanism_from_query(None, known) == (None, "")
    assert d.mechanism_from_query("theme=dark", known) == (None, "")
    from urllib.parse import quote

    for bad in HOSTILE:
        mid, msg = d.mechanism_from_query("mechanism=" + quote(bad), known)
        assert mid is None
        assert msg and "Unknown mechanism" in msg
        for frag in ("passwd", "script", "..", "rm -rf", "HOME", "<", ">"):
            assert frag not in msg


# ------------------------------------------------------------ view models
def test_score_matrix_matches_independent_pivot(tables):
    scores, ind = tables["scores"], tables["indicators"]
    ids = ["M05", "M01", "M09"]
    m = d.score_matrix(scores, ids)
    assert list(m.columns) == [*CRITERIA, "overall"]
    assert list(m.index) == ["M01", "M05", "M09"]  # planted: M01 best, quality decreases with the number
    # the fixture's criterion score is the mean of its indicator scores: recompute by hand
    leg = ind[(ind["mechanism_id"] == "M05") & (ind["criterion"] == "legitimate")]["score"]
    assert m.loc["M05", "legitimate"] == pytest.approx(round(leg.mean(), 1))


def test_ranking_ties_and_missing():
    scores = pd.DataFrame({"mechanism_id": ["a", "b", "c", "d", "e"], "criterion": "overall",
                           "score": [70.0, 90.0, 70.0, np.nan, 10.0], "band": "x"})
    r = d.ranking(scores, ["a", "b", "c", "d", "e"])
    assert r["mechanism_id"].tolist() == ["b", "a", "c", "e", "d"]
    assert r["rank"].tolist()[:4] == [1, 2, 2, 4] and pd.isna(r["rank"].iloc[4])


def test_compare_to_sector_median_is_the_median_of_the_sector(tables):
    scores, mech = tables["scores"], tables["mechanisms"]
    cmp = d.compare_to_sector_median(scores, "M06")
    assert cmp["criterion"].tolist() == list(CRITERIA)
    peers = mech.loc[mech["sector"] == mech.set_index("mechanism_id").loc["M06", "sector"], "mechanism_id"]
    for crit in CRITERIA:
        vals = scores[(scores["criterion"] == crit) & scores["mechanism_id"].isin(peers)]["score"]
        assert cmp.set_index("criterion").loc[crit, "sector_median"] == pytest.approx(np.median(vals), abs=0.051)


def test_children_lens_marks_suppressed_and_not_covered(tables):
    ind = tables["indicators"]
    ind = ind[~((ind["mechanism_id"] == "M03") & (ind["indicator_id"] == "rights_compatible.clms_exit_rate"))]
    lens = d.children_lens(ind, ["M01", "M03"]).set_index(["mechanism_id", "indicator_id"])
    assert len(lens) == 6
    assert lens.loc[("M01", "rights_compatible.child_referral_rate"), "status"] == "suppressed"
    assert lens.loc[("M01", "rights_compatible.clms_exit_rate"), "status"] == "suppressed"
    assert lens.loc[("M01", "accessible.child_awareness_rate"), "status"] == "ok"
    assert lens.loc[("M03", "rights_compatible.clms_exit_rate"), "status"] == "not_covered"
    src = ind.set_index(["mechanism_id", "indicator_id"])
    key = ("M03", "accessible.child_awareness_rate")
    assert lens.loc[key, "value"] == src.loc[key, "value"]


def test_disaggregation_view(tables):
    dis = tables["disaggregation"]
    v = d.disaggregation_view(dis, "M02", "age_band", "legitimate.trust_rate")
    assert v["group"].tolist() == ["under_15", "15_17", "18_plus", "unknown"]
    assert v.set_index("group").loc["15_17", "suppressed"]
    assert v["suppressed"].sum() == 1
    assert d.disaggregation_view(dis, "M02", "../../etc/passwd").empty
    assert d.disaggregation_view(dis, "NOPE", "gender").empty


def test_suppression_note_counts(tables):
    ind = tables["indicators"]
    assert d.suppression_note(ind, ["M01", "M02"], k=5).startswith("2 indicator values were withheld")
    assert "fewer than 5" in d.suppression_note(ind, ["M01"], k=5)
    assert d.suppression_note(ind, ["M02"]) == "No values were withheld."


def test_recommendations_sorted(tables):
    rec = d.mechanism_recommendations(tables["recommendations"], "M04")
    assert rec["rank"].tolist() == [1, 2, 3]
    assert d.mechanism_recommendations(tables["recommendations"], "zzz").empty


def test_load_tables_reads_published_tables(results, tables):
    t = d.load_tables(results, ["mechanisms", "scores", "disaggregation"])
    pd.testing.assert_frame_equal(t["mechanisms"], tables["mechanisms"], check_dtype=False)
    assert t["disaggregation"]["flags"].map(type).eq(str).all()
    with pytest.raises(InputError):
        d.load_tables(results.parent / "nope", ["mechanisms"])


def test_results_dir_from_env(results):
    assert d.results_dir_from_env({d.RESULTS_ENV: str(results)}) == results
    with pytest.raises(InputError):
        d.results_dir_from_env({})
    with pytest.raises(InputError):
        d.results_dir_from_env({d.RESULTS_ENV: str(results / "missing")})


# ---------------------------------------------------------------- widgets
def _walk(w):
    yield w
    for c in getattr(w, "children", ()):
        yield from _walk(c)


def _find(root, cls, description=None):
    return [w for w in _walk(root) if type(w).__name__ == cls
            and (description is None or getattr(w, "description", None) == description)]


def test_sector_overview_widgets_filter_and_presentation(results, tables, capsys):
    root = d.build_sector_overview(results)
    mech = tables["mechanisms"]
    (sector,) = _find(root, "Dropdown", "Sector")
    (pick,) = _find(root, "Dropdown", "Mechanism")
    assert [v for _, v in pick.options][0] == "M01"  # best overall first
    sector.value = "garments"
    assert {v for _, v in pick.options} == set(mech.loc[mech["sector"] == "garments", "mechanism_id"])
    (toggle,) = _find(root, "ToggleButton")
    toggle.value = True
    shown = [label for label, _ in pick.options]
    assert all(x.startswith("Mechanism ") for x in shown) and not set(shown) & set(mech["name"])
    assert "gm-present" in root._dom_classes
    html = " ".join(w.value for w in _find(root, "HTML"))
    assert not any(name in html for name in mech["name"])
    sector.value = "(all)"
    assert len(pick.options) == 12
    capsys.readouterr()


def _heatmap_rows(root) -> list[str]:
    import re

    (heat,) = [w for w in _find(root, "HTML") if "gm-out-heatmap" in w._dom_classes]
    return re.findall(r'<th scope="row"[^>]*>([^<]*)</th>', heat.value)


def test_sector_overview_heatmap_follows_filters_and_first_paint(results, tables, capsys):
    root = d.build_sector_overview(results)
    mech, scores = tables["mechanisms"], tables["scores"]
    overall = scores[scores["criterion"] == "overall"].sort_values("score", ascending=False, kind="stable")
    names = mech.set_index("mechanism_id")["name"]
    assert _heatmap_rows(root) == names.reindex(overall["mechanism_id"]).tolist()
    # the server-rendered first paint holds the same heatmap
    assert '<table class="gm-heatmap"' in root.gm_first_paint
    for name in names:
        assert f">{name}</th>" in root.gm_first_paint
    (sector,) = _find(root, "Dropdown", "Sector")
    sector.value = "garments"
    assert sorted(_heatmap_rows(root)) == sorted(mech.loc[mech["sector"] == "garments", "name"])
    capsys.readouterr()


def test_show_sector_overview_sends_a_first_paint_only_under_voila(results, monkeypatch, capsys):
    import IPython.display

    shown = []

    def record(*a, **k):  # figures drawn into Output widgets are displayed too: keep the rest
        if not (isinstance(a[0], dict) and "application/vnd.plotly.v1+json" in a[0]):
            shown.append((a, k))

    monkeypatch.setattr(IPython.display, "display", record)
    monkeypatch.delenv("VOILA_BASE_URL", raising=False)
    d.show_sector_overview(results)
    assert len(shown) == 1 and "gm-dash" in shown[0][0][0]._dom_classes
    shown.clear()
    monkeypatch.setenv("VOILA_BASE_URL", "/")
    d.show_sector_overview(results)
    (static, skw), (widget, _) = shown
    assert skw["metadata"] == d.FIRST_PAINT_METADATA and skw["raw"] is True
    assert static[0]["text/html"] == widget[0].gm_first_paint
    capsys.readouterr()


def test_mechanism_view_hostile_query(results, capsys):
    for qs in ("mechanism=..%2F..%2Fetc%2Fpasswd", "mechanism=%3Cscript%3Ealert(1)%3C%2Fscript%3E"):
        root = d.build_mechanism_view(results, qs)
        html = " ".join(w.value for w in _find(root, "HTML"))
        assert "Unknown mechanism in the link" in html
        assert "passwd" not in html and "<script>" not in html and "alert(1)" not in html
        (pick,) = _find(root, "Dropdown", "Mechanism")
        assert pick.value in {v for _, v in pick.options}
    root = d.build_mechanism_view(results, "mechanism=M07")
    (pick,) = _find(root, "Dropdown", "Mechanism")
    assert pick.value == "M07"
    (dim,) = _find(root, "Dropdown", "Break down by")
    assert [v for _, v in dim.options] == list(d.DIMENSIONS)
    capsys.readouterr()


def test_names_are_escaped(tmp_path, capsys):
    out = write_fixture_results(tmp_path / "r", 3)
    mech = pd.read_parquet(out / "mechanisms.parquet")
    mech.loc[0, "name"] = "<img src=x onerror=alert(1)>"
    mech.to_parquet(out / "mechanisms.parquet", index=False)
    root = d.build_mechanism_view(out, "mechanism=M01")
    html = " ".join(w.value for w in _find(root, "HTML"))
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    capsys.readouterr()


def test_missing_results_give_a_clean_message(tmp_path, capsys):
    for widget in (d.build_sector_overview(tmp_path / "nope"), d.build_mechanism_view(tmp_path / "nope")):
        assert type(widget).__name__ == "HTML"
        assert "No results to show" in widget.value and "Traceback" not in widget.value
    assert "Traceback" not in capsys.readouterr().err


# --------------------------------------------------------------- launcher
def _opts(argv):
    return dict(a[2:].split("=", 1) for a in argv if a.startswith("--") and "=" in a)


def test_voila_argv_ships_safe_defaults():
    argv = d.voila_argv(port=9999)
    o = _opts(argv)
    assert argv[1:3] == ["-m", "gm_eval.voila_server"], "Voila runs with the sliced message wait"
    assert o["Voila.ip"] == "127.0.0.1" and o["port"] == "9999" and o["Voila.token"] == ""
    assert o["VoilaConfiguration.strip_sources"] == "True"
    assert o["VoilaConfiguration.show_tracebacks"] == "False"
    assert o["VoilaExecutor.show_tracebacks"] == "False"
    assert int(o["VoilaExecutor.timeout"]) > 0
    assert int(o["MappingKernelManager.cull_idle_timeout"]) > 0
    assert int(o["MappingKernelManager.cull_interval"]) > 0
    assert o["VoilaConfiguration.template"] == d.VOILA_TEMPLATE
    assert o["VoilaConfiguration.preheat_kernel"] == "True"
    # the drill-down blocks on its query string: never pre-run it into the cell timeout
    assert o["VoilaKernelManager.preheat_denylist"] == "mechanism.ipynb"
    assert "--no-browser" in argv
    assert Path(argv[3]) == REPO / "dashboards"


@pytest.mark.parametrize("ip", ["0.0.0.0", "192.168.1.20", "10.0.0.5", "::", "example.org"])
def test_lan_address_requires_a_token(ip):
    with pytest.raises(InputError, match="token"):
        d.voila_argv(ip=ip)
    argv = d.voila_argv(ip=ip, token="s3cret-token")
    assert _opts(argv)["Voila.ip"] == ip and _opts(argv)["Voila.token"] == "s3cret-token"


def test_loopback_and_bad_options():
    for ip in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        d.voila_argv(ip=ip)
    with pytest.raises(InputError):
        d.voila_argv(ip="0.0.0.0", token="short")
    with pytest.raises(InputError):
        d.voila_argv(port=0)
    assert _opts(d.voila_argv(base_url="/gm-eval/"))["Voila.base_url"] == "/gm-eval/"
    for bad in ("gm-eval", "/../", "/a b/", "//evil.example/", "/x/<script>/"):
        with pytest.raises(InputError):
            d.voila_argv(base_url=bad)
    o = _opts(d.voila_argv(overrides={"VoilaConfiguration": {"default_pool_size": 3}}))
    assert o["VoilaConfiguration.default_pool_size"] == "3" and o["VoilaConfiguration.strip_sources"] == "True"


def test_launch_refuses_a_non_results_dir(tmp_path):
    with pytest.raises(InputError):
        d.launch(tmp_path, wait=False)


def test_launch_serves_the_notebooks_folder_it_is_given(results, tmp_path, monkeypatch):
    seen = {}

    class _Popen:
        def __init__(self, argv, env=None, **kw):
            seen["argv"], seen["env"] = argv, env

    folder = tmp_path / "nb"
    folder.mkdir()
    (folder / "sector_overview.ipynb").write_text("{}")
    monkeypatch.setattr(d.subprocess, "Popen", _Popen)
    d.launch(results, wait=False, notebooks=folder)
    assert seen["argv"][3] == str(folder)
    assert seen["env"][d.RESULTS_ENV] == str(results.resolve())
    d.launch(results, wait=False)
    assert seen["argv"][3] == str(d.dashboards_dir())


def test_voila_template_requests_no_cdn(tmp_path):
    tdir = d.write_voila_template(tmp_path)
    assert json.loads((tdir / "conf.json").read_text())["base_template"] == "lab"
    text = (tdir / "index.html.j2").read_text()
    assert "voila/templates/lab/index.html.j2" in text
    assert "http" not in text and "cdn" not in text.lower()
    # the block we replace is the one that links the CDN in Voila's own template
    import sys

    lab = Path(sys.prefix) / "share/jupyter/voila/templates/lab/index.html.j2"
    if not lab.is_file():
        pytest.skip("Voila's lab template not found in this environment")
    assert "cdn.jsdelivr.net" in lab.read_text() and "block notebook_css" in lab.read_text()


def test_cli_dashboard_refuses_lan_without_token(results, capsys):
    from gm_eval.cli import main

    assert main(["dashboard", str(results), "--ip", "0.0.0.0"]) == 2
    assert "token" in capsys.readouterr().err
    assert main(["dashboard", str(results.parent / "none")]) == 2


# -------------------------------------------------------------- notebooks
@pytest.mark.parametrize("name, func", [("sector_overview", "show_sector_overview"),
                                        ("mechanism", "build_mechanism_view")])
def test_notebooks_are_thin(name, func):
    nb = nbformat.read(REPO / "dashboards" / f"{name}.ipynb", as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    src = "\n".join(c.source for c in code)
    assert func in src and "read_parquet" not in src and "open(" not in src
    assert sum(len(c.source.splitlines()) for c in code) < 20
