"""Request latency of `remediator api` (POST /predict, POST /errors, GET /healthz as the floor) under load from
hey (hack/build-tools.sh hey: pinned, built from Go modules), on a private local control plane, with a real
ServiceAccount token; and what the auth checks cost per request, with and without the TokenReview cache.

    .venv/bin/python bench/operator/api_latency.py [--requests 2000] [--errors 500] [--concurrency 8]

Every target is 127.0.0.1; every run is bounded in count (hey -n) and time (hey -z is not used; -t 20 per
request). The API runs as its own process (`remediator api --kubeconfig ... --port ...`) with the rate limit
off (--rate 0) and no wait for the operator (--wait-seconds 0; no operator runs). Writes
bench/results/api_latency.json.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from kubernetes import client, config

from remediator_dev.devcluster import binaries
from remediator_dev.devcluster.cluster import DevCluster

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "bench" / "results" / "api_latency.json"
NAMESPACE = "bench-api"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def _hey() -> Path:
    cache = os.environ.get("REMEDIATOR_CACHE") or str(Path.home() / ".cache" / "kube-remediator")
    hey = Path(cache) / "bin" / "hey"
    if not hey.exists():
        subprocess.run(["bash", str(REPO / "hack" / "build-tools.sh"), "hey"], check=True)
    return hey


def _load(hey: Path, url: str, n: int, c: int, token: str | None, body: dict[str, Any] | None) -> dict[str, Any]:
    argv = [str(hey), "-n", str(n), "-c", str(c), "-t", "20", "-o", "csv"]
    tmp = None
    if token:
        argv += ["-H", f"Authorization: Bearer {token}"]
    if body is not None:
        tmp = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)  # noqa: SIM115
        json.dump(body, tmp)
        tmp.close()
        argv += ["-m", "POST", "-T", "application/json", "-D", tmp.name]
    start = time.monotonic()
    out = subprocess.run([*argv, url], capture_output=True, text=True, timeout=600, check=True).stdout
    wall = time.monotonic() - start
    if tmp:
        os.unlink(tmp.name)
    rows = list(csv.DictReader(io.StringIO(out)))
    codes: dict[str, int] = {}
    ok: list[float] = []
    for row in rows:
        codes[row["status-code"]] = codes.get(row["status-code"], 0) + 1
        if row["status-code"].startswith("2"):
            ok.append(float(row["response-time"]) * 1000)
    return {
        "requests": len(rows),
        "concurrency": c,
        "status_codes": codes,
        "p50_ms": round(_pct(ok, 50), 2) if ok else None,
        "p90_ms": round(_pct(ok, 90), 2) if ok else None,
        "p99_ms": round(_pct(ok, 99), 2) if ok else None,
        "max_ms": round(max(ok), 2) if ok else None,
        "mean_ms": round(statistics.fmean(ok), 2) if ok else None,
        "throughput_rps": round(len(rows) / wall, 1),
    }


def _metric_sums(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in text.splitlines():
        m = re.match(r'^(remediator_api_auth_seconds_(?:sum|count))\{step="(\w+)"\} (\S+)$', line)
        if m:
            out[f"{m.group(2)}_{m.group(1).rsplit('_', 1)[1]}"] = float(m.group(3))
        m = re.match(r'^remediator_api_token_cache_total\{result="(\w+)"\} (\S+)$', line)
        if m:
            out[f"cache_{m.group(1)}"] = float(m.group(2))
    return out


def _auth_cost(before: dict[str, float], after: dict[str, float], requests: int) -> dict[str, Any]:
    d = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in set(after) | set(before)}
    tr_n, sar_n = d.get("tokenreview_count", 0.0), d.get("subjectaccessreview_count", 0.0)
    tr_s, sar_s = d.get("tokenreview_sum", 0.0), d.get("subjectaccessreview_sum", 0.0)
    return {
        "tokenreviews": int(tr_n),
        "tokenreview_mean_ms": round(tr_s / tr_n * 1000, 3) if tr_n else None,
        "subjectaccessreviews": int(sar_n),
        "subjectaccessreview_mean_ms": round(sar_s / sar_n * 1000, 3) if sar_n else None,
        "auth_ms_per_request": round((tr_s + sar_s) / requests * 1000, 3) if requests else None,
        "cache_hits": int(d.get("cache_hit", 0)),
        "cache_misses": int(d.get("cache_miss", 0)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="requests per /predict and /healthz run")
    parser.add_argument("--errors", type=int, default=500, help="requests per /errors run (each creates one)")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    hey = _hey()

    work = Path(tempfile.mkdtemp(prefix="remediator-bench-api-"))
    dev = DevCluster(work / "cluster", nodes=1)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        kubeconfig = dev.up(timeout=240)
        kubectl = [str(binaries.bin_dir() / "kubectl"), f"--kubeconfig={kubeconfig}"]
        for d in ("crds", "manifests/admission"):
            subprocess.run([*kubectl, "apply", "--server-side", "-f", str(REPO / d)], check=True, capture_output=True)
        subprocess.run([*kubectl, "wait", "--for=condition=Established", "-f", str(REPO / "crds")], check=True,
                       capture_output=True)  # fmt: skip
        api = config.new_client_from_config(str(kubeconfig))
        core, rbac = client.CoreV1Api(api), client.RbacAuthorizationV1Api(api)
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=NAMESPACE)))
        core.create_namespaced_service_account(
            NAMESPACE, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="bench"))
        )
        role = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "kube-remediator-requester"}
        rbac.create_namespaced_role_binding(NAMESPACE, {
            "metadata": {"name": "bench"}, "roleRef": role,
            "subjects": [{"kind": "ServiceAccount", "name": "bench", "namespace": NAMESPACE}]})  # fmt: skip
        req = client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=3600))
        token = core.create_namespaced_service_account_token("bench", NAMESPACE, req).status.token

        predict = {"namespace": NAMESPACE, "reason": "CrashLoopBackOff", "exitCode": 1,
                   "message": "dial tcp 10.0.0.7:5432: connect: connection refused",
                   "logs": "Traceback (most recent call last):\n  File app.py line 3\n"
                           "psycopg2.OperationalError: could not connect"}  # fmt: skip
        error = {**predict, "target": {"kind": "Deployment", "name": "web"}}
        runs: dict[str, Any] = {}
        for label, ttl in (("token_cache_10s", "10"), ("token_cache_off", "0")):
            port = _free_port()
            env = {k: v for k, v in os.environ.items() if not k.startswith("REMEDIATOR_")}
            log = open(work / f"api-{label}.log", "wb")  # noqa: SIM115
            cmd = [sys.executable, "-m", "remediator.cli", "api", "--kubeconfig", str(kubeconfig), "--port", str(port),
                   "--rate", "0", "--wait-seconds", "0", "--token-cache-seconds", ttl]  # fmt: skip
            proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
            procs.append(proc)
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    if urllib.request.urlopen(base + "/readyz", timeout=2).status == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit(f"remediator api did not get ready; see {log.name}")
                time.sleep(0.5)
            _load(hey, base + "/predict", 100, 2, token, predict)  # warm-up (threads, connections, model pages)
            run: dict[str, Any] = {
                "healthz_no_auth": _load(hey, base + "/healthz", args.requests, args.concurrency, None, None)
            }
            before = _metric_sums(urllib.request.urlopen(base + "/metrics").read().decode())
            run["predict"] = _load(hey, base + "/predict", args.requests, args.concurrency, token, predict)
            mid = _metric_sums(urllib.request.urlopen(base + "/metrics").read().decode())
            run["predict"]["auth"] = _auth_cost(before, mid, run["predict"]["requests"])
            run["errors"] = _load(hey, base + "/errors?wait=0", args.errors, args.concurrency, token, error)
            after = _metric_sums(urllib.request.urlopen(base + "/metrics").read().decode())
            run["errors"]["auth"] = _auth_cost(mid, after, run["errors"]["requests"])
            runs[label] = run
            proc.terminate()
            proc.wait(20)
            print(label, json.dumps(run, indent=1))
        # The model alone, in this process: what /predict costs without HTTP and auth.
        from remediator_model.predict import Classifier, ErrorInput

        clf = Classifier.load()
        one = ErrorInput(reason=predict["reason"], exit_code=1, message=predict["message"], logs=predict["logs"])
        times = []
        for _ in range(300):
            t0 = time.perf_counter()
            clf.predict_batch([one])
            times.append((time.perf_counter() - t0) * 1000)
        model_ms = {"p50_ms": round(_pct(times[50:], 50), 3), "p99_ms": round(_pct(times[50:], 99), 3)}
        created = json.loads(subprocess.run([*kubectl, "get", "errorevents", "-n", NAMESPACE, "-o", "json"],
                                            check=True, capture_output=True, text=True).stdout)["items"]  # fmt: skip
        result = {
            "command": "bench/operator/api_latency.py " + " ".join(sys.argv[1:]),
            "load_tool": "hey v0.1.4 (github.com/rakyll/hey, built by hack/build-tools.sh hey)",
            "hey_args": f"-n {args.requests} (/errors: -n {args.errors}) -c {args.concurrency} -t 20 -o csv",
            "server": "remediator api, uvicorn, 1 process, 40 threads, rate limit off, --wait-seconds 0",
            "cluster": "private local control plane (kube-apiserver + etcd + kwok), 1 node, loopback",
            "errorevents_created": len(created),
            "machine": f"{platform.machine()} {os.cpu_count()} cores (shared with other jobs)",
            "date": time.strftime("%Y-%m-%d"),
            "model_predict_in_process": model_ms,
            "runs": runs,
        }
        RESULTS.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {RESULTS}")
        return 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        dev.down()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
