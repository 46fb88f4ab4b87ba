"""hack/render_dashboards.py draws a dashboard from query results (synthetic here; the real ones come from
tests/integration/test_observability_metrics.py)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

from tests.unit.test_dashboards import GEN

REPO = Path(__file__).resolve().parents[2]


def _renderer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("render_dashboards", REPO / "hack" / "render_dashboards.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_every_panel_kind_is_drawn_and_the_picture_says_it_is_not_grafana(tmp_path: Path) -> None:
    render = _renderer()
    model = GEN.render(GEN.MODEL_QUALITY)
    times = [1_700_000_000 + 10 * i for i in range(30)]
    panels = {}
    for panel in model["panels"]:
        if panel["type"] == "heatmap":
            panels[panel["title"]] = [
                {"legend": le, "values": [[t, str(i * n)] for i, t in enumerate(times)]}
                for n, le in enumerate(("0.5", "0.9", "1.0", "+Inf"), start=1)
            ]
        elif panel["type"] != "row":
            panels[panel["title"]] = [{"legend": "restart_pod", "values": [[t, "0.8"] for t in times]}]
    data = {"title": model["title"], "range": [times[0], times[-1]], "panels": panels}
    (tmp_path / "model-quality.json").write_text(json.dumps(data))
    assert render.main([str(tmp_path), "--out", str(tmp_path / "png")]) == 0
    png = (tmp_path / "png" / "dashboard-model-quality.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000
    assert "not a Grafana screenshot" in render.NOTE
    assert (
        render.fmt(0.5, "percentunit") == "50%"
        and render.fmt(90, "s") == "90.0 s"
        and render.fmt(None, "s") == "no data"
    )
