"""kubectl remediator: review and decide the operator's remediations as yourself.

Every request uses your kubeconfig and context (or --kubeconfig/--context), so the cluster's RBAC and the
kube-remediator admission policies judge you: approving needs the `approve` verb on remediations, and the
approver and judge names are the user name the API server knows you by (`kubectl auth whoami`).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from remediator import api
from remediator.domain import clock
from remediator.domain.types import ACTIONS, ERROR_TYPES
from remediator.plugin import render
from remediator.plugin.errors import EXIT_CLUSTER, EXIT_OK, EXIT_REFUSED, EXIT_USAGE, Connection, PluginError

if TYPE_CHECKING:
    from remediator.plugin.kube import Cluster

PROG = "kubectl remediator"
EXIT_CODES = f"""exit codes:
  {EXIT_OK}  done
  {EXIT_REFUSED}  refused or impossible: not found, forbidden by RBAC or an admission policy, changed since read,
     nothing to approve in this phase, or (with --wait) the operator refused the decision
  {EXIT_USAGE}  usage: an unknown command, option or value (nothing was sent to the cluster)
  {EXIT_CLUSTER}  cannot talk to the cluster: no kubeconfig, unknown context, unreachable, credentials refused,
     CRDs not installed, or the API server failed
"""

# metadata.name of a Remediation (the CRD's objects are DNS subdomains) and of a workload or namespace.
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
REASON_MAX = 512
TARGET_KINDS = {
    "namespace": "Namespace", "namespaces": "Namespace", "ns": "Namespace",
    "deployment": "Deployment", "deployments": "Deployment", "deploy": "Deployment",
    "statefulset": "StatefulSet", "statefulsets": "StatefulSet", "sts": "StatefulSet",
    "daemonset": "DaemonSet", "daemonsets": "DaemonSet", "ds": "DaemonSet",
    "pod": "Pod", "pods": "Pod", "po": "Pod",
}  # fmt: skip
DECIDABLE = (api.Phase.PROPOSED, api.Phase.PENDING_APPROVAL)


class UsageError(PluginError):
    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_USAGE)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming the fix, and exits 2 as every usage error does."""

    def error(self, message: str) -> Any:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"error: {message} (see `{self.prog} --help`)\n")


def _connection_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """The options every command takes, before or after the command word (kubectl passes them on as given)."""
    default: Any = None if top else argparse.SUPPRESS
    group = parser.add_argument_group("cluster and output")
    group.add_argument("--kubeconfig", default=default, metavar="FILE", help="kubeconfig file (default: $KUBECONFIG)")
    group.add_argument("--context", default=default, metavar="NAME", help="kubeconfig context (default: current)")
    group.add_argument("-n", "--namespace", default=default, metavar="NS", help="namespace (default: the context's)")
    group.add_argument(
        "-A",
        "--all-namespaces",
        action="store_true",
        default=False if top else argparse.SUPPRESS,
        help="list: every namespace you may list",
    )
    group.add_argument(
        "--as",
        dest="as_user",
        default=default,
        metavar="USER",
        help="act as USER (impersonation; the API server checks you may)",
    )
    group.add_argument("--as-group", default=default, metavar="GROUP", help="with --as: the impersonated group")
    group.add_argument(
        "-o",
        "--output",
        choices=("json", "yaml"),
        default=default,
        help="print the objects as JSON or YAML instead of text",
    )
    group.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto" if top else argparse.SUPPRESS,
        help="colour: auto = only on a terminal and when NO_COLOR is unset (default)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description=__doc__,
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _connection_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    def command(name: str, help_: str, example: str) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=help_,
            description=f"{help_}.",
            epilog=f"example:\n  {example}\n\n{EXIT_CODES}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _connection_options(p, top=False)
        return p

    command("list", "pending approvals first, then in-flight, then recent remediations", f"{PROG} list -A")

    p = command(
        "explain",
        "classification, evidence, policy gates, the change as a diff, outcome, feedback",
        f"{PROG} explain grow -n shop",
    )
    p.add_argument("name", metavar="NAME")

    for verb, what in (
        ("approve", "approve a pending remediation in your own name"),
        ("reject", "reject a pending remediation in your own name"),
    ):
        p = command(
            verb,
            what,
            f"{PROG} {verb} grow -n shop" + (" --reason 'wrong container'" if verb == "reject" else " --generation 2"),
        )
        p.add_argument("name", metavar="NAME")
        p.add_argument(
            "--generation",
            type=int,
            metavar="N",
            help="the generation you reviewed (default: the current one); refused if it changed since",
        )
        if verb == "reject":
            p.add_argument("--reason", metavar="TEXT", help=f"why (at most {REASON_MAX} characters), kept in status")
        p.add_argument(
            "--wait",
            type=float,
            default=0.0,
            metavar="SECONDS",
            help="wait up to SECONDS for the operator to act on the decision (exit 1 if it refuses)",
        )

    p = command(
        "feedback",
        "say whether a remediation was right, in your own name",
        f"{PROG} feedback grow -n shop incorrect --action notify",
    )
    p.add_argument("name", metavar="NAME")
    p.add_argument("label", metavar="correct|incorrect")
    p.add_argument("--action", metavar="ACTION", help=f"with incorrect: the right action ({', '.join(ACTIONS)})")
    p.add_argument(
        "--type",
        dest="error_type",
        metavar="TYPE",
        help=f"with incorrect: the right error type ({', '.join(ERROR_TYPES)})",
    )
    p.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait up to SECONDS for the operator to record your judgment in status.judgments",
    )

    for verb, what in (
        ("pause", "make the operator leave a namespace or workload alone"),
        ("resume", "let the operator act on a paused namespace or workload again"),
    ):
        p = command(verb, what + f" (annotation {api.IGNORE})", f"{PROG} {verb} deployment/web -n shop")
        p.add_argument(
            "target",
            nargs="?",
            metavar="TARGET",
            help="namespace/NAME, deployment/NAME, statefulset/NAME, daemonset/NAME or pod/NAME "
            "(default: the namespace of -n or of the context)",
        )
    return parser


