import io
import json
import shutil
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


# -- shell conventions: "-" is standard input/output; one error from flags or stdin; exit codes ---------------
class _Stdin(io.StringIO):
    def __init__(self, text: str, tty: bool = False) -> None:
        super().__init__(text)
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def test_predict_dash_reads_stdin_and_writes_stdout_not_a_file_named_dash(
    small_artifact: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", _Stdin("\n".join(json.dumps(r) for r in LINES) + "\n"))
    assert main(["predict", "--input", "-", "--output", "-", "--model", str(small_artifact)]) == 0
    captured = capsys.readouterr()
    rows = [json.loads(x) for x in captured.out.splitlines()]
    assert [r["id"] for r in rows] == ["a", "b"] and all("action" in r for r in rows)
    assert "standard output" in captured.err
    assert not (tmp_path / "-").exists() and not (tmp_path / "-.tmp").exists()


def test_classify_takes_one_error_from_flags_and_prints_a_readable_result(
    small_artifact: Path, capsys: pytest.CaptureFixture
) -> None:
    argv = ["classify", "--reason", "OOMKilled", "--exit-code", "137", "--model", str(small_artifact)]
    assert main(argv) == 0
    lines = dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines())
    assert lines["type"] == "oom" and lines["action"].startswith("increase_memory (confidence ")
    assert lines["model"] == "test-1"


def test_classify_reads_a_json_object_from_stdin_and_prints_json_for_scripts(
    small_artifact: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setattr("sys.stdin", _Stdin(json.dumps({"reason": "OOMKilled", "exit_code": 137})))
    assert main(["classify", "-o", "json", "--model", str(small_artifact)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["error_type"] == "oom" and out["model_version"] == "test-1"
    assert set(out["action_probabilities"]) >= {"increase_memory"}


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (_Stdin("", tty=True), "nothing to classify: give --message"),
        (_Stdin(""), "standard input was empty"),
        (_Stdin("{not json"), "not one JSON object"),
        (_Stdin("[1, 2]"), "expected a JSON object"),
        (_Stdin('{"exit_code": "boom"}'), "exit_code"),
    ],
)
def test_classify_bad_input_is_exit_2_with_what_to_do(
    small_artifact: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
    stdin: _Stdin,
    message: str,
) -> None:
    monkeypatch.setattr("sys.stdin", stdin)
    assert main(["classify", "--model", str(small_artifact)]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""


def test_a_model_failing_its_checksum_is_exit_3_and_says_what_to_do(
    small_artifact: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    broken = tmp_path / "model"
    shutil.copytree(small_artifact, broken)
    target = next(p for p in broken.iterdir() if p.suffix == ".npy")
    data = target.read_bytes()
    target.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))  # one flipped byte
    assert main(["classify", "--reason", "OOMKilled", "--model", str(broken)]) == 3
    err = capsys.readouterr().err
    assert "checksum mismatch" in err and "build_default" in err


def test_exit_codes_are_in_the_help(capsys: pytest.CaptureFixture) -> None:
    assert main(["classify", "--help"]) == 0
    help_text = capsys.readouterr().out
    assert "exit codes:" in help_text and "3  the model artifact" in help_text
