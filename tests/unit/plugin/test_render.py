"""The plugin's pure rendering: tables, ordering, ages, explain, diffs, colour and machine output."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import yaml

from remediator import api
from remediator.plugin import render
from remediator.plugin.render import Preview, Style

NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)
PLAIN, COLOUR = Style(False), Style(True)


def rem(
    name: str,
    phase: str | None,
    *,
    created: str = "2026-12-02T11:00:00Z",
    ns: str = "shop",
    evidence: list[str] | None = None,
    **status: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": api.API_VERSION,
        "kind": "Remediation",
        "metadata": {"name": name, "namespace": ns, "creationTimestamp": created, "generation": 1},
        "spec": {
            "target": {"kind": "Deployment", "name": "web"},
            "action": "increase_memory",
            "errorType": "oom",
            "confidence": 0.8123,
        },
    }
    if phase is not None:
        body["status"] = {"phase": phase, "evidence": evidence or [], **status}
    return body


# -- inert text ---------------------------------------------------------------------------------------------
def test_clean_shows_escape_sequences_and_controls_instead_of_interpreting_them() -> None:
    hostile = "ok\x1b[2J\x1b[32mApproved\x1b[0m\rover\x08\x07\x7f\u202eevil\u0085"
    out = render.clean(hostile)
    assert "\x1b" not in out and "\r" not in out and "\u202e" not in out and "\x7f" not in out
    assert "\u0085" not in out and "\x08" not in out
    assert out == "ok\\x1b[2J\\x1b[32mApproved\\x1b[0m\\x0dover\\x08\\x07\\x7f\\u202eevil\\x85"


def test_clean_keeps_plain_unicode_and_newlines_only_when_asked() -> None:
    assert render.clean("café 東京 ✓") == "café 東京 ✓"
    assert render.clean("a\nb\tc") == "a b c"
    assert render.clean("a\nb", keep_newlines=True) == "a\nb"


def test_a_hostile_cell_cannot_break_the_table_or_paint_it() -> None:
    """An ErrorEvent's author writes the evidence; it must not add a line, move the cursor or colour a cell."""
    evil = rem("evil", "PendingApproval", evidence=["fine\x1b[1A\x1b[2Kshop   grow   Succeeded\x1b[0m\rX"])
    out = render.render_list([evil], NOW, PLAIN, None)
    lines = out.splitlines()
    assert len(lines) == 2 and "\x1b" not in out and "\r" not in out
    assert lines[1].endswith("fine\\x1b[1A\\x1b[2Kshop   grow   Succeeded\\x1b[0m\\x0dX")
    # a cell with line breaks stays on its row
    table = render.table(("A", "B"), [["x\ny\u2028z", "1"]], PLAIN)
    assert len(table.splitlines()) == 2


# -- tables -------------------------------------------------------------------------------------------------
def test_columns_align_to_the_longest_cell() -> None:
    out = render.table(("A", "LONGER"), [["xxxxxx", "1"], ["y", "22"]], PLAIN)
    assert out.splitlines() == ["A        LONGER", "xxxxxx   1", "y        22"]


def test_wide_characters_count_as_two_columns() -> None:
    out = render.table(("NAME", "X"), [["東京", "1"], ["ab", "2"]], PLAIN)
    assert out.splitlines() == ["NAME   X", "東京   1", "ab     2"]


def test_colour_does_not_change_alignment() -> None:
    rows: list[list[render.Cell]] = [[("Failed", ("red",)), "a"], ["Succeeded", "b"]]
    plain = render.table(("PHASE", "X"), rows, PLAIN)
    coloured = render.table(("PHASE", "X"), rows, COLOUR)
    assert "\x1b[31mFailed\x1b[0m" in coloured
    stripped = coloured.replace("\x1b[31m", "").replace("\x1b[0m", "").replace("\x1b[1m", "")
    assert stripped == plain


def test_the_last_column_is_cut_to_the_terminal_width_only_on_a_terminal() -> None:
    rows: list[list[render.Cell]] = [["a", "x" * 200]]
    cut = render.table(("K", "EVIDENCE"), rows, PLAIN, columns=40)
    assert all(render.width(line) <= 40 for line in cut.splitlines()) and cut.endswith("…")
    assert "x" * 200 in render.table(("K", "EVIDENCE"), rows, PLAIN, columns=None)


def test_colour_follows_tty_no_color_and_the_flag() -> None:
    assert render.colour_enabled("auto", True, {})
    assert not render.colour_enabled("auto", False, {})
    assert not render.colour_enabled("auto", True, {"NO_COLOR": "1"})
    assert render.colour_enabled("auto", True, {"NO_COLOR": ""})  # no-color.org: only a non-empty value counts
    assert not render.colour_enabled("auto", True, {"TERM": "dumb"})
    assert render.colour_enabled("always", False, {"NO_COLOR": "1"})
    assert not render.colour_enabled("never", True, {})
    assert PLAIN("x", "red") == "x" and COLOUR("x", "red", "bold") == "\x1b[31;1mx\x1b[0m"