# -- validation (local, before anything is sent) -------------------------------------------------------------
def _check_name(name: str, what: str = "NAME") -> str:
    if not (0 < len(name) <= 253 and _NAME.match(name)):
        raise UsageError(f"{what} {name!r} is not a Kubernetes object name (lower-case letters, digits, '-', '.')")
    return name


def _check_namespace(name: str) -> str:
    if not (0 < len(name) <= 63 and _LABEL.match(name)):
        raise UsageError(f"namespace {name!r} is not a valid namespace name (lower-case letters, digits, '-')")
    return name


def _check_reason(text: str) -> str:
    text = text.strip()
    if not text:
        raise UsageError("--reason is empty: say why, or leave it out")
    if len(text) > REASON_MAX:
        raise UsageError(f"--reason has {len(text)} characters; keep it to {REASON_MAX}")
    if render.clean(text) != text:
        raise UsageError("--reason may not contain control characters, tabs or newlines: write one plain line")
    return text


def parse_target(text: str | None, namespace: str) -> tuple[str, str, str]:
    """TARGET -> (Kind, namespace, name); no TARGET is the namespace itself."""
    if text is None:
        return "Namespace", "", _check_namespace(namespace)
    kind_word, sep, name = text.partition("/")
    kind = TARGET_KINDS.get(kind_word.lower())
    if not sep or kind is None or not name:
        raise UsageError(
            f"TARGET {text!r} is not KIND/NAME with KIND one of namespace, deployment, statefulset, daemonset, pod"
        )
    if kind == "Namespace":
        return kind, "", _check_namespace(name)
    return kind, namespace, _check_name(name, "TARGET name")


# -- output --------------------------------------------------------------------------------------------------
class Out:
    def __init__(self, args: argparse.Namespace, stdout: TextIO, stderr: TextIO, environ: Mapping[str, str]) -> None:
        self.stdout, self.stderr, self.fmt = stdout, stderr, args.output
        tty = bool(getattr(stdout, "isatty", lambda: False)())
        self.style = render.Style(render.colour_enabled(args.color, tty, environ))
        self.err_style = render.Style(render.colour_enabled(args.color, bool(stderr.isatty()), environ))
        self.columns = shutil.get_terminal_size().columns if tty else None

    def text(self, text: str) -> None:
        if text:
            self.stdout.write(text + "\n")

    def say(self, text: str) -> None:
        """A one-line result built from cluster data: made inert like everything else the cluster wrote."""
        self.stdout.write(render.clean(text) + "\n")

    def obj(self, obj: Any) -> None:
        self.stdout.write(render.dump(obj, self.fmt or "json") + "\n")

    def note(self, text: str) -> None:
        """Progress and hints go to stderr, so stdout stays the result (and parses with -o json)."""
        self.stderr.write(render.clean(text) + "\n")

    def error(self, text: str) -> None:
        self.stderr.write(self.err_style("error:", "red", "bold") + " " + render.clean(text) + "\n")


