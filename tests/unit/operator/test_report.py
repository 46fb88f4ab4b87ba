"""remediator report: what was done and what dry-run would have done, with the evidence, from Remediations."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from remediator.report import format_table, parse_since, render, rows, summary

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def _rem(name: str, created: str, action: str, **status: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "shop", "creationTimestamp": created},
        "spec": {"target": {"kind": "Deployment", "name": "web"}, "action": action, "errorType": "oom",
                 "confidence": 0.97},
        "status": {"origin": "operator", **status},
    }


REMS = [
    _rem("grown", "2026-12-01T10:00:00Z", "increase_memory", phase="Succeeded", reason="Verified",
         appliedAt="2026-12-01T10:00:05Z", outcome={"result": "Succeeded"},
         evidence=["the Pods show the claimed oom (oom); checked Deployment web: 0/1 Pods ready"]),
    _rem("would", "2026-12-01T11:00:00Z", "rollback", phase="Skipped", reason="DryRun",
         change={"dryRun": True}, feedback={"label": "incorrect", "source": "human"}),
    _rem("asked", "2026-12-01T11:30:00Z", "rollback", phase="PendingApproval", reason="NoRecentRollout"),
    _rem("told", "2026-12-01T11:40:00Z", "notify", phase="Skipped", reason="NotifiedHuman"),
    _rem("old", "2026-11-20T11:40:00Z", "restart_pod", phase="Succeeded", appliedAt="2026-11-20T11:40:05Z"),
]


def test_since_parses_the_usual_units_and_refuses_the_rest() -> None:
    assert parse_since("24h") == dt.timedelta(hours=24) and parse_since("90m") == dt.timedelta(minutes=90)
    with pytest.raises(ValueError, match=r"e\.g\. 24h"):
        parse_since("yesterday")


def test_rows_say_what_was_done_and_what_dry_run_would_have_done() -> None:
    report = rows(REMS, NOW - parse_since("24h"))
    assert [(r.name, r.outcome) for r in report] == [
        ("asked", "proposed"), ("grown", "applied"), ("told", "notified"), ("would", "would-apply")]
    s = summary(report)
    assert s["applied_succeeded"] == "1/1" and s["would_apply_judged_correct"] == "0/1"
    text = render(report)
    assert "evidence: the Pods show the claimed oom" in text and "(human: incorrect)" in text
    assert "shop/old" not in text  # older than --since


def test_tables_align_to_their_longest_cell() -> None:
    lines = format_table(
        ["A", "B", "N"], [["CreateContainerConfigError x2", "b1", "1.5"], ["y", "longer value", "10"]], right={2}
    ).splitlines()
    # every column starts at the same offset on every line, however long a cell is
    b_starts = {line.index(cell) for line, cell in zip(lines, ["B", "b1", "longer value"], strict=True)}
    assert len(b_starts) == 1 and b_starts.pop() == len("CreateContainerConfigError x2") + 2
    assert [line[-4:] for line in lines] == ["   N", " 1.5", "  10"]  # right-aligned, no trailing spaces
    assert all(line == line.rstrip() for line in lines)


def test_the_report_keeps_long_names_whole_and_aligned() -> None:
    long_name = "deployment-a-very-long-workload-name-crash-0123abcd"
    report = rows(
        [_rem(long_name, "2026-12-01T11:00:00Z", "rollback", phase="PendingApproval"), *REMS], NOW - parse_since("24h")
    )
    table = [line for line in render(report).splitlines() if line.startswith(("NAMESPACE", "shop/"))]
    assert any(f"shop/{long_name} " in line for line in table)  # not cut at a fixed width
    assert len({line.index("Deployment/web") for line in table[1:]}) == 1


def test_precision_is_given_per_namespace_so_each_team_judges_its_own() -> None:
    other = _rem("theirs", "2026-12-01T11:50:00Z", "rollback", phase="Skipped", reason="DryRun",
                 change={"dryRun": True}, judgments=[{"by": "bo", "label": "correct"}])
    other["metadata"]["namespace"] = "payments"
    both = [{"by": "a", "label": "correct"}, {"by": "b", "label": "incorrect"}]
    disputed = _rem("split", "2026-12-01T11:55:00Z", "rollback", phase="Skipped", reason="DryRun",
                    change={"dryRun": True}, judgments=both)
    s = summary(rows([*REMS, other, disputed], NOW - parse_since("24h")))
    assert s["by_namespace"]["payments"] == {"applied_succeeded": "0/0", "would_apply_judged_correct": "1/1"}
    assert s["by_namespace"]["shop"] == {"applied_succeeded": "1/1", "would_apply_judged_correct": "0/1"}
    assert s["would_apply_judged_correct"] == "1/2"  # a disputed verdict counts in neither
    text = render(rows([*REMS, other], NOW - parse_since("24h")))
    assert "NAMESPACE  APPLIED SUCCEEDED  WOULD-APPLY JUDGED CORRECT" in text