def test_ages_read_like_kubectl() -> None:
    def ago(**kw: int) -> str:
        return render.age((NOW - dt.timedelta(**kw)).strftime("%Y-%m-%dT%H:%M:%SZ"), NOW)

    assert ago(seconds=45) == "45s"
    assert ago(minutes=5, seconds=30) == "5m30s"
    assert ago(minutes=42) == "42m"
    assert ago(hours=3, minutes=10) == "3h10m"
    assert ago(hours=20) == "20h"
    assert ago(days=3, hours=4) == "3d4h"
    assert ago(days=12) == "12d"
    assert ago(days=800) == "2y"
    assert render.age(None, NOW) == "<unknown>"
    assert ago(seconds=-30) == "0s"  # a clock ahead of ours


# -- list -------------------------------------------------------------------------------------------------
def test_list_orders_pending_first_then_in_flight_then_recent() -> None:
    items = [
        rem("done-old", "Succeeded", created="2026-12-01T10:00:00Z", completedAt="2026-12-01T10:05:00Z"),
        rem("done-new", "Rejected", created="2026-12-02T11:50:00Z", completedAt="2026-12-02T11:55:00Z"),
        rem("applying", "Verifying", created="2026-12-02T11:30:00Z"),
        rem("fresh", None, created="2026-12-02T11:59:00Z"),
        rem("pending-late", "PendingApproval", created="2026-12-02T11:40:00Z", expiresAt="2026-12-02T13:40:00Z"),
        rem("pending-soon", "PendingApproval", created="2026-12-02T11:45:00Z", expiresAt="2026-12-02T12:10:00Z"),
    ]
    names = [r["metadata"]["name"] for r in render.sorted_remediations(items)]
    assert names == ["pending-soon", "pending-late", "fresh", "applying", "done-new", "done-old"]


def test_list_rows_show_every_column_and_the_first_evidence_line() -> None:
    pending = rem(
        "grow",
        "PendingApproval",
        reason="BelowThreshold",
        evidence=["checked Deployment web: 1/2 Pods ready, seen: oom\nsecond line", "more"],
    )
    out = render.render_list([pending, rem("bare", None)], NOW, PLAIN, None)
    header, first, second = out.splitlines()
    assert header.split() == list(render.LIST_HEADERS)
    assert first.split()[:8] == [
        "shop",
        "grow",
        "Deployment/web",
        "increase_memory",
        "0.81",
        "PendingApproval",
        "BelowThreshold",
        "60m",
    ]
    assert first.endswith("checked Deployment web: 1/2 Pods ready, seen: oom")
    assert second.split()[5:7] == ["Proposed", "-"] and second.endswith("-")
    # the columns line up: every column starts at the same offset in every line
    assert header.index("PHASE") == first.index("PendingApproval") == second.index("Proposed")


def test_an_empty_list_prints_nothing() -> None:
    assert render.render_list([], NOW, PLAIN, None) == ""


# -- diff ---------------------------------------------------------------------------------------------------
def test_diff_is_a_unified_yaml_diff_coloured_when_asked() -> None:
    before = {"limits": {"memory": "64Mi"}, "requests": {"memory": "32Mi"}}
    after = {"limits": {"memory": "96Mi"}, "requests": {"memory": "32Mi"}}
    lines = render.diff(before, after, PLAIN)
    assert lines[:2] == ["--- before", "+++ after"]
    assert "-  memory: 64Mi" in lines and "+  memory: 96Mi" in lines and "   memory: 32Mi" in lines
    coloured = render.diff(before, after, COLOUR)
    assert "\x1b[32m+  memory: 96Mi\x1b[0m" in coloured and "\x1b[31m-  memory: 64Mi\x1b[0m" in coloured
    assert render.diff(before, before, PLAIN) == []


def test_patches_show_the_exact_request_bodies() -> None:
    lines = render.patch_lines(
        [{"kind": "Deployment", "name": "web", "patchType": "strategic", "body": {"spec": {"replicas": 3}}}], PLAIN
    )
    assert lines == ["PATCH Deployment/web (strategic)", '  {"spec":{"replicas":3}}']


# -- explain ------------------------------------------------------------------------------------------------
EE = {
    "metadata": {"name": "web-oom-1"},
    "spec": {"source": "cluster", "message": "container app was OOMKilled", "reason": "OOMKilled", "exitCode": 137},
    "status": {
        "phase": "Remediating",
        "classification": {
            "errorType": "oom",
            "action": "increase_memory",
            "confidence": 0.81,
            "runnerUp": "resource_exhaustion",
            "runnerUpConfidence": 0.1,
            "modelVersion": "m-3",
            "explanation": "OOMKilled and exit code 137",
            "evidence": ["reason OOMKilled"],
        },
    },
}


