"""Benchmark the error classifier.

    /work/.venv/bin/python bench/model/bench_classifier.py [--model DIR] [--train-n 100000] [--skip-train]

Prints the numbers and writes bench/model/results.json: single-event predict p50/p99, batch throughput on
one core, artifact load time, training time for 100k examples.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # one core, before numpy loads
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "model"))

from remediator_model import artifact  # noqa: E402
from remediator_model.corpus import generate  # noqa: E402
from remediator_model.predict import Classifier, ErrorInput  # noqa: E402
from remediator_model.train import TrainConfig, train_from  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None, help="artifact dir (default: the shipped artifact)")
    ap.add_argument("--train-n", type=int, default=100_000)
    ap.add_argument("--skip-train", action="store_true")
    ap.add_argument("--out", default=str(HERE / "results.json"))
    args = ap.parse_args()
    load_avg = os.getloadavg()
    loads = []
    for _ in range(5):
        t = time.perf_counter()
        clf = Classifier.load(args.model)
        loads.append(time.perf_counter() - t)

    val = artifact.DEFAULT_DIR.parent.parent / "data" / "validation_realworld.jsonl"
    events = [ErrorInput(e.reason, e.exit_code, e.message, e.logs, e.source) for e in generate(2000, seed=12345)]
    if val.exists():
        for line in val.read_text().splitlines():
            r = json.loads(line)
            events.append(ErrorInput(r["reason"], r["exit_code"], r["message"], r["logs"], ""))
    for e in events[:200]:  # warm up
        clf.predict(e)

    def single_latency_ms() -> np.ndarray:
        lat = []
        for e in events:
            t = time.perf_counter()
            clf.predict(e)
            lat.append(time.perf_counter() - t)
        return np.array(lat) * 1000

    lat_ms = single_latency_ms()  # the OS picks the core (the operator's situation)

    pinned = False
    if hasattr(os, "sched_setaffinity"):  # from here on: one core
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})
        pinned = True
    lat_pinned_ms = single_latency_ms()

    batch = [ErrorInput(e.reason, e.exit_code, e.message, e.logs, e.source) for e in generate(10_000, seed=777)]
    clf.predict_batch(batch[:500])
    t = time.perf_counter()
    for i in range(0, len(batch), 1000):
        clf.predict_batch(batch[i : i + 1000])
    thr = len(batch) / (time.perf_counter() - t)

    res = {
        "model_version": clf.version,
        "artifact_bytes": sum(f.stat().st_size for f in Path(args.model or artifact.DEFAULT_DIR).iterdir()),
        "load_seconds_median": round(float(np.median(loads)), 4),
        "predict_single_ms_p50": round(float(np.percentile(lat_ms, 50)), 3),
        "predict_single_ms_p99": round(float(np.percentile(lat_ms, 99)), 3),
        "predict_single_n": len(lat_ms),
        "predict_single_pinned_ms_p50": round(float(np.percentile(lat_pinned_ms, 50)), 3),
        "predict_single_pinned_ms_p99": round(float(np.percentile(lat_pinned_ms, 99)), 3),
        "pinned_to_one_core": pinned,
        "load_average_at_start": [round(x, 2) for x in load_avg],
        "batch_events_per_second_one_core": round(thr, 1),
        "machine": f"{platform.machine()} {platform.processor() or ''} python {platform.python_version()}".strip(),
    }
    if not args.skip_train:
        t = time.perf_counter()
        m = train_from("builtin", TrainConfig(builtin_n=args.train_n))
        res["train_seconds"] = round(time.perf_counter() - t, 1)
        res["train_n"] = args.train_n
        res["train_featurize_seconds"] = m.metrics.get("featurize_seconds")
    print(json.dumps(res, indent=1))
    Path(args.out).write_text(json.dumps(res, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
