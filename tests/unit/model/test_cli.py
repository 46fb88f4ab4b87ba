import json
from pathlib import Path

import pytest

from remediator_model.cli import main

LINES = [
    {"id": "a", "reason": "OOMKilled", "exit_code": 137, "message": "", "logs": "", "team": "x"},
    {
        "id": "b",
        "reason": "",
        "exit_code": None,
        "message": "0/3 nodes are available: 3 Insufficient memory.",
        "logs": "",
    },
]


def _write(path: Path, rows: list) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def test_predict_cli_passes_through_keys_and_adds_predictions(small_artifact: Path, tmp_path: Path) -> None:
    inp, out = _write(tmp_path / "in.jsonl", LINES), tmp_path / "out.jsonl"
    assert main(["predict", "--input", str(inp), "--output", str(out), "--model", str(small_artifact)]) == 0
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(rows) == 2 and rows[0]["team"] == "x" and rows[0]["id"] == "a"
    for r in rows:
        assert {"error_type", "action", "confidence", "model_version"} <= set(r)
        assert 0 <= r["confidence"] <= 1


def test_malformed_jsonl_line_is_named_in_error(
    small_artifact: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    inp = _write(tmp_path / "in.jsonl", [LINES[0], LINES[1], "{not json", LINES[0]])
    out = tmp_path / "out.jsonl"
    assert main(["predict", "--input", str(inp), "--output", str(out), "--model", str(small_artifact)]) == 2
    assert "line 3" in capsys.readouterr().err
    assert not out.exists()


def test_wrong_field_types_are_rejected_with_line_number(
    small_artifact: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    inp = _write(tmp_path / "in.jsonl", [LINES[0], {"reason": "x", "exit_code": "boom", "message": "", "logs": ""}])
    assert (
        main(["predict", "--input", str(inp), "--output", str(tmp_path / "o.jsonl"), "--model", str(small_artifact)])
        == 2
    )
    err = capsys.readouterr().err
    assert "line 2" in err and "exit_code" in err


def test_evaluate_cli_writes_metrics_plots_and_html(small_artifact: Path, tmp_path: Path) -> None:
    rows = [
        dict(LINES[0], error_class="oom", actions=["increase_memory"]),
        dict(LINES[1], error_class="resource_exhaustion", actions=["scale_up", "notify"]),
    ]
    data, rep = _write(tmp_path / "val.jsonl", rows), tmp_path / "report"
    assert main(["evaluate", "--data", str(data), "--report", str(rep), "--model", str(small_artifact)]) == 0
    m = json.loads((rep / "metrics.json").read_text())
    for k in ("per_class", "macro_f1", "action_accuracy", "ece", "auto_apply"):
        assert k in m
    assert {"precision", "coverage"} <= set(m["auto_apply"])
    assert (rep / "confusion_matrix.png").stat().st_size > 1000
    assert (rep / "reliability_diagram.png").stat().st_size > 1000
    assert "<html" in (rep / "report.html").read_text()
    assert main(["evaluate", "--data", str(data), "--report", str(tmp_path / "b"), "--baseline"]) == 0


def test_evaluate_requires_labels(small_artifact: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = _write(tmp_path / "val.jsonl", [dict(LINES[0], error_class="oom", actions=["increase_memory"]), LINES[1]])
    assert main(["evaluate", "--data", str(data), "--report", str(tmp_path / "r"), "--model", str(small_artifact)]) == 2
    assert "line 2" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_train_cli_writes_a_loadable_artifact(tmp_path: Path) -> None:
    rows = [
        dict(LINES[0], error_class="oom", actions=["increase_memory"]),
        dict(LINES[1], error_class="resource_exhaustion", actions=["scale_up"]),
    ] * 20
    data = _write(tmp_path / "train.jsonl", rows)
    out = tmp_path / "art"
    assert main(["train", "--data", str(data), "--out", str(out)]) == 0
    assert (out / "metadata.json").exists()


def test_unknown_subcommand_is_a_usage_error() -> None:
    assert main(["bogus"]) == 2


def test_train_cli_combines_builtin_seed_and_feedback_file(tmp_path: Path) -> None:
    fb = _write(
        tmp_path / "feedback.jsonl",
        [{"logs": "zorblat queue wedged on shard 7", "action": "restart_pod", "feedback": True}] * 3,
    )
    out = tmp_path / "art"
    assert main(["train", "--data", "builtin", "--data", str(fb), "--n", "900", "--out", str(out)]) == 0
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["metrics"]["n_train"] == 903


def test_train_cli_rejects_unknown_labels_with_line_number(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = _write(tmp_path / "t.jsonl", [dict(LINES[0], error_class="oom"), dict(LINES[1], error_class="gremlins")])
    assert main(["train", "--data", str(data), "--out", str(tmp_path / "a")]) == 2
    assert "line 2" in capsys.readouterr().err
    assert not (tmp_path / "a").exists()


def test_provenance_urls_in_source_are_not_used_as_event_source(small_artifact: Path, tmp_path: Path) -> None:
    a = dict(LINES[1], source="https://github.com/example/repo/issues/1")
    b = dict(LINES[1], source="")
    inp, out = _write(tmp_path / "in.jsonl", [a, b]), tmp_path / "out.jsonl"
    assert main(["predict", "--input", str(inp), "--output", str(out), "--model", str(small_artifact)]) == 0
    ra, rb = (json.loads(x) for x in out.read_text().splitlines())
    assert ra["source"] == a["source"]  # passed through untouched
    assert (ra["error_type"], ra["confidence"]) == (rb["error_type"], rb["confidence"])