def test_explain_pending_shows_classification_gates_the_planned_diff_and_how_to_decide() -> None:
    pending = rem(
        "grow",
        "PendingApproval",
        reason="BelowThreshold",
        reasons=["BelowThreshold", "NotCorroborated"],
        message="confidence 0.81 is below 0.9",
        evidence=["checked Deployment web: 1/1 Pods ready, seen: oom"],
        expiresAt="2026-12-02T13:00:00Z",
        conditions=[{"type": "Approved", "status": "Unknown", "reason": "BelowThreshold", "message": "waiting"}],
    )
    pending["spec"]["errorEventRef"] = {"name": "web-oom-1"}
    preview = Preview(
        description="raise memory of app from 64Mi to 96Mi",
        before={"limits": {"memory": "64Mi"}},
        after={"limits": {"memory": "96Mi"}},
        patches=({"kind": "Deployment", "name": "web", "patchType": "strategic", "body": {"x": 1}},),
    )
    out = render.explain(pending, EE, preview, NOW, PLAIN)
    for expected in (
        "Remediation shop/grow",
        "Type:         oom (0.81)",
        "Runner-up:    resource_exhaustion (0.10)",
        "Explanation:  OOMKilled and exit code 137",
        "- checked Deployment web: 1/1 Pods ready, seen: oom",
        "- BelowThreshold",
        "- NotCorroborated",
        "Approved    Unknown   BelowThreshold   waiting",
        "Change (planned, not applied)",
        "-  memory: 64Mi",
        "+  memory: 96Mi",
        "PATCH Deployment/web (strategic)",
        "waiting for a human",
        "kubectl remediator approve grow -n shop",
    ):
        assert expected in out, f"{expected!r} missing from:\n{out}"
    assert "\x1b" not in out


def test_explain_after_applying_shows_the_applied_change_outcome_feedback_and_approval() -> None:
    done = rem(
        "grow",
        "Succeeded",
        reason="Verified",
        reasons=["Verified"],
        change={
            "kind": "Deployment",
            "name": "web",
            "before": {"limits": {"memory": "64Mi"}},
            "after": {"limits": {"memory": "96Mi"}},
            "patches": [{"kind": "Deployment", "name": "web", "patchType": "strategic", "body": {"a": 1}}],
        },
        outcome={"result": "Succeeded", "message": "stable for 60s", "readyReplicas": 1, "restartsDuringWindow": 0},
        feedback={"label": "correct", "source": "verification", "recorded": True},
        judgments=[
            {"by": "alice", "verified": True, "label": "incorrect", "correctAction": "notify", "at": "t1"},
            {"by": "", "verified": False, "label": "correct", "at": "t2", "recorded": True},
        ],
        approval={"by": "bob", "at": "2026-12-02T11:10:00Z", "generation": 1},
    )
    out = render.explain(done, None, None, NOW, PLAIN)
    for expected in (
        "Change (applied: Deployment/web)",
        "+  memory: 96Mi",
        "Result:       Succeeded",
        "stable for 60s",
        "correct (from verification), stored",
        "alice: incorrect -> notify (t1)",
        "(unverified): correct [unverified] (t2, stored)",
        "approved by bob at 2026-12-02T11:10:00Z (generation 1)",
        "none (the Remediation was written by hand)",
    ):
        assert expected in out, f"{expected!r} missing from:\n{out}"
    assert "Change (planned" not in out


def test_explain_says_why_there_is_no_preview() -> None:
    out = render.explain(
        rem("grow", "PendingApproval"), None, Preview(unavailable="no preview: you may not"), NOW, PLAIN
    )
    assert "no preview: you may not" in out


def test_explain_of_a_rejection_names_the_rejecter() -> None:
    rejected = rem(
        "grow",
        "Rejected",
        approval={"by": "carol", "at": "t", "generation": 2},
        message="rejected by carol: wrong container",
    )
    out = render.explain(rejected, None, None, NOW, COLOUR)
    assert "rejected by carol at t (generation 2)" in out and "wrong container" in out


# -- machine output ---------------------------------------------------------------------------------------
def test_json_and_yaml_output_parse_back_to_the_objects_in_list_order() -> None:
    items = [rem("done", "Succeeded"), rem("wait", "PendingApproval", evidence=["\x1b[31mred"])]
    doc = render.as_list(items)
    for fmt, load in (("json", json.loads), ("yaml", yaml.safe_load)):
        text = render.dump(doc, fmt)
        assert "\x1b" not in text  # escaped, never raw, in both formats
        back = load(text)
        assert back["kind"] == "List" and [i["metadata"]["name"] for i in back["items"]] == ["wait", "done"]
        assert back["items"][0]["status"]["evidence"] == ["\x1b[31mred"]  # the value itself is intact


def test_explain_of_a_notify_says_nothing_was_changed() -> None:
    notified = rem(
        "tell",
        "Skipped",
        reason="NotifiedHuman",
        change={"kind": "Deployment", "name": "web", "before": {}, "after": {}, "undone": False},
    )
    out = render.explain(notified, None, None, NOW, PLAIN)
    assert "Change (nothing changed: Deployment/web)" in out and "applied" not in out.split("Change (")[1][:20]
