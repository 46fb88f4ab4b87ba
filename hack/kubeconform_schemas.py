#!/usr/bin/env python3
"""Write kubeconform JSON schemas offline: Kubernetes kinds from an OpenAPI v2 document, plus CRD schemas.

    kubeconform_schemas.py OUT_DIR --openapi swagger.json [--crds DIR_OR_FILE ...]

The OpenAPI v2 document is the one in the pinned Kubernetes module (api/openapi-spec/swagger.json) or
`kubectl get --raw /openapi/v2` of a running API server. Files are named as kubeconform's `{{.ResourceKind}}
{{.KindSuffix}}.json` template expects (e.g. deployment-apps-v1.json, remediation-remediator-v1alpha1.json)
and are strict: objects that list their properties refuse unknown ones, as `kubeconform -strict` wants.
Needs PyYAML (a dependency of the project, so the repository's .venv has it).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

import yaml

INT_OR_STRING = {"oneOf": [{"type": "string"}, {"type": "integer"}]}
QUANTITY = {"oneOf": [{"type": "string"}, {"type": "number"}]}


def kind_suffix(group: str, version: str) -> str:
    """kubeconform: '-' + first label of the group (the version when there is no group) + '-' + version."""
    if not group:
        return f"-{version.lower()}"
    return f"-{group.split('.')[0].lower()}-{version.lower()}"


def strictify(node: Any) -> Any:
    """Refuse unknown properties wherever an object lists its properties and says nothing else."""
    if isinstance(node, dict):
        out = {k: strictify(v) for k, v in node.items()}
        if (
            "properties" in out
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [strictify(v) for v in node]
    return node


def nullable(node: Any) -> Any:
    """Helm renders empty values as null; the API server accepts null for optional fields, so do we."""
    if isinstance(node, dict):
        out = {k: nullable(v) for k, v in node.items()}
        for key in ("properties", "definitions"):
            if key in out:
                out[key] = {name: _with_null(prop) if key == "properties" else prop for name, prop in out[key].items()}
        return out
    if isinstance(node, list):
        return [nullable(v) for v in node]
    return node


def _with_null(prop: Any) -> Any:
    if isinstance(prop, dict) and isinstance(prop.get("type"), str):
        return {**prop, "type": [prop["type"], "null"]}
    return prop


def reachable(defs: dict[str, Any], root: str) -> dict[str, Any]:
    """The definitions a root definition refers to, transitively (recursive references are fine)."""
    seen: dict[str, Any] = {}
    todo = [root]
    while todo:
        name = todo.pop()
        if name in seen or name not in defs:
            continue
        seen[name] = defs[name]
        todo.extend(_refs(defs[name]))
    return seen


def _refs(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            found.append(ref[len("#/definitions/") :])
        for v in node.values():
            found.extend(_refs(v))
    elif isinstance(node, list):
        for v in node:
            found.extend(_refs(v))
    return found


def from_openapi(doc: dict[str, Any], out: Path) -> int:
    defs = copy.deepcopy(doc["definitions"])
    for name, schema in defs.items():
        if name.endswith("util.intstr.IntOrString"):
            defs[name] = dict(INT_OR_STRING)
        elif name.endswith("api.resource.Quantity"):
            defs[name] = dict(QUANTITY)
        elif schema.get("format") == "int-or-string":
            defs[name] = dict(INT_OR_STRING)
    defs = {name: strictify(nullable(schema)) for name, schema in defs.items()}
    written = 0
    for name, schema in defs.items():
        for gvk in schema.get("x-kubernetes-group-version-kind", []):
            kind, group, version = gvk["kind"], gvk.get("group", ""), gvk["version"]
            if kind.endswith("List") or kind in ("WatchEvent", "DeleteOptions", "Status", "APIVersions"):
                continue
            doc_out = copy.deepcopy(schema)
            doc_out["definitions"] = reachable(defs, name)
            doc_out["$schema"] = "http://json-schema.org/draft-07/schema#"
            api_version = f"{group}/{version}" if group else version
            props = doc_out.setdefault("properties", {})
            props["apiVersion"] = {"type": "string", "enum": [api_version]}
            props["kind"] = {"type": "string", "enum": [kind]}
            path = out / f"{kind.lower()}{kind_suffix(group, version)}.json"
            path.write_text(json.dumps(doc_out, separators=(",", ":")))
            written += 1
    return written


def from_crds(paths: list[Path], out: Path) -> int:
    files: list[Path] = []
    for p in paths:
        files.extend(sorted(p.glob("*.yaml")) if p.is_dir() else [p])
    written = 0
    for f in files:
        for crd in yaml.safe_load_all(f.read_text()):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            spec = crd["spec"]
            kind, group = spec["names"]["kind"], spec["group"]
            for ver in spec["versions"]:
                schema = copy.deepcopy(ver.get("schema", {}).get("openAPIV3Schema") or {"type": "object"})
                props = schema.setdefault("properties", {})
                props["apiVersion"] = {"type": "string", "enum": [f"{group}/{ver['name']}"]}
                props["kind"] = {"type": "string", "enum": [kind]}
                props.setdefault("metadata", {"type": "object"})
                schema["$schema"] = "http://json-schema.org/draft-07/schema#"
                path = out / f"{kind.lower()}{kind_suffix(group, ver['name'])}.json"
                path.write_text(json.dumps(strictify(schema), separators=(",", ":")))
                written += 1
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--openapi", type=Path, help="OpenAPI v2 JSON of the Kubernetes API")
    parser.add_argument("--crds", type=Path, nargs="*", default=[], help="CRD YAML files or directories")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    n_core = from_openapi(json.loads(args.openapi.read_text()), args.out) if args.openapi else 0
    n_crd = from_crds(args.crds, args.out)
    print(f"wrote {n_core} Kubernetes and {n_crd} CRD schemas to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
