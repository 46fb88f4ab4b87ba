"""What one /metrics scrape costs now that the in-flight and approval gauges are computed at scrape time from
the watch's index: the time of `generate_latest()` with N Remediations in flight, and the size of the page.

    .venv/bin/python bench/operator/metrics_scrape.py [--in-flight 0,100,1000,10000] [--scrapes 200]

No server: the registry is the operator's own (remediator.metrics), its scrape-time collector bound to an
in-memory list as kopf's index would hold it. Bounded: --scrapes per size. Writes bench/results/metrics_scrape.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prometheus_client import generate_latest

from remediator import metrics
from remediator.domain.inflight import ACTIVE, InFlight

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "bench" / "results" / "metrics_scrape.json"


def entries(n: int) -> list[InFlight]:
    now = datetime.now(UTC)
    return [
        InFlight(ACTIVE[i % len(ACTIVE)], now - timedelta(seconds=i), now + timedelta(seconds=600 - i))
        for i in range(n)
    ]


def measure(n: int, scrapes: int) -> dict[str, float]:
    items = entries(n)
    metrics.WATCHED.bind(
        metrics.Sources(in_flight=lambda: items, pending_feedback=lambda: 0, model_version=lambda: "v")
    )
    metrics.set_acting(True)
    generate_latest()  # warm
    times = []
    for _ in range(scrapes):
        started = time.perf_counter()
        page = generate_latest()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "in_flight": n,
        "scrapes": scrapes,
        "p50_ms": round(statistics.median(times), 3),
        "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 3),
        "page_bytes": len(page),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--in-flight", default="0,100,1000,10000")
    parser.add_argument("--scrapes", type=int, default=200)
    args = parser.parse_args()
    rows = [measure(int(n), min(args.scrapes, 1000)) for n in args.in_flight.split(",")]
    for row in rows:
        print(
            f"in flight {row['in_flight']:>6}: scrape p50 {row['p50_ms']:.2f} ms, p99 {row['p99_ms']:.2f} ms, "
            f"{row['page_bytes']} bytes"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps({"python": platform.python_version(), "machine": platform.machine(), "results": rows}, indent=2)
        + "\n"
    )
    print(f"wrote {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
