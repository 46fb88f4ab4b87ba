"""What `kubectl remediator` prints, pure: API objects (dicts) in, text out. No I/O, no cluster access.

Every string that comes from the cluster is untrusted: anyone who may create an ErrorEvent or a Remediation
writes its message, explanation, notes and patches. `clean` makes each one inert before it reaches the
terminal (control characters, escape sequences and bidirectional overrides are shown escaped, never
interpreted), so no object can paint a fake "approved", hide a line, or move the cursor over another row.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from remediator import api
from remediator.domain import clock

# -- making untrusted text inert --------------------------------------------------------------------------
# Bidirectional embeddings/overrides/isolates reorder what the eye sees ("Trojan Source"): shown escaped.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: object, *, keep_newlines: bool = False) -> str:
    """`text` as a string safe to print: C0/C1 control characters (ESC, CR, BEL, backspace...), DEL and bidi
    controls are shown as \\xNN / \\uNNNN; a newline is kept only when asked (else it becomes a space)."""
    out: list[str] = []
    for char in str(text):
        if char == "\n" and keep_newlines:
            out.append(char)
        elif char in "\n\t":
            out.append(" ")
        elif char in _BIDI or (unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") and char not in "\u00ad\u200d"):
            out.append(_escape(char))
        else:
            out.append(char)
    return "".join(out)


def width(text: str) -> int:
    """Terminal columns `text` takes (wide East Asian characters take two, combining marks none)."""
    total = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        total += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return total


def truncate(text: str, columns: int) -> str:
    """`text` cut to at most `columns` terminal columns, with an ellipsis when cut."""
    if width(text) <= columns:
        return text
    out, used = [], 0
    for char in text:
        step = 0 if unicodedata.combining(char) else (2 if unicodedata.east_asian_width(char) in ("W", "F") else 1)
        if used + step > columns - 1:
            break
        out.append(char)
        used += step
    return "".join(out) + "…"


# -- colour ---------------------------------------------------------------------------------------------------
_CODES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "blue": "34", "cyan": "36"}


@dataclass(frozen=True)
class Style:
    """ANSI colour when enabled, plain text otherwise. Applied after padding, so alignment never depends on it."""

    enabled: bool = False

    def __call__(self, text: str, *names: str) -> str:
        if not self.enabled or not names or not text:
            return text
        codes = ";".join(_CODES[n] for n in names)
        return f"\x1b[{codes}m{text}\x1b[0m"


def colour_enabled(choice: str, is_tty: bool, environ: Mapping[str, str]) -> bool:
    """--color auto|always|never: auto means a TTY and no NO_COLOR (any non-empty value, per no-color.org)."""
    if choice == "always":
        return True
    if choice == "never":
        return False
    return is_tty and not environ.get("NO_COLOR") and environ.get("TERM") != "dumb"


PHASE_COLOURS: dict[str, tuple[str, ...]] = {
    api.Phase.PENDING_APPROVAL: ("yellow", "bold"),
    api.Phase.PROPOSED: ("yellow",),
    api.Phase.APPROVED: ("cyan",),
    api.Phase.APPLYING: ("cyan",),
    api.Phase.VERIFYING: ("cyan",),
    api.Phase.UNDOING: ("red",),
    api.Phase.SUCCEEDED: ("green",),
    api.Phase.FAILED: ("red", "bold"),
    api.Phase.REJECTED: ("dim",),
    api.Phase.SKIPPED: ("dim",),
    api.Phase.EXPIRED: ("dim",),
}


# -- tables ---------------------------------------------------------------------------------------------------
Cell = str | tuple[str, tuple[str, ...]]  # text, or (text, colour names)


def table(headers: Sequence[str], rows: Iterable[Sequence[Cell]], style: Style, columns: int | None = None) -> str:
    """Columns aligned to their longest cell, three spaces apart (as kubectl's). With `columns` (the terminal's
    width), the last column is cut so each line fits; nothing is cut when it is None (a pipe, a file)."""
    grid: list[list[tuple[str, tuple[str, ...]]]] = [[(h, ("bold",)) for h in headers]]
    for row in rows:
        grid.append([(clean(c[0]), c[1]) if isinstance(c, tuple) else (clean(c), ()) for c in row])
    widths = [max(width(row[i][0]) for row in grid) for i in range(len(headers))]
    if columns is not None and len(headers) > 1:
        room = columns - sum(widths[:-1]) - 3 * (len(headers) - 1)
        widths[-1] = max(10, min(widths[-1], room))
    lines = []
    for row in grid:
        parts = []
        for i, (text, names) in enumerate(row):
            last = i == len(row) - 1
            text = truncate(text, widths[i]) if last else text
            pad = "" if last else " " * (widths[i] - width(text))
            parts.append(style(text, *names) + pad)
        lines.append("   ".join(parts).rstrip())
    return "\n".join(lines)


def age(timestamp: str | None, now: dt.datetime) -> str:
    """kubectl's short ages: 45s, 5m30s, 42m, 3h10m, 20h, 3d4h, 12d, 2y; "<unknown>" without a timestamp."""
    when = clock.parse_time(timestamp) if timestamp else None
    if when is None:
        return "<unknown>"
    seconds = max(0, int((now - when).total_seconds()))
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 120:
        return f"{seconds}s"
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if days < 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if days < 730:
        return f"{days}d"
    return f"{days // 365}y"