# -- commands ------------------------------------------------------------------------------------------------
def _namespace(args: argparse.Namespace, cluster: Cluster) -> str:
    return _check_namespace(args.namespace or cluster.default_namespace)


def _get(cluster: Cluster, ns: str, name: str) -> dict[str, Any]:
    try:
        return cluster.remediation(ns, name)
    except PluginError as err:
        if "not found" in err.message and err.code == EXIT_REFUSED:
            raise PluginError(
                f"there is no remediation {name} in namespace {ns}: `{PROG} list -n {ns}` shows what there is "
                f"(or pass -n NAMESPACE)",
                EXIT_REFUSED,
            ) from err
        raise


def cmd_list(args: argparse.Namespace, cluster: Cluster, out: Out) -> int:
    ns = None if args.all_namespaces else _namespace(args, cluster)
    items = cluster.remediations(ns)
    if out.fmt:
        out.obj(render.as_list(items))
        return EXIT_OK
    if not items:
        out.note(f"no remediations in {'any namespace' if ns is None else 'namespace ' + ns}")
        return EXIT_OK
    out.text(render.render_list(items, clock.now(), out.style, out.columns))
    return EXIT_OK


def cmd_explain(args: argparse.Namespace, cluster: Cluster, out: Out) -> int:
    ns, name = _namespace(args, cluster), _check_name(args.name)
    rem = _get(cluster, ns, name)
    ee, problem = None, ""
    ref = ((rem.get("spec") or {}).get("errorEventRef") or {}).get("name")
    if ref:
        try:
            ee = cluster.errorevent(ns, str(ref))
        except PluginError as err:
            problem = f"{ref}: {err.message}"
    status = rem.get("status") or {}
    preview = None
    if not status.get("change") and render.phase_of(rem) in (*DECIDABLE, api.Phase.APPROVED):
        preview = cluster.preview(rem)
    if out.fmt:
        out.obj(
            {
                "remediation": rem,
                "errorEvent": ee,
                "plannedChange": preview.to_dict() if preview is not None else None,
            }
        )
        return EXIT_OK
    out.text(render.explain(rem, ee, preview, clock.now(), out.style, errorevent_problem=problem))
    return EXIT_OK


def _annotations(rem: Mapping[str, Any]) -> dict[str, str]:
    return dict((rem.get("metadata") or {}).get("annotations") or {})


def _condition(rem: Mapping[str, Any], type_: str) -> Mapping[str, Any]:
    for c in (rem.get("status") or {}).get("conditions") or []:
        if c.get("type") == type_:
            return dict(c)
    return {}


