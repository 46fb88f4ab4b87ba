"""`remediator model ...`: train, predict and evaluate the error classifier."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from remediator_model.data import STDIO, DataError, parse_event_fields, read_jsonl

EXIT_CODES = """exit codes:
  0  done
  2  bad arguments or input (the message names the line or field; nothing was written)
  3  the model artifact cannot be used (missing, wrong format, or failing its checksum)"""
EXIT_BAD_INPUT, EXIT_BAD_ARTIFACT = 2, 3


def _err(msg: str, code: int = EXIT_BAD_INPUT) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return code


def _log(msg: str) -> None:
    print(msg, file=sys.stderr)


def cmd_train(args: argparse.Namespace) -> int:
    from remediator_model import artifact
    from remediator_model.evaluate import evaluate, load_labelled
    from remediator_model.predict import Classifier
    from remediator_model.train import TrainConfig, train_from

    cfg = TrainConfig(builtin_n=args.n, seed=args.seed, feedback_weight=args.feedback_weight)
    t0 = time.time()
    extra: dict[str, Any] = {}
    if args.real:
        model, extra["real_test"] = _train_with_real(args, cfg)
    else:
        model = train_from(args.data, cfg, log=_log)
    if args.validate:
        val = load_labelled(args.validate)
        m = evaluate(Classifier.from_trained(model, "candidate"), val)
        extra["validation"] = {k: v for k, v in m.items() if k not in ("confusion", "model_version")}
    out = artifact.save(model, args.out, version=args.version, extra_metrics=extra)
    meta = json.loads((out / "metadata.json").read_text())
    print(
        json.dumps(
            {
                "out": str(out),
                "version": meta["version"],
                "seconds": round(time.time() - t0, 1),
                "metrics": meta["metrics"],
            },
            indent=1,
        )
    )
    return 0


def _train_with_real(args: argparse.Namespace, cfg: Any) -> tuple[Any, dict[str, Any]]:
    """Fit on --data plus the real corpus's fit part, calibrate on its calibration part, score its test part
    (split by source thread; see realdata.py)."""
    from remediator_model.evaluate import real_metrics
    from remediator_model.predict import Classifier
    from remediator_model.realdata import load_real, split
    from remediator_model.train import balanced_real_weight, load_examples, real_examples, train

    parts = split(load_real(), seed=args.seed)
    base = [e for d in args.data for e in load_examples(d, cfg)]
    weight = args.real_weight or balanced_real_weight(base, len(parts.fit))
    examples = base + real_examples(parts.fit, weight)
    model = train(examples, cfg, log=_log, calibration=real_examples(parts.calibrate, 1.0))
    test = real_metrics(
        parts.test, Classifier.from_trained(model, "candidate").predict_batch([i.event for i in parts.test])
    )
    summary = {k: v for k, v in test.items() if not k.startswith("_")}
    summary["split"] = {"fit": len(parts.fit), "calibrate": len(parts.calibrate), "test": len(parts.test)}
    summary["real_weight"] = round(weight, 2)
    return model, summary


def _read_events(path: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    rows = []
    for line, rec in read_jsonl(path):
        rows.append((rec, parse_event_fields(rec, line, path)))
    return rows


def _prediction_fields(p: Any) -> dict[str, Any]:
    return {
        "error_type": p.error_type,
        "action": p.action,
        "confidence": p.confidence,
        "model_version": p.model_version,
        "runner_up": p.runner_up,
        "runner_up_confidence": p.runner_up_confidence,
        "explanation": p.explanation,
    }


def cmd_predict(args: argparse.Namespace) -> int:
    from remediator_model.predict import Classifier, ErrorInput

    rows = _read_events(args.input)  # validates every line before anything is written
    clf = Classifier.load(args.model)
    preds = clf.predict_batch(
        [ErrorInput(ev["reason"], ev["exit_code"], ev["message"], ev["logs"], ev["source"]) for _, ev in rows]
    )
    lines = [json.dumps({**rec, **_prediction_fields(p)}) + "\n" for (rec, _), p in zip(rows, preds, strict=True)]
    if args.output == STDIO:
        sys.stdout.writelines(lines)
        sys.stdout.flush()
    else:
        # Written whole or not at all: a failed run never leaves half a file under the output's name.
        tmp = Path(str(args.output) + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.writelines(lines)
        tmp.replace(args.output)
    _log(f"wrote {len(preds)} predictions to {'standard output' if args.output == STDIO else args.output}")
    return 0


def _one_error(args: argparse.Namespace) -> dict[str, Any]:
    """The error to classify: from the flags, or else one JSON object on standard input."""
    if any(v is not None for v in (args.message, args.reason, args.exit_code, args.logs)):
        rec: Any = {
            "message": args.message,
            "reason": args.reason,
            "exit_code": args.exit_code,
            "logs": args.logs,
            "source": args.source,
        }
        return parse_event_fields(rec, 1, "flags")
    nothing = "nothing to classify: give --message, --reason or --exit-code, or pipe one JSON object in"
    if sys.stdin.isatty():
        raise DataError(nothing)
    text = sys.stdin.read()
    if not text.strip():
        raise DataError(f"{nothing} (standard input was empty)")
    try:
        rec = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"standard input is not one JSON object ({exc.msg} at line {exc.lineno})") from None
    return parse_event_fields(rec, 1, "<stdin>")


def cmd_classify(args: argparse.Namespace) -> int:
    from remediator_model.predict import Classifier, ErrorInput

    ev = _one_error(args)  # bad input fails before the model loads
    p = Classifier.load(args.model).predict(
        ErrorInput(ev["reason"], ev["exit_code"], ev["message"], ev["logs"], ev["source"])
    )
    if args.output == "json":
        fields = _prediction_fields(p)
        fields["action_probabilities"] = dict(p.action_probabilities)
        print(json.dumps(fields, indent=1))
        return 0
    rows = [
        ("type", p.error_type),
        ("action", f"{p.action} (confidence {p.confidence:.2f})"),
        ("runner-up", f"{p.runner_up} ({p.runner_up_confidence:.2f})"),
    ]
    if p.action_probabilities:
        # The three most likely fixes: what the operator weighs against what it observes.
        rows.append(("fixes", ", ".join(f"{a} {prob:.2f}" for a, prob in p.action_probabilities[:3])))
    rows += [("why", p.explanation), ("model", p.model_version)]
    width = max(len(k) for k, _ in rows)
    print("\n".join(f"{k:<{width}}  {v}" for k, v in rows))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from remediator_model.evaluate import evaluate, load_labelled

    data = load_labelled(args.data)
    predictor: Any
    if args.baseline:
        from remediator_model.baseline import KeywordBaseline

        predictor = KeywordBaseline()
    else:
        from remediator_model.predict import Classifier

        predictor = Classifier.load(args.model)
    m = evaluate(predictor, data, args.report, threshold=args.threshold)
    summary = {
        k: m[k] for k in ("n", "macro_f1", "type_accuracy", "action_accuracy", "ece", "auto_apply", "model_version")
    }
    print(json.dumps(summary, indent=1))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="remediator model", description="Train, run and evaluate the error classifier.")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a model and write an artifact directory", epilog=EXIT_CODES)
    t.add_argument(
        "--data",
        required=True,
        action="append",
        help="'builtin' (seed corpus), a JSONL file ('-': standard input) or a directory of JSONL files; repeat to "
        "combine (e.g. --data builtin --data feedback.jsonl)",
    )
    t.add_argument("--out", required=True, help="artifact directory to write")
    t.add_argument("--n", type=int, default=36000, help="size of the builtin seed corpus (default 36000)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument(
        "--feedback-weight",
        type=float,
        default=20.0,
        help="weight of feedback examples (records with feedback: true) that carry no explicit weight",
    )
    t.add_argument(
        "--real",
        action="store_true",
        help="add the real-world corpus (data/real): fit on its fit part, calibrate on its calibration part, "
        "report its test part (split by source thread)",
    )
    t.add_argument(
        "--real-weight",
        type=float,
        default=0.0,
        help="weight of a real example (default 0: balanced, the real part weighs as much as all the rest)",
    )
    t.add_argument("--validate", help="labelled JSONL to evaluate the trained model on (metrics stored in metadata)")
    t.add_argument("--version", help="artifact version string (default: date + data hash)")
    t.set_defaults(fn=cmd_train)
    pr = sub.add_parser("predict", help="classify events from a JSONL file", epilog=EXIT_CODES)
    pr.add_argument("--input", required=True, help="JSON Lines, one event per line ('-': standard input)")
    pr.add_argument("--output", required=True, help="JSON Lines with the predictions added ('-': standard output)")
    pr.add_argument("--model", help="artifact directory (default: the artifact shipped in the package)")
    pr.set_defaults(fn=cmd_predict)
    cl = sub.add_parser(
        "classify",
        help="classify one error given by flags, or one JSON object on standard input",
        description="Classify one error: from --message/--reason/--exit-code/--logs, or else from one JSON object "
        'on standard input (e.g. {"reason": "OOMKilled", "exit_code": 137}).',
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cl.add_argument("--message", help="the error message")
    cl.add_argument("--reason", help="the Kubernetes reason (CrashLoopBackOff, OOMKilled, ...)")
    cl.add_argument("--exit-code", type=int, help="the container's exit code")
    cl.add_argument("--logs", help="the tail of the container's log")
    cl.add_argument("--source", default="user", help="cluster, user, api or alert (default user)")
    cl.add_argument("--model", help="artifact directory (default: the artifact shipped in the package)")
    cl.add_argument("-o", "--output", choices=("text", "json"), default="text", help="text (default) or json")
    cl.set_defaults(fn=cmd_classify)
    ev = sub.add_parser("evaluate", help="evaluate on labelled JSONL and write a report", epilog=EXIT_CODES)
    ev.add_argument("--data", required=True, help="labelled JSON Lines ('-': standard input)")
    ev.add_argument("--report", required=True, help="directory for metrics.json, PNGs and report.html")
    ev.add_argument("--model", help="artifact directory (default: the artifact shipped in the package)")
    ev.add_argument("--baseline", action="store_true", help="evaluate the keyword-rule baseline instead of the model")
    ev.add_argument("--threshold", type=float, default=0.9, help="auto-apply confidence threshold (default 0.9)")
    ev.set_defaults(fn=cmd_evaluate)
    return p


def main(argv: list[str]) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        rc: int = args.fn(args)
        return rc
    except DataError as exc:
        return _err(str(exc))
    except FileNotFoundError as exc:
        return _err(f"file not found: {exc.filename}")
    except Exception as exc:  # artifact errors and the like: one clear line, no traceback
        from remediator_model.artifact import ArtifactError

        if isinstance(exc, ArtifactError):
            return _err(str(exc), EXIT_BAD_ARTIFACT)
        raise


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