# -- list -------------------------------------------------------------------------------------------------------
PENDING, IN_FLIGHT, RECENT = 0, 1, 2
GROUP_NAMES = {PENDING: "pending approval", IN_FLIGHT: "in flight", RECENT: "recent"}


def phase_of(rem: Mapping[str, Any]) -> str:
    return str((rem.get("status") or {}).get("phase") or api.Phase.PROPOSED)


def group_of(rem: Mapping[str, Any]) -> int:
    """PENDING (waiting for a human), IN_FLIGHT (not decided yet, or being applied/verified/undone), RECENT."""
    phase = phase_of(rem)
    if phase == api.Phase.PENDING_APPROVAL:
        return PENDING
    if phase in api.ACTIVE_PHASES:
        return IN_FLIGHT
    return RECENT


def _created(rem: Mapping[str, Any]) -> str:
    return str((rem.get("metadata") or {}).get("creationTimestamp") or "")


def _last_change(rem: Mapping[str, Any]) -> str:
    status = rem.get("status") or {}
    return str(status.get("completedAt") or status.get("appliedAt") or status.get("approvedAt") or _created(rem))


def sort_key(rem: Mapping[str, Any]) -> tuple[Any, ...]:
    """Pending approvals first, the one expiring soonest on top; then in-flight, newest first; then the
    recent ones, most recently finished first. Ties by namespace and name, so the order is stable."""
    group, meta, status = group_of(rem), rem.get("metadata") or {}, rem.get("status") or {}
    ident = (str(meta.get("namespace", "")), str(meta.get("name", "")))
    if group == PENDING:
        return (group, str(status.get("expiresAt") or "9999"), _created(rem), *ident)
    stamp = _created(rem) if group == IN_FLIGHT else _last_change(rem)
    # Newest first within the group: invert the ISO timestamp's characters (they sort like the times).
    inverted = "".join(chr(0x10FFFF - ord(c)) for c in stamp)
    return (group, inverted, *ident)