def _wait(
    cluster: Cluster, ns: str, name: str, seconds: float, done: Callable[[dict[str, Any]], tuple[bool, str] | None]
) -> tuple[int, str]:
    """Poll the Remediation until `done` says (ok, message); (EXIT_REFUSED, why) after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        verdict = done(cluster.remediation(ns, name))
        if verdict is not None:
            return (EXIT_OK if verdict[0] else EXIT_REFUSED), verdict[1]
        if time.monotonic() >= deadline:
            return EXIT_REFUSED, (
                f"the operator has not acted on it within {seconds:g}s: is it running and "
                f"watching namespace {ns}? `{PROG} explain {name} -n {ns}` shows where it is"
            )
        time.sleep(0.5)


def cmd_decide(args: argparse.Namespace, cluster: Cluster, out: Out) -> int:
    """approve / reject: the annotations the admission policy checks, in the user's own name, bound to the
    generation (and resourceVersion) the user saw."""
    approve = args.command == "approve"
    ns, name = _namespace(args, cluster), args.name  # validated by _validate
    reason = _check_reason(args.reason) if not approve and args.reason is not None else None
    verb = "approve" if approve else "reject"
    reviewed: int | None = args.generation  # what the user reviewed: --generation, else what we read first
    for attempt in range(3):
        rem = _get(cluster, ns, name)
        meta, spec = rem["metadata"], rem.get("spec") or {}
        phase, generation = render.phase_of(rem), int(meta.get("generation") or 1)
        if phase not in DECIDABLE:
            raise PluginError(
                f"remediation {name} is {phase}: only a Proposed or PendingApproval remediation can be "
                f"{'approved' if approve else 'rejected'}",
                EXIT_REFUSED,
            )
        if reviewed is not None and reviewed != generation:
            seen = "you reviewed" if args.generation is not None else "it was at"
            raise PluginError(
                f"{seen} generation {reviewed}, but remediation {name} is at generation {generation} now: "
                f"review it again (`{PROG} explain {name} -n {ns}`)",
                EXIT_REFUSED,
            )
        reviewed = generation
        me = cluster.whoami()
        before = _condition(rem, api.Condition.ANNOTATIONS_VALID)
        annotations: dict[str, str | None] = {
            api.APPROVE: "true" if approve else None,
            api.REJECT: None if approve else "true",
            api.APPROVER: me,
            api.APPROVED_GENERATION: str(generation),
            api.REJECT_REASON: reason,  # null removes an earlier one
        }
        # resourceVersion makes the write conditional: refused (409) if anything changed since it was read.
        # The operator writes status meanwhile; the spec's generation is what an approval binds, so a
        # conflict is retried after a fresh read, and refused above if the generation moved.
        body = {"metadata": {"resourceVersion": meta.get("resourceVersion"), "annotations": annotations}}
        try:
            updated = cluster.patch_remediation(ns, name, body, f"{verb} remediation {name} in namespace {ns}")
            break
        except PluginError as err:
            if err.kind != "conflict" or attempt == 2:
                raise
    summary = (
        f"remediation.{api.GROUP}/{name} {verb.rstrip('e')}ed by {me} "
        f"(generation {generation}: {spec.get('action')} of {render.target_text(spec)})"
        + (f": {reason}" if reason else "")
    )
    if approve and me in ((rem.get("status") or {}).get("requestedBy") or []):
        out.note(
            f"note: you ({me}) asked for this change; unless the namespace's policy allows self-approval, "
            "the operator waits for another approver"
        )
    if args.wait <= 0:
        out.obj(updated) if out.fmt else out.say(summary)
        return EXIT_OK
    out.note(summary)

    def acted(now: dict[str, Any]) -> tuple[bool, str] | None:
        phase_now = render.phase_of(now)
        cond = _condition(now, api.Condition.ANNOTATIONS_VALID)
        if cond.get("status") == "False" and cond != before:
            return (
                False,
                f"the operator refused the {'approval' if approve else 'rejection'}: "
                f"{cond.get('reason')}: {cond.get('message')}",
            )
        if phase_now in DECIDABLE:
            return None
        ok = (phase_now != api.Phase.REJECTED) if approve else phase_now == api.Phase.REJECTED
        message = (now.get("status") or {}).get("message") or ""
        return ok, f"remediation {name} is {phase_now} now: {message}"

    code, message = _wait(cluster, ns, name, args.wait, acted)
    if out.fmt:
        out.obj(cluster.remediation(ns, name))
    if code == EXIT_OK:
        out.note(message) if out.fmt else out.say(message)
    else:
        out.error(message)
    return code


def cmd_feedback(args: argparse.Namespace, cluster: Cluster, out: Out) -> int:
    ns, name, label = _namespace(args, cluster), args.name, args.label  # validated by _validate
    rem = _get(cluster, ns, name)
    me = cluster.whoami()
    # The corrections you do not give are cleared: a previous judge's would otherwise become part of your verdict.
    annotations = {
        api.FEEDBACK: label,
        api.CORRECT_ACTION: args.action,
        api.CORRECT_TYPE: args.error_type,
        api.FEEDBACK_BY: me,
    }
    body = {"metadata": {"annotations": annotations}}
    updated = cluster.patch_remediation(ns, name, body, f"give feedback on remediation {name} in namespace {ns}")
    fixes = " / ".join(x for x in (args.error_type, args.action) if x)
    summary = f"remediation.{api.GROUP}/{name} judged {label}{' -> ' + fixes if fixes else ''} by {me}"
    if args.wait <= 0:
        out.obj(updated) if out.fmt else out.say(summary)
        return EXIT_OK
    out.note(summary)
    before = _condition(rem, api.Condition.FEEDBACK_VALID)

    def taken(now: dict[str, Any]) -> tuple[bool, str] | None:
        for j in (now.get("status") or {}).get("judgments") or []:
            if j.get("by") == me and j.get("label") == label and j.get("correctAction") == args.action:
                return True, f"recorded in status.judgments: {render.judgment_text(j)}"
        cond = _condition(now, api.Condition.FEEDBACK_VALID)
        if cond.get("status") == "False" and cond != before:
            return False, f"the operator refused the feedback: {cond.get('reason')}: {cond.get('message')}"
        return None

    code, message = _wait(cluster, ns, name, args.wait, taken)
    if out.fmt:
        out.obj(cluster.remediation(ns, name))
    if code == EXIT_OK:
        out.note(message) if out.fmt else out.say(message)
    else:
        out.error(message)
    return code


def cmd_pause(args: argparse.Namespace, cluster: Cluster, out: Out) -> int:
    pause = args.command == "pause"
    ns = args.namespace or cluster.default_namespace
    kind, namespace, name = parse_target(args.target, ns)
    shown = f"namespace/{name}" if kind == "Namespace" else f"{kind.lower()}/{name} in namespace {namespace}"
    obj = cluster.read_target(kind, namespace, name)
    meta = obj.get("metadata") or {}
    patch: dict[str, Any] = {"annotations": {api.IGNORE: "true" if pause else None}}
    if not pause and api.IGNORE in (meta.get("labels") or {}):
        patch["labels"] = {api.IGNORE: None}  # the opt-out is read from labels too: resume clears both
    updated = cluster.patch_target(
        kind, namespace, name, {"metadata": patch}, f"{'pause' if pause else 'resume'} {shown}"
    )
    if out.fmt:
        out.obj(updated)
    elif pause:
        again = f"{PROG} resume {args.target or ''}".rstrip() + (f" -n {namespace}" if namespace else "")
        out.say(f"{shown} paused: the operator leaves it alone until `{again}`")
    else:
        out.say(f"{shown} resumed: the operator acts on its failures again")
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace, Cluster, Out], int]] = {
    "list": cmd_list,
    "explain": cmd_explain,
    "approve": cmd_decide,
    "reject": cmd_decide,
    "feedback": cmd_feedback,
    "pause": cmd_pause,
    "resume": cmd_pause,
}


def _validate(args: argparse.Namespace) -> None:
    """Everything that can be checked without the cluster, before connecting to it."""
    if args.namespace is not None:
        _check_namespace(args.namespace)
    if args.all_namespaces and args.command != "list":
        raise UsageError(f"-A/--all-namespaces is for list only; name the namespace of {args.command} with -n")
    if args.as_group and not args.as_user:
        raise UsageError("--as-group needs --as USER")
    for flag, value in (("--as", args.as_user), ("--as-group", args.as_group)):
        if value is not None and (not value.strip() or render.clean(value) != value or len(value) > 1024):
            raise UsageError(f"{flag} takes a user or group name without control characters")
    if getattr(args, "name", None) is not None:
        _check_name(args.name)
    if args.command in ("pause", "resume"):
        parse_target(args.target, args.namespace or "default")
    if args.command == "reject" and args.reason is not None:
        _check_reason(args.reason)
    if args.command in ("approve", "reject") and args.generation is not None and args.generation < 1:
        raise UsageError(f"--generation {args.generation}: a generation is a positive number")
    if getattr(args, "wait", 0) < 0:
        raise UsageError("--wait takes a number of seconds, 0 or more")
    if args.command == "feedback":
        if args.label not in ("correct", "incorrect"):
            raise UsageError(f"the verdict is 'correct' or 'incorrect', not {args.label!r}")
        if args.action is not None and args.action not in ACTIONS:
            raise UsageError(f"--action {args.action!r} is not an action; use one of {', '.join(ACTIONS)}")
        if args.error_type is not None and args.error_type not in ERROR_TYPES:
            raise UsageError(f"--type {args.error_type!r} is not an error type; use one of {', '.join(ERROR_TYPES)}")
        if args.label == "correct" and (args.action or args.error_type):
            raise UsageError("--action and --type correct a wrong proposal: give them with 'incorrect' only")


def main(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
    connect: Callable[[Connection], Cluster] | None = None,
) -> int:
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    environ = os.environ if environ is None else environ
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    out = Out(args, stdout, stderr, environ)
    cluster: Cluster | None = None
    try:
        _validate(args)
        conn = Connection(args.kubeconfig, args.context, args.as_user, args.as_group)
        if connect is None:
            from remediator.plugin.kube import Cluster as Real  # imported on use: kubernetes is slow to load

            cluster = Real(conn)
        else:
            cluster = connect(conn)
        return COMMANDS[args.command](args, cluster, out)
    except PluginError as err:
        out.error(err.message)
        return err.code
    except KeyboardInterrupt:
        out.error("interrupted")
        return 130
    finally:
        if cluster is not None:
            cluster.close()
