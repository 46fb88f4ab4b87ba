"""The chart ships the same approval admission policy as manifests/admission (the tests and the demo use that)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_chart_template_is_the_manifest_behind_its_switch() -> None:
    template = (REPO / "charts/kube-remediator/templates/admission-approval.yaml").read_text().splitlines()
    manifest = (REPO / "manifests/admission/remediator-approval.yaml").read_text().rstrip().splitlines()
    assert template[0] == "{{- if .Values.admission.enabled }}" and template[-1] == "{{- end }}"
    assert template[2:-1] == manifest, "copy manifests/admission/remediator-approval.yaml into the chart template"