def sorted_remediations(items: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return sorted(items, key=sort_key)


def target_text(spec: Mapping[str, Any]) -> str:
    target = spec.get("target") or {}
    return f"{target.get('kind', '?')}/{target.get('name', '?')}"


def confidence_text(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, int | float) and not isinstance(value, bool) else "-"


def first_evidence(rem: Mapping[str, Any]) -> str:
    evidence = (rem.get("status") or {}).get("evidence") or []
    if not evidence:
        return "-"
    first = str(evidence[0]).split("\n", 1)[0]
    return first if first.strip() else "-"


LIST_HEADERS = ("NAMESPACE", "NAME", "TARGET", "ACTION", "CONFIDENCE", "PHASE", "REASON", "AGE", "EVIDENCE")


def list_rows(items: Iterable[Mapping[str, Any]], now: dt.datetime) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    for rem in sorted_remediations(items):
        meta, spec, status = rem.get("metadata") or {}, rem.get("spec") or {}, rem.get("status") or {}
        phase = phase_of(rem)
        rows.append(
            [
                str(meta.get("namespace", "")),
                (str(meta.get("name", "")), ("bold",) if group_of(rem) == PENDING else ()),
                target_text(spec),
                str(spec.get("action", "-")),
                confidence_text(spec.get("confidence")),
                (phase, PHASE_COLOURS.get(phase, ())),
                str(status.get("reason") or "-"),
                age(_created(rem), now),
                first_evidence(rem),
            ]
        )
    return rows


def render_list(items: Sequence[Mapping[str, Any]], now: dt.datetime, style: Style, columns: int | None) -> str:
    if not items:
        return ""
    return table(LIST_HEADERS, list_rows(items, now), style, columns)


# -- diff -------------------------------------------------------------------------------------------------------
def _yaml_lines(obj: Any) -> list[str]:
    if obj in (None, {}, []):
        return []
    text = yaml.safe_dump(obj, sort_keys=True, default_flow_style=False, allow_unicode=True, width=10_000)
    return text.splitlines()


def diff(before: Any, after: Any, style: Style, *, old: str = "before", new: str = "after") -> list[str]:
    """A unified diff of two values as YAML (keys sorted), coloured when the style is; [] when they are equal."""
    lines = list(difflib.unified_diff(_yaml_lines(before), _yaml_lines(after), old, new, lineterm="", n=3))
    out = []
    for line in lines:
        line = clean(line)
        if line.startswith(("+++", "---")):
            out.append(style(line, "bold"))
        elif line.startswith("@@"):
            out.append(style(line, "cyan"))
        elif line.startswith("+"):
            out.append(style(line, "green"))
        elif line.startswith("-"):
            out.append(style(line, "red"))
        else:
            out.append(line)
    return out


def patch_lines(patches: Sequence[Mapping[str, Any]], style: Style) -> list[str]:
    """The exact requests, one per patch: `PATCH Kind/name (merge)` and the body as compact JSON."""
    out = []
    for p in patches:
        head = f"PATCH {p.get('kind', '?')}/{p.get('name', '?')} ({p.get('patchType', '?')})"
        out.append(style(clean(head), "bold"))
        body = json.dumps(p.get("body"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        out.append("  " + clean(body))
    return out


# -- explain ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Preview:
    """The change the operator would plan now, computed by the plugin from what the user can read (or why not)."""

    description: str = ""
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    patches: tuple[Mapping[str, Any], ...] = ()
    evict: tuple[str, ...] = ()
    unavailable: str = ""  # why no preview could be made (e.g. you may not read the Pods)

    def to_dict(self) -> dict[str, Any]:
        if self.unavailable:
            return {"unavailable": self.unavailable}
        return {
            "description": self.description,
            "before": dict(self.before or {}),
            "after": dict(self.after or {}),
            "patches": [dict(p) for p in self.patches],
            "evict": list(self.evict),
        }


class _Doc:
    """Sections of `explain`: a heading, then `key: value` lines indented under it."""

    def __init__(self, style: Style) -> None:
        self.style = style
        self.lines: list[str] = []

    def heading(self, text: str) -> None:
        if self.lines:
            self.lines.append("")
        self.lines.append(self.style(text, "bold", "blue"))

    def field(self, key: str, value: object, *names: str, indent: int = 2) -> None:
        if value is None or value == "":
            return
        pad = " " * indent
        text = clean(value, keep_newlines=True).splitlines() or [""]
        self.lines.append(f"{pad}{key + ':':<14}{self.style(text[0], *names)}")
        self.lines.extend(f"{pad}{'':<14}{self.style(rest, *names)}" for rest in text[1:])

    def item(self, text: object, *names: str, indent: int = 2, bullet: str = "- ") -> None:
        pad = " " * indent
        cleaned = clean(text, keep_newlines=True).splitlines() or [""]
        self.lines.append(f"{pad}{bullet}{self.style(cleaned[0], *names)}")
        self.lines.extend(f"{pad}{' ' * len(bullet)}{self.style(rest, *names)}" for rest in cleaned[1:])

    def raw(self, lines: Iterable[str], indent: int = 4) -> None:
        self.lines.extend(" " * indent + line for line in lines)


def judgment_text(j: Mapping[str, Any]) -> str:
    label = str(j.get("label", "?"))
    fixes = [str(j[k]) for k in ("correctType", "correctAction") if j.get(k)]
    who = str(j.get("by") or "(unverified)")
    verified = "" if j.get("verified", True) and j.get("by") else " [unverified]"
    stored = ", stored" if j.get("recorded") else ""
    return f"{who}: {label}{' -> ' + ' / '.join(fixes) if fixes else ''}{verified} ({j.get('at', '?')}{stored})"


def explain(
    rem: Mapping[str, Any],
    errorevent: Mapping[str, Any] | None,
    preview: Preview | None,
    now: dt.datetime,
    style: Style,
    *,
    errorevent_problem: str = "",
) -> str:
    """Everything about one Remediation a reviewer needs, in the order they need it."""
    meta, spec, status = rem.get("metadata") or {}, rem.get("spec") or {}, rem.get("status") or {}
    ns, name, phase = str(meta.get("namespace", "")), str(meta.get("name", "")), phase_of(rem)
    target = spec.get("target") or {}
    doc = _Doc(style)

    doc.heading(f"Remediation {ns}/{name}")
    doc.field(
        "Target",
        " ".join(
            [target_text(spec)]
            + ([f"pod {target['podName']}"] if target.get("podName") else [])
            + ([f"container {target['containerName']}"] if target.get("containerName") else [])
        ),
    )
    doc.field("Action", spec.get("action"), "bold")
    params = spec.get("parameters")
    if params:
        doc.field("Parameters", json.dumps(params, sort_keys=True, ensure_ascii=False))
    doc.field("Error type", spec.get("errorType"))
    doc.field("Confidence", confidence_text(spec.get("confidence")))
    doc.field(
        "Phase", f"{phase} ({status['reason']})" if status.get("reason") else phase, *PHASE_COLOURS.get(phase, ())
    )
    doc.field("Message", status.get("message"))
    doc.field("Origin", status.get("origin"))
    doc.field("Requested by", ", ".join(str(x) for x in status.get("requestedBy") or []) or None)
    doc.field("Generation", meta.get("generation"))
    doc.field("Age", age(_created(rem), now))

    doc.heading("Classification")
    if errorevent is not None:
        ee_spec, ee_status = errorevent.get("spec") or {}, errorevent.get("status") or {}
        cls = ee_status.get("classification") or {}
        doc.field(
            "ErrorEvent",
            f"{(errorevent.get('metadata') or {}).get('name', '?')} "
            f"(source {ee_spec.get('source', '?')}, phase {ee_status.get('phase', '-')})",
        )
        doc.field("Reported", ee_spec.get("message"))
        doc.field("Reason", ee_spec.get("reason"))
        if ee_spec.get("exitCode") is not None:
            doc.field("Exit code", ee_spec.get("exitCode"))
        if ee_spec.get("count"):
            doc.field("Count", ee_spec.get("count"))
        if cls:
            doc.field("Type", f"{cls.get('errorType', '?')} ({confidence_text(cls.get('confidence'))})", "bold")
            doc.field("Action", cls.get("action"))
            if cls.get("runnerUp"):
                doc.field("Runner-up", f"{cls['runnerUp']} ({confidence_text(cls.get('runnerUpConfidence'))})")
            doc.field("Model", cls.get("modelVersion"))
            if cls.get("novelty") is not None:
                doc.field("Novelty", confidence_text(cls.get("novelty")))
            doc.field("Explanation", cls.get("explanation"))
            for line in cls.get("evidence") or []:
                doc.item(line, indent=4)
        else:
            doc.field("Type", "not classified yet")
    else:
        doc.field("Model", spec.get("modelVersion"))
        doc.field("Explanation", spec.get("explanation"))
        doc.field("ErrorEvent", errorevent_problem or "none (the Remediation was written by hand)", "dim")

    doc.heading("Evidence")
    evidence = status.get("evidence") or []
    for line in evidence:
        doc.item(line)
    if not evidence:
        doc.item("none recorded", "dim")

    doc.heading("Policy gates and reasons")
    reasons = status.get("reasons") or ([status["reason"]] if status.get("reason") else [])
    for i, code in enumerate(reasons):
        doc.item(code, *(("bold",) if i == 0 else ()))
    if not reasons:
        doc.item("not decided yet", "dim")
    conditions = status.get("conditions") or []
    if conditions:
        doc.lines.append("")
        doc.raw(
            table(
                ("CONDITION", "STATUS", "REASON", "MESSAGE"),
                [
                    [
                        str(c.get("type", "")),
                        (str(c.get("status", "")), {"True": ("green",), "False": ("red",)}.get(c.get("status"), ())),
                        str(c.get("reason", "")),
                        str(c.get("message", "")),
                    ]
                    for c in conditions
                ],
                style,
            ).splitlines(),
            indent=2,
        )

    change = status.get("change") or {}
    if change:
        kind = "undone" if change.get("undone") else ("dry run only" if change.get("dryRun") else "applied")
        if phase == api.Phase.APPLYING and not change.get("dryRun"):
            kind = "being applied"
        if not change.get("patches") and not change.get("evict") and change.get("before") == change.get("after"):
            kind = "nothing changed"  # notify: a human was told, the workload left as it was
        doc.heading(f"Change ({kind}: {change.get('kind', '?')}/{change.get('name', '?')})")
        lines = diff(change.get("before"), change.get("after"), style)
        doc.raw(lines or ["(no difference recorded)"])
        if change.get("patches"):
            doc.lines.append("  API requests (exact):")
            doc.raw(patch_lines(change["patches"], style))
        if change.get("evict"):
            doc.field("Evicts", ", ".join(str(p) for p in change["evict"]))
    elif preview is not None:
        doc.heading("Change (planned, not applied)")
        if preview.unavailable:
            doc.item(preview.unavailable, "dim")
        else:
            doc.field("Plan", preview.description)
            lines = diff(preview.before, preview.after, style, old="now", new="planned")
            doc.raw(lines or ["(changes nothing)"])
            if preview.patches:
                doc.lines.append("  API requests (exact):")
                doc.raw(patch_lines(preview.patches, style))
            if preview.evict:
                doc.field("Evicts", ", ".join(preview.evict))
            doc.item("a preview: the operator plans again when it applies, and records the exact requests", "dim")
    else:
        doc.heading("Change")
        doc.item("nothing was changed", "dim")

    outcome = status.get("outcome") or {}
    if outcome:
        doc.heading("Outcome")
        result = str(outcome.get("result", "?"))
        doc.field("Result", result, *{"Succeeded": ("green",), "Failed": ("red",)}.get(result, ()))
        doc.field("Message", outcome.get("message"))
        if outcome.get("readyReplicas") is not None:
            doc.field("Ready", outcome.get("readyReplicas"))
        if outcome.get("restartsDuringWindow") is not None:
            doc.field("Restarts", outcome.get("restartsDuringWindow"))

    feedback, judgments = status.get("feedback") or {}, status.get("judgments") or []
    doc.heading("Feedback")
    if feedback.get("label"):
        fixes = [str(feedback[k]) for k in ("correctType", "correctAction") if feedback.get(k)]
        doc.field(
            "Operator",
            f"{feedback['label']} (from {feedback.get('source', '?')})"
            + (f" -> {' / '.join(fixes)}" if fixes else "")
            + (", stored" if feedback.get("recorded") else ", not stored yet"),
        )
    for j in judgments:
        doc.item(judgment_text(j))
    if not feedback.get("label") and not judgments:
        doc.item("none yet", "dim")

    doc.heading("Approval")
    approval = status.get("approval") or {}
    if approval.get("by"):
        verb = "rejected" if phase == api.Phase.REJECTED else "approved"
        doc.field(
            "Decision",
            f"{verb} by {approval['by']} at {approval.get('at', '?')} (generation {approval.get('generation', '?')})",
            "bold",
        )
    elif phase == api.Phase.PENDING_APPROVAL:
        doc.field("Decision", "waiting for a human", "yellow", "bold")
        if status.get("expiresAt"):
            doc.field("Expires", status["expiresAt"])
        doc.item(
            f"kubectl remediator approve {name} -n {ns}    "
            f"# or: kubectl remediator reject {name} -n {ns} --reason TEXT",
            "dim",
        )
    elif spec.get("autoApply") and phase not in (api.Phase.PROPOSED,):
        doc.field("Decision", "applied automatically (within policy)")
    else:
        doc.field("Decision", "none")
    return "\n".join(doc.lines)


# -- machine output ---------------------------------------------------------------------------------------------
def dump(obj: Any, fmt: str) -> str:
    """-o json | yaml. Control characters stay escaped in both (JSON escapes them; YAML quotes them)."""
    if fmt == "json":
        return json.dumps(obj, indent=2, sort_keys=False, ensure_ascii=True)
    return yaml.safe_dump(obj, sort_keys=False, default_flow_style=False, allow_unicode=False).rstrip("\n")


def as_list(items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A kubectl-style List of the objects, in the order `list` prints them."""
    return {"apiVersion": "v1", "kind": "List", "items": [dict(i) for i in sorted_remediations(items)]}
