"""`remediator report --since 24h`: what the operator did, and what it would have done in dry-run, with the
evidence it decided on, so a team can judge its precision on its own cluster before enabling auto-apply.

Read-only: it lists Remediations and prints; nothing is changed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from remediator import api
from remediator.domain import clock

_SINCE = re.compile(r"^(\d+)([smhd])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(text: str) -> dt.timedelta:
    """ "90m", "24h", "7d" -> a timedelta; ValueError names the expected form."""
    match = _SINCE.match(text.strip())
    if not match:
        raise ValueError(f"--since {text!r}: expected a number and s, m, h or d (e.g. 24h)")
    return dt.timedelta(seconds=int(match.group(1)) * _UNIT[match.group(2)])


@dataclass(frozen=True)
class Row:
    namespace: str
    name: str
    target: str
    error_type: str
    action: str
    confidence: float
    origin: str
    outcome: str  # applied | would-apply (dry-run) | proposed | notified | skipped | rejected | expired | failed
    phase: str
    reason: str
    result: str  # verification result when applied: Succeeded | Failed | Unknown | ""
    human: str  # the humans' label, when given: correct | incorrect | disputed (they disagree) | ""
    evidence: tuple[str, ...]


def _human(status: Mapping[str, Any]) -> str:
    """The people's verdict: from status.judgments (one per person), or a verdict recorded before judges were
    counted (status.feedback with source human)."""
    judgments = status.get("judgments") or []
    if judgments:
        labels = {str(j.get("label", "")) for j in judgments}
        return "disputed" if len(labels) > 1 else labels.pop()
    feedback = status.get("feedback") or {}
    return str(feedback.get("label", "")) if feedback.get("source") == "human" else ""


def _outcome(rem: Mapping[str, Any]) -> str:
    status, spec = rem.get("status") or {}, rem.get("spec") or {}
    phase, reason = status.get("phase", ""), status.get("reason", "")
    if (status.get("change") or {}).get("dryRun") or reason == "DryRun":
        return "would-apply"
    if spec.get("action") == "notify" or reason == "NotifiedHuman":
        return "notified"
    if status.get("appliedAt"):
        return "applied"
    return {
        api.Phase.PENDING_APPROVAL: "proposed",
        api.Phase.REJECTED: "rejected",
        api.Phase.EXPIRED: "expired",
        api.Phase.SKIPPED: "skipped",
        api.Phase.FAILED: "failed",
    }.get(phase, str(phase).lower() or "new")


def rows(remediations: Iterable[Mapping[str, Any]], since: dt.datetime) -> list[Row]:
    """The Remediations created at or after `since`, oldest first."""
    out = []
    for rem in remediations:
        meta, spec, status = rem.get("metadata") or {}, rem.get("spec") or {}, rem.get("status") or {}
        created = clock.parse_time(meta.get("creationTimestamp"))
        if created is None or created < since:
            continue
        target = spec.get("target") or {}
        out.append(
            Row(
                namespace=str(meta.get("namespace", "")),
                name=str(meta.get("name", "")),
                target=f"{target.get('kind', '')}/{target.get('name', '')}",
                error_type=str(spec.get("errorType", "")),
                action=str(spec.get("action", "")),
                confidence=float(spec.get("confidence") or 0.0),
                origin=str(status.get("origin", "")),
                outcome=_outcome(rem),
                phase=str(status.get("phase", "")),
                reason=str(status.get("reason", "")),
                result=str((status.get("outcome") or {}).get("result", "")),
                human=_human(status),
                evidence=tuple(str(e) for e in status.get("evidence") or ()),
            )
        )
    return sorted(out, key=lambda r: (r.namespace, r.name))


def _precision(report: Sequence[Row]) -> dict[str, str]:
    applied = [r for r in report if r.outcome == "applied" and r.result in ("Succeeded", "Failed")]
    judged = [r for r in report if r.outcome == "would-apply" and r.human in ("correct", "incorrect")]
    return {
        "applied_succeeded": f"{sum(r.result == 'Succeeded' for r in applied)}/{len(applied)}",
        "would_apply_judged_correct": f"{sum(r.human == 'correct' for r in judged)}/{len(judged)}",
    }


def summary(report: Sequence[Row]) -> dict[str, Any]:
    """Counts per outcome and action, and the precision that can be read so far: of the applied changes, the
    share verification judged Succeeded; of the would-apply ones, the share a human marked correct (disputed
    verdicts count in neither). The same per namespace, since each team judges its own."""
    namespaces = sorted({r.namespace for r in report})
    return {
        "remediations": len(report),
        "by_outcome": dict(Counter(r.outcome for r in report)),
        "by_action": dict(Counter(f"{r.outcome}:{r.action}" for r in report)),
        **_precision(report),
        "by_namespace": {ns: _precision([r for r in report if r.namespace == ns]) for ns in namespaces},
    }


def align(table: Sequence[Sequence[str]], right: Collection[int] = ()) -> list[str]:
    """One line per row, each column as wide as its longest cell (two spaces apart); the columns numbered in
    `right` are right-aligned, and the last column carries no trailing padding."""
    if not table:
        return []
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = []
    for row in table:
        cells = [
            cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def format_table(headers: Sequence[str], table: Sequence[Sequence[str]], right: Collection[int] = ()) -> str:
    """`headers` and `table` as aligned text columns (see align)."""
    return "\n".join(align([list(headers), *table], right))


def render(report: Sequence[Row]) -> str:
    """A table, one line per Remediation, with its evidence indented under it."""
    table = [["NAMESPACE/NAME", "TARGET", "TYPE -> ACTION", "CONF", "OUTCOME", "RESULT"]]
    for r in report:
        result = r.result or r.reason
        if r.human:
            result += f" (human: {r.human})"
        decided = f"{r.error_type} -> {r.action}"
        table.append([f"{r.namespace}/{r.name}", r.target, decided, f"{r.confidence:.2f}", r.outcome, result])
    aligned = align(table, right={3})
    lines = [aligned[0]]
    for r, line in zip(report, aligned[1:], strict=True):
        lines.append(line)
        lines.extend(f"    evidence: {e}" for e in r.evidence)
    s = summary(report)
    lines.append("")
    lines.append(
        f"{s['remediations']} Remediations: " + ", ".join(f"{k} {v}" for k, v in sorted(s["by_outcome"].items()))
    )
    lines.append(
        f"applied and verified: {s['applied_succeeded']} succeeded; "
        f"would-apply judged by a human: {s['would_apply_judged_correct']} correct"
    )
    if len(s["by_namespace"]) > 1:
        per_ns = [[ns, p["applied_succeeded"], p["would_apply_judged_correct"]] for ns, p in s["by_namespace"].items()]
        lines.append("")
        lines.append(format_table(["NAMESPACE", "APPLIED SUCCEEDED", "WOULD-APPLY JUDGED CORRECT"], per_ns, {1, 2}))
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="remediator report",
        description=__doc__.split("\n\n")[0],
        epilog="exit codes: 0 printed; 2 bad arguments, no kubeconfig, no API server, or the CRDs not installed",
    )
    parser.add_argument("--since", default="24h", help="how far back (e.g. 90m, 24h, 7d; default 24h)")
    parser.add_argument("--namespace", "-n", help="one namespace (default: all the kubeconfig may list)")
    parser.add_argument("--output", "-o", choices=("table", "json"), default="table")
    args = parser.parse_args(list(argv))
    try:
        since = clock.now() - parse_since(args.since)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    from remediator.adapters.kube import Kube, NoCluster, api_client, cluster_problem

    try:
        client = api_client()
    except NoCluster as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    problem = cluster_problem(client)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    kube = Kube(client)
    report = rows(kube.list_cr(api.REMEDIATIONS, args.namespace), since)
    if args.output == "json":
        print(json.dumps({"rows": [asdict(r) for r in report], "summary": summary(report)}, indent=1))
    else:
        print(render(report))
    return 0
