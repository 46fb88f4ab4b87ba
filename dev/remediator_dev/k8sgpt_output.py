"""Read `k8sgpt analyze --output json` (k8sgpt v0.4.x, rule analyzers only) into plain data for bench/compare/.

The document is `{"provider", "errors", "status", "problems", "results": [{"kind", "name", "error": [{"Text",
"KubernetesDoc", "Sensitive"}], "details", "parentObject"}]}`; `name` is `namespace/name` for namespaced objects
and `details` stays empty without `--explain`. Nothing in it names an action: k8sgpt explains, it does not act.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Finding:
    """One k8sgpt result: one object (a Pod, a Deployment, a ConfigMap, ...) and what its analyzer says about it."""

    kind: str
    namespace: str
    name: str
    parent: str
    texts: tuple[str, ...]
    details: str = ""


@dataclass(frozen=True)
class Analysis:
    status: str
    problems: int
    findings: tuple[Finding, ...] = field(default_factory=tuple)
    errors: tuple[str, ...] = field(default_factory=tuple)

    def in_namespace(self, namespace: str) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.namespace == namespace)

    def about(self, namespace: str, workload: str) -> tuple[Finding, ...]:
        """The findings on one workload: its own object, and its ReplicaSets and Pods: by their parent when k8sgpt
        names one, else by the controller's name prefix (`web-7d9f-x` of Deployment `web`)."""
        return tuple(
            f
            for f in self.in_namespace(namespace)
            if f.name == workload
            or (_parent_name(f.parent) == workload if f.parent else f.name.startswith(f"{workload}-"))
        )


def _parent_name(parent: str) -> str:
    # parentObject is "Deployment/name" for analyzers that resolve owners, "" otherwise (k8sgpt fills it
    # from the owner chain, so its form varies by analyzer: keep the last path segment).
    return parent.rsplit("/", 1)[-1] if parent else ""


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def parse(raw: str | bytes) -> Analysis:
    """Parse one `k8sgpt analyze --output json` document; a result without a namespace has namespace ""."""
    doc = json.loads(raw)
    if not isinstance(doc, dict):
        raise ValueError("k8sgpt output is not a JSON object")
    findings = []
    for result in doc.get("results") or []:
        if not isinstance(result, dict):
            continue
        full = _text(result.get("name"))
        namespace, _, name = full.rpartition("/")
        texts = tuple(_text(e.get("Text")) for e in result.get("error") or [] if isinstance(e, dict))
        findings.append(
            Finding(
                kind=_text(result.get("kind")),
                namespace=namespace,
                name=name,
                parent=_text(result.get("parentObject")),
                texts=texts,
                details=_text(result.get("details")),
            )
        )
    errors = tuple(str(e) for e in doc.get("errors") or [])
    problems = doc.get("problems")
    return Analysis(
        status=_text(doc.get("status")),
        problems=problems if isinstance(problems, int) else sum(len(f.texts) for f in findings),
        findings=tuple(findings),
        errors=errors,
    )
