"""The learning curve: how much a running operator's model improves from human corrections of real errors.

    python bench/learning/learning_curve.py --stages 10,30,60,120 --out bench/results/learning_curve.json

Data: only the never-used test part of the real corpus (``realdata.split(load_real(), seed=0).test``; the
shipped model was fitted on ``.fit`` and calibrated on ``.calibrate``). It is split by source thread (a
SHA-256 of the thread, so one thread is never on both sides) into a correction pool (~60%) and a report set
(~40%) that nothing but the final scoring touches.

The real path, per correction: a Deployment (kwok simulates its Pod), an ErrorEvent (source "user") with
the item's reason/message/logs/exit code, the operator's Remediation, and an SRE's annotations on it
(``feedback=correct`` when its action is one of the item's confirmed fixes, else ``feedback=incorrect`` +
``correct-action=<first fix>`` (+ ``correct-type`` when the type was wrong too), with ``feedback-by``); then
the judge's entry in ``status.judgments`` recorded (the document is in MongoDB). At each stage the operator
is restarted (a graceful stop flushes its S3 archive batch; the archive is checked to hold every ErrorEvent so far),
``retrain()`` runs against the real FeedbackStore / LogArchive / ModelRegistry, and the running operator
must log "model swapped: ... -> <published version>".

Servers, all on 127.0.0.1 and all started and stopped here: a local control plane (etcd, kube-apiserver,
controllers, kwok: ``remediator_dev.devcluster``), FerretDB (MongoDB wire protocol), a moto S3 server, and
``python -m remediator.cli run``. The operator's policy has autoApplyThreshold 1.0: nothing is applied.

The retrain gate's "realworld" set is the real corpus's *calibration* part (``--validation`` JSONL written
here), not its test part: the default would gate on the pool and the report set. Each stage's model
(published or kept) is scored offline on the report set with ``evaluate.real_metrics`` (threshold 0.9, the
default policy's), as is the shipped model ("before").
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for sub in ("operator", "model", "dev", ""):
    if str(ROOT / sub) not in sys.path:
        sys.path.insert(0, str(ROOT / sub))

from kubernetes import client as k8s  # noqa: E402
from kubernetes import config as k8s_config  # noqa: E402

from remediator.adapters.archive import LogArchive  # noqa: E402
from remediator.adapters.registry import ModelRegistry  # noqa: E402
from remediator.adapters.store import FeedbackStore  # noqa: E402
from remediator.learning.retrain import retrain  # noqa: E402
from remediator_dev.devcluster.cluster import DevCluster  # noqa: E402
from remediator_model.evaluate import real_metrics  # noqa: E402
from remediator_model.predict import Classifier  # noqa: E402
from remediator_model.realdata import RealItem, load_real, split  # noqa: E402
from remediator_model.train import TrainConfig  # noqa: E402
from tests.fixtures.cluster import ADMISSION, CRDS, Cluster  # noqa: E402
from tests.fixtures.mongo import FerretDBServer, ferretdb_argv, tools_bin_dir  # noqa: E402
from tests.fixtures.operator import Operator, OperatorFactory, Ops  # noqa: E402
from tests.fixtures.procs import LOOPBACK, ManagedProcess, free_port  # noqa: E402
from tests.fixtures.s3 import MotoServer, make_client  # noqa: E402

log = logging.getLogger("learning_curve")
POOL_SHARE = 60  # percent of the test part's source threads that feed corrections; the rest is reported on
THRESHOLD = 0.9  # offline auto-apply threshold of the report metrics (the default policy's)
TARGETS = {"action_accuracy_gain": 0.10, "auto_apply_precision": 0.95, "ece": 0.05}
KEPT = (
    "n",
    "action_accuracy",
    "auto_apply_precision",
    "auto_apply_n",
    "auto_apply_coverage_of_changing_fixes",
    "changing_fixes",
    "ece",
    "macro_f1",
    "type_accuracy",
    "predicted_actions",
)


# ------------------------------------------------------------------------------------------------- data
def _bucket(key: str) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 100


def partition(test: list[RealItem], order_seed: int = 0) -> tuple[list[RealItem], list[RealItem]]:
    """(pool, report): by a hash of the source thread; the pool in a fixed order (hash of the item id, with
    ``order_seed`` as a prefix when it is not 0: another order of the same pool)."""
    pool = [i for i in test if _bucket(i.source) < POOL_SHARE]
    report = [i for i in test if _bucket(i.source) >= POOL_SHARE]
    assert not {i.source for i in pool} & {i.source for i in report}
    prefix = f"{order_seed}:" if order_seed else ""
    pool.sort(key=lambda i: hashlib.sha256(f"{prefix}{i.id}".encode()).hexdigest())
    return pool, report


def write_labelled(items: list[RealItem], path: Path) -> None:
    """The JSONL format of ``remediator_model.evaluate.load_labelled`` (source "api", as load_real gives)."""
    with path.open("w", encoding="utf-8") as f:
        for i in items:
            e = i.event
            rec = {
                "id": i.id,
                "reason": e.reason,
                "exit_code": e.exit_code,
                "message": e.message,
                "logs": e.logs,
                "source": e.source,
                "error_class": i.error_class,
                "actions": list(i.actions),
            }
            f.write(json.dumps(rec) + "\n")


def score(model: Classifier, report: list[RealItem]) -> dict[str, Any]:
    metrics = real_metrics(report, model.predict_batch([i.event for i in report]), THRESHOLD)
    out = {k: metrics[k] for k in KEPT}
    out["right_ids"] = sorted(i.id for i, ok in zip(report, metrics["_ok"], strict=True) if ok)
    return out


def flips(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    """Items whose action became right (fixed) or wrong (broken) against the shipped model's."""
    b, a = set(before["right_ids"]), set(after["right_ids"])
    return {"fixed": len(a - b), "broken": len(b - a)}


class _NoFeedback:
    """A store without any feedback: the control run (the same recipe, no corrections, nothing published)."""

    def feedback_since(self, since: Any = None, labels: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        return []

    def errorevents_by_ref(self, refs: list[str]) -> dict[str, dict[str, Any]]:
        return {}


# ---------------------------------------------------------------------------------------------- servers
class Servers:
    """Control plane, FerretDB, moto and the operator, all on 127.0.0.1; stop() ends exactly these."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.dev: DevCluster | None = None
        self.ferret: FerretDBServer | None = None
        self.moto: ManagedProcess | None = None
        self.factory: OperatorFactory | None = None

    def start(self) -> None:
        t0 = time.monotonic()
        self.dev = DevCluster(self.work / "cluster", nodes=3)  # kwok: 110 Pods a node
        kubeconfig = self.dev.up(timeout=300)
        self.cluster = Cluster(kubeconfig, k8s_config.new_client_from_config(str(kubeconfig)), self.dev)
        self.cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(CRDS))
        self.cluster.kubectl("wait", "--for=condition=Established", "--timeout=60s", "-f", str(CRDS))
        self.cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(ADMISSION))
        log.info("control plane up (%.0fs)", time.monotonic() - t0)

        root = self.work / "ferretdb"
        (root / "data").mkdir(parents=True)
        (root / "state").mkdir()
        port = free_port()
        argv = ferretdb_argv(tools_bin_dir() / "ferretdb", port, root / "data", root / "state")
        proc = ManagedProcess("ferretdb", argv, log_path=root / "ferretdb.log", env={**os.environ, "DO_NOT_TRACK": "1"})
        self.ferret = FerretDBServer(process=proc, port=port, data_dir=root / "data")
        self.ferret.start(timeout=60)

        mport = free_port()
        self.moto = ManagedProcess(
            "moto_server",
            [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(mport)],
            log_path=self.work / "moto.log",
        )
        self.s3_server = MotoServer(process=self.moto, port=mport)
        self.moto.start(self.s3_server.ready, timeout=90)
        self.s3 = make_client(self.s3_server.endpoint_url, "s3")
        self.logs_bucket, self.models_bucket = "lc-logs", "lc-models"
        for b in (self.logs_bucket, self.models_bucket):
            self.s3.create_bucket(Bucket=b)
        log.info("servers up (%.0fs): %s, %s", time.monotonic() - t0, self.ferret.uri, self.s3_server.endpoint_url)

    def operator(self, namespace: str) -> Operator:
        assert self.ferret is not None
        self.factory = OperatorFactory(self.cluster, self.work / "operator")
        env = {
            "REMEDIATOR_WATCH_CLUSTER": "false",
            "REMEDIATOR_MONGODB_URI": self.ferret.uri,
            "REMEDIATOR_FEEDBACK_RETRY_SECONDS": "1",
            "REMEDIATOR_LOGS_BUCKET": self.logs_bucket,
            "REMEDIATOR_MODELS_BUCKET": self.models_bucket,
            "REMEDIATOR_MODEL_POLL_SECONDS": "2",
            "REMEDIATOR_S3_ENDPOINT_URL": self.s3_server.endpoint_url,
            "REMEDIATOR_AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }
        return self.factory(namespace, env=env, timeout=120)

    def stop(self) -> None:
        if self.factory is not None:
            self.factory.stop_all()
        if self.moto is not None:
            self.moto.stop()
        if self.ferret is not None:
            self.ferret.stop()
        if self.dev is not None:
            self.dev.down()


# ------------------------------------------------------------------------------------------ corrections
def _wait(pred: Any, timeout: float, what: str, interval: float = 0.3) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = pred()
        except k8s.exceptions.ApiException:
            value = None
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def errorevent_spec(item: RealItem, target: str) -> dict[str, Any]:
    """The item as a user would report it (within the CRD's limits: message required, at most 4096 chars)."""
    e = item.event
    message = e.message or e.reason or next((ln for ln in e.logs.splitlines() if ln.strip()), "") or "error"
    spec: dict[str, Any] = {
        "target": {"kind": "Deployment", "name": target},
        "message": message[:4096],
        "source": "user",
    }
    if e.reason:
        spec["reason"] = e.reason[:128]
    if e.logs:
        spec["logs"] = e.logs[-16384:]
    if e.exit_code is not None and -255 <= e.exit_code <= 255:
        spec["exitCode"] = e.exit_code
    return spec


def judge(item: RealItem, rem: dict[str, Any]) -> dict[str, str]:
    """The SRE's annotations for a Remediation of this item."""
    spec = rem["spec"]
    if spec["action"] in item.actions:
        return {"remediator.dev/feedback": "correct"}
    out = {"remediator.dev/feedback": "incorrect", "remediator.dev/correct-action": item.actions[0]}
    if spec.get("errorType") != item.error_class:
        out["remediator.dev/correct-type"] = item.error_class
    return out


def correct_one(ops: Ops, item: RealItem, name: str, timeout: float) -> dict[str, Any]:
    """One correction through the operator; returns what happened (skipped when no Remediation came)."""
    t0 = time.monotonic()
    ops.deployment(name, 1, memory="64Mi")
    try:
        ops.running_pods(name, 1)
    except AssertionError:
        log.warning("%s: Pod not Running in time; the ErrorEvent is sent anyway", name)
    ops.errorevent(name, errorevent_spec(item, name))

    def triaged() -> dict[str, Any] | None:
        ee = ops.get("errorevents", name) or {}
        phase = (ee.get("status") or {}).get("phase")
        return ee if phase in ("Remediating", "Ignored", "Invalid", "Resolved") else None

    ee = _wait(triaged, timeout, f"ErrorEvent {name} triaged")
    ref = ((ee.get("status") or {}).get("remediationRef") or {}).get("name")
    cls = (ee.get("status") or {}).get("classification") or {}
    out: dict[str, Any] = {
        "item": item.id,
        "name": name,
        "model_version": cls.get("modelVersion"),
        "model_action": cls.get("action"),
        "model_type": cls.get("errorType"),
    }
    if not ref:
        out.update(skipped=(ee.get("status") or {}).get("message") or ee["status"].get("phase"))
        return out
    rem = _wait(
        lambda: (r := ops.get("remediations", ref)) and (r.get("status") or {}).get("phase") and r,
        timeout,
        f"Remediation {ref} decided",
    )
    annotations = judge(item, rem)
    args = [f"{k}={v}" for k, v in annotations.items()] + [f"remediator.dev/feedback-by={ops.me}"]
    ops.cluster.kubectl("annotate", "-n", ops.namespace, "--overwrite", "remediation", ref, *args)

    def recorded() -> dict[str, Any] | None:
        """This judge's verdict in status.judgments (one entry per person), stored in MongoDB."""
        status = (ops.get("remediations", ref) or {}).get("status") or {}
        mine = [j for j in status.get("judgments") or [] if j.get("by") == ops.me and j.get("recorded")]
        return mine[0] if mine else None

    fb = _wait(recorded, timeout, f"feedback of {ref} recorded")
    out.update(
        action=rem["spec"]["action"],
        error_type=rem["spec"].get("errorType"),
        phase=rem["status"].get("phase"),
        reason=rem["status"].get("reason"),
        label=fb.get("label"),
        correct_action=fb.get("correctAction"),
        correct_type=fb.get("correctType"),
        type_wrong=rem["spec"].get("errorType") != item.error_class,
        feedback_id=fb.get("id"),
        seconds=round(time.monotonic() - t0, 1),
    )
    return out


def archived_refs(archive: LogArchive) -> set[str]:
    return {str(r.get("ref")) for r in archive.read_since(dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1))}


# ---------------------------------------------------------------------------------------------------- run
def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.monotonic()
    stages = sorted({int(s) for s in args.stages.split(",") if s.strip()})
    real = split(load_real(), seed=0)
    pool, report = partition(real.test, args.order_seed)
    if stages[-1] > len(pool):
        raise SystemExit(f"the largest stage ({stages[-1]}) exceeds the correction pool ({len(pool)} items)")
    cfg = TrainConfig(builtin_n=args.builtin_n) if args.builtin_n else TrainConfig()
    work = Path(tempfile.mkdtemp(prefix="lc-"))
    validation = work / "calibration_part.jsonl"
    write_labelled(real.calibrate, validation)

    shipped = Classifier.load(None)
    result: dict[str, Any] = {
        "command": " ".join(["python", "bench/learning/learning_curve.py", *sys.argv[1:]]),
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "data": {
            "real_corpus": "remediator_model.realdata.split(load_real(), seed=0)",
            "fit_part": len(real.fit),
            "calibration_part": len(real.calibrate),
            "test_part": len(real.test),
            "correction_pool": {
                "n": len(pool),
                "sources": len({i.source for i in pool}),
                "first_fix": dict(Counter(i.actions[0] for i in pool)),
            },
            "report_set": {
                "n": len(report),
                "sources": len({i.source for i in report}),
                "first_fix": dict(Counter(i.actions[0] for i in report)),
            },
            "split_rule": f"sha256(source) % 100 < {POOL_SHARE} -> pool, else report; pool ordered by sha256(id)"
            + (f" with prefix '{args.order_seed}:'" if args.order_seed else ""),
            "gate_realworld_set": f"the calibration part ({len(real.calibrate)} items), not the test part",
        },
        "train_config": cfg.to_dict(),
        "shipped_recipe": args.builtin_n is None,
        "holdout_n": args.holdout_n,
        "threshold": THRESHOLD,
        "targets": TARGETS,
        "before": {"model": shipped.version, "report_set": score(shipped, report)},
        "stages": [],
    }
    log.info("pool %d, report %d; before: %s", len(pool), len(report), result["before"]["report_set"])
    if not args.no_control:
        # The same retrain() with no feedback and no registry: what retraining alone does, without corrections.
        t0 = time.monotonic()
        ctl = retrain(
            _NoFeedback(),
            None,
            None,
            work / "control",
            validation,
            cfg=cfg,
            holdout_n=args.holdout_n,
            version="lc-control",
        )
        result["control_no_feedback"] = {
            "what": "retrain() with an empty feedback store and no registry (not served): the recipe alone",
            "gate": {"decision": ctl.decision, "reasons": ctl.reasons},
            "report_set": score(Classifier.load(work / "control" / "lc-control"), report),
            "seconds": round(time.monotonic() - t0, 1),
        }
        log.info("control (no feedback): %s", result["control_no_feedback"]["report_set"])

    servers = Servers(work)
    try:
        servers.start()
        result["servers_seconds"] = round(time.monotonic() - started, 1)
        namespace = f"lc-{uuid.uuid4().hex[:8]}"
        k8s.CoreV1Api(servers.cluster.api).create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=namespace)))
        ops = Ops(servers.cluster, namespace)
        ops.policy(autoApplyThreshold=1.0, cooldownSeconds=0, maxCooldownSeconds=0)
        op = servers.operator(namespace)
        store = FeedbackStore(servers.ferret.uri)  # type: ignore[union-attr]
        archive = LogArchive(servers.s3, servers.logs_bucket, "errorevents")
        registry = ModelRegistry(servers.s3, servers.models_bucket)
        result["feedback_by"] = ops.me

        next_item, done, corrections, skipped = 0, 0, [], []
        by_id = {i.id: i for i in pool}
        for stage in stages:
            t_stage, first_new = time.monotonic(), len(corrections)
            while done < stage:
                if next_item >= len(pool):
                    raise SystemExit(f"the pool ran out at {done} corrections ({len(skipped)} skipped)")
                item = pool[next_item]
                got = correct_one(ops, item, f"lc-{next_item:04d}", args.timeout)
                next_item += 1
                if "skipped" in got:
                    skipped.append(got)
                    log.warning("%s: no Remediation (%s); next item", got["name"], got["skipped"])
                    continue
                done += 1
                corrections.append(got)
                log.info(
                    "[%d/%d] %s: %s (%s) -> %s %s",
                    done,
                    stage,
                    got["name"],
                    got["action"],
                    got["model_version"],
                    got["label"],
                    got.get("correct_action") or "",
                )
            feed_s = time.monotonic() - t_stage

            # A graceful stop flushes the operator's S3 archive batch; the restarted one serves on.
            t_flush = time.monotonic()
            op.stop(grace=30)
            names = {f"{namespace}/{c['name']}" for c in corrections + skipped}
            in_archive = names & archived_refs(archive)
            op.start(timeout=120)
            flush_s = time.monotonic() - t_flush

            t_train = time.monotonic()
            rep = retrain(
                store,
                archive,
                registry,
                work / f"retrain-{stage}",
                validation_path=validation,
                cfg=cfg,
                holdout_n=args.holdout_n,
                version=f"lc-{stage:03d}-{uuid.uuid4().hex[:6]}",
            )
            train_s = time.monotonic() - t_train
            swap: dict[str, Any] = {"expected": rep.version if rep.published else None}
            t_swap = time.monotonic()
            if rep.published:
                want = f"-> {rep.version}"
                try:
                    _wait(lambda w=want: w in op.log(), args.timeout, f"model swapped {want}", interval=1)
                    swap["swapped"] = True
                except TimeoutError as err:
                    swap.update(swapped=False, error=str(err))
            swap["seconds"] = round(time.monotonic() - t_swap, 1)
            swap["log_lines"] = [ln[-200:] for ln in op.log().splitlines() if "model swapped" in ln]

            challenger = Classifier.load(work / f"retrain-{stage}" / rep.version)  # type: ignore[operator]
            current = registry.current()
            serving = shipped
            if current is not None:
                serving = Classifier.load(registry.download(current[0], work / f"serving-{stage}"))
            stage_out = {
                "corrections": done,
                "labels": dict(Counter(c["label"] for c in corrections)),
                "new_corrections_labels": dict(Counter(c["label"] for c in corrections[first_new:])),
                "action_right_type_wrong_judged_correct": sum(
                    c["label"] == "correct" and c["type_wrong"] for c in corrections
                ),
                "skipped_so_far": len(skipped),
                "archive": {"errorevents_sent": len(names), "in_s3_archive": len(in_archive)},
                "gate": {
                    "decision": rep.decision,
                    "published": rep.published,
                    "version": rep.version,
                    "champion": rep.champion_version,
                    "champion_origin": rep.champion_origin,
                    "reasons": rep.reasons,
                    "counts": rep.counts,
                    "metrics": rep.metrics,
                },
                "hot_swap": swap,
                "challenger_report_set": score(challenger, report),
                "serving_model": serving.version,
                "serving_report_set": score(serving, report),
                # Not the report set: the pool items corrected so far (fitted on), to see the corrections land.
                "serving_on_corrected_items": score(serving, [by_id[c["item"]] for c in corrections]),
                "shipped_on_corrected_items": score(shipped, [by_id[c["item"]] for c in corrections]),
                "seconds": {
                    "feed": round(feed_s, 1),
                    "archive_flush_restart": round(flush_s, 1),
                    "retrain": round(train_s, 1),
                    "retrain_reported": rep.seconds,
                },
            }
            stage_out["serving_vs_before_on_report_set"] = flips(
                result["before"]["report_set"], stage_out["serving_report_set"]
            )
            result["stages"].append(stage_out)
            log.info(
                "stage %d: %s %s; challenger on report: %s",
                stage,
                rep.decision,
                rep.version,
                stage_out["challenger_report_set"],
            )
            _write(args.out, result)  # a partial result survives an interruption
        result["corrections"] = corrections
        result["skipped"] = skipped
        result["operator_model_versions_seen"] = dict(Counter(c["model_version"] for c in corrections))
    finally:
        servers.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            result["work_dir"] = str(work)
    result["seconds"] = round(time.monotonic() - started, 1)
    result["verdict"] = verdict(result)
    _write(args.out, result)
    return result


def verdict(result: dict[str, Any]) -> dict[str, Any]:
    """Whether the team's targets hold at 60 corrections (or the stage closest below it), on the report set."""
    stages = [s for s in result["stages"] if s["corrections"] <= 60]
    if not stages:
        return {"note": "no stage at or below 60 corrections"}
    s, before = stages[-1], result["before"]["report_set"]
    m = s["serving_report_set"]
    gain = round(m["action_accuracy"] - before["action_accuracy"], 4)
    prec = m["auto_apply_precision"]
    return {
        "stage": s["corrections"],
        "model": s["serving_model"],
        "action_accuracy_gain": gain,
        "action_accuracy_gain_ok": gain >= TARGETS["action_accuracy_gain"],
        "auto_apply_precision": prec,
        # None: nothing reaches the threshold, there is no precision to compare with the target.
        "auto_apply_precision_ok": None if prec is None else prec >= TARGETS["auto_apply_precision"],
        "coverage_not_lower": m["auto_apply_coverage_of_changing_fixes"]
        >= before["auto_apply_coverage_of_changing_fixes"],
        "ece": m["ece"],
        "ece_ok": m["ece"] <= TARGETS["ece"],
    }


def _write(path: str, result: dict[str, Any]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(result, indent=1, default=str) + "\n")


def table(result: dict[str, Any]) -> str:
    rows = [("before (shipped)", result["before"]["model"], "-", result["before"]["report_set"])]
    if "control_no_feedback" in result:
        rows.append(
            ("0 corrections (control, not served)", "lc-control", "-", result["control_no_feedback"]["report_set"])
        )
    for s in result["stages"]:
        g = s["gate"]
        rows.append((f"{s['corrections']} corrections", s["serving_model"], g["decision"], s["serving_report_set"]))
        if not g["published"]:
            rows.append((f"{s['corrections']}: challenger (kept out)", g["version"], "-", s["challenger_report_set"]))
    head = "| model | version | gate | action acc. | auto-apply precision (n) | coverage | ECE |"
    out = [head, "|---|---|---|---|---|---|---|"]
    # A stage whose challenger was kept serves the champion; the challenger's own figures follow in a row.
    for name, version, gate, m in rows:
        prec = "-" if m["auto_apply_precision"] is None else f"{m['auto_apply_precision']:.3f}"
        out.append(
            f"| {name} | {version} | {gate} | {m['action_accuracy']:.3f} | {prec} ({m['auto_apply_n']}) | "
            f"{m['auto_apply_coverage_of_changing_fixes']:.3f} | {m['ece']:.3f} |"
        )
    return "\n".join(out)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _flips(before: dict[str, Any], after: dict[str, Any]) -> str:
    if "right_ids" not in before or "right_ids" not in after:
        return "?"
    f = flips(before, after)
    return f"+{f['fixed']} / -{f['broken']}"


def _gate(gate: dict[str, Any], who: str) -> str:
    m = gate["metrics"][who].get("realworld") or {}
    if not m:
        return "-"
    return f"{m['macro_f1']:.4f} (auto {(m.get('auto_apply') or {}).get('n_auto')})"


def _met(ok: bool | None) -> str:
    return "undefined: nothing reaches the threshold" if ok is None else ("met" if ok else "NOT met")


def repetitions(others: list[dict[str, Any]]) -> list[str]:
    """Rows for further runs of the same bench (another order of the same correction pool)."""
    if not others:
        return []
    stages = [s["corrections"] for s in others[0]["stages"]]
    lines = [
        "",
        "The same bench with other orders of the correction pool (which pool items are corrected first); each"
        " cell: the serving model's action accuracy on the report set (gate decision, ECE, auto-applied n):",
        "",
        "| pool order | before | " + " | ".join(f"{n}" for n in stages) + " |",
        "|---|---|" + "---|" * len(stages),
    ]
    for r in others:
        cells = []
        for s in r["stages"]:
            m = s["serving_report_set"]
            cells.append(
                f"{m['action_accuracy']:.3f} ({s['gate']['decision']}, ECE {m['ece']:.3f}, auto {m['auto_apply_n']})"
            )
        order = r["data"]["split_rule"].split("ordered by ")[-1]
        lines.append(f"| {order} | {r['before']['report_set']['action_accuracy']:.3f} | " + " | ".join(cells) + " |")
    for r in others:
        order = r["data"]["split_rule"].split("ordered by ")[-1]
        for s in r["stages"]:
            if not s["gate"]["published"]:
                why = "; ".join(x for x in s["gate"]["reasons"] if "<" in x or "needs" in x)
                lines.append(
                    f"\n{order}, {s['corrections']} corrections: kept ({why}); the kept-out challenger's action"
                    f" accuracy on the report set: {s['challenger_report_set']['action_accuracy']:.3f}."
                )
    return lines


def markdown(result: dict[str, Any], others: list[dict[str, Any]] | None = None) -> str:
    """The short summary for the README: table, verdict, data, gate, durations, how to rerun."""
    d, v, b = result["data"], result["verdict"], result["before"]["report_set"]
    lines = [
        "## Learning curve (human corrections of real errors)",
        "",
        f"`{result['command']}` ({result['started_at']}, {result['seconds'] / 60:.1f} min on this 2-core machine;"
        f" training recipe: {'the shipped one (default TrainConfig)' if result['shipped_recipe'] else 'REDUCED'}).",
        "",
        f"Report set: {d['report_set']['n']} real errors ({d['report_set']['sources']} source threads) of the"
        f" real corpus's never-used test part; the other {d['correction_pool']['n']} items"
        f" ({d['correction_pool']['sources']} threads, none shared) are the correction pool. Corrections go"
        " through the running operator (ErrorEvent -> Remediation -> SRE annotations -> status -> MongoDB/S3"
        " archive -> retrain() -> S3 registry -> hot swap); each row is the model serving after that many"
        " cumulative corrections, scored offline on the report set (auto-apply threshold"
        f" {result['threshold']}; coverage = share of the report set's {b['changing_fixes']}"
        " workload-changing fixes auto-applied and right). The last column is not the report set: it is the"
        " pool items corrected so far, which the model was trained on (do the corrections land at all).",
        "",
        "| corrections | model | gate | action accuracy | fixed / broken vs shipped | auto-apply precision (n) |"
        " coverage | ECE | corrected items right (shipped -> this model) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    lines.append(
        f"| 0 (shipped) | {result['before']['model']} | - | {b['action_accuracy']:.3f} | - |"
        f" {_fmt(b['auto_apply_precision'])} ({b['auto_apply_n']}) |"
        f" {b['auto_apply_coverage_of_changing_fixes']:.3f} | {b['ece']:.3f} | - |"
    )
    if "control_no_feedback" in result:
        c = result["control_no_feedback"]["report_set"]
        lines.append(
            f"| 0 (retrained, no feedback; control, not served) | lc-control | - | {c['action_accuracy']:.3f} |"
            f" {_flips(b, c)} |"
            f" {_fmt(c['auto_apply_precision'])} ({c['auto_apply_n']}) |"
            f" {c['auto_apply_coverage_of_changing_fixes']:.3f} | {c['ece']:.3f} | - |"
        )
    for s in result["stages"]:
        m, g = s["serving_report_set"], s["gate"]
        swap = "" if not g["published"] else (" + swapped" if s["hot_swap"].get("swapped") else " (NOT swapped)")
        seen, shipped_seen = s["serving_on_corrected_items"], s["shipped_on_corrected_items"]
        lines.append(
            f"| {s['corrections']} | {s['serving_model']} | {g['decision']}{swap} | {m['action_accuracy']:.3f} |"
            f" {_flips(b, m)} | {_fmt(m['auto_apply_precision'])} ({m['auto_apply_n']}) |"
            f" {m['auto_apply_coverage_of_changing_fixes']:.3f} | {m['ece']:.3f} |"
            f" {shipped_seen['action_accuracy']:.3f} -> {seen['action_accuracy']:.3f} |"
        )
    if v.get("stage") is not None:
        lines += [
            "",
            f"Targets at {v['stage']} corrections (vs the shipped model):"
            f" action accuracy {v['action_accuracy_gain']:+.3f} (target >= +{TARGETS['action_accuracy_gain']}:"
            f" {'met' if v['action_accuracy_gain_ok'] else 'NOT met'});"
            f" auto-apply precision {_fmt(v['auto_apply_precision'])} (target >= {TARGETS['auto_apply_precision']}:"
            f" {_met(v['auto_apply_precision_ok'])});"
            f" coverage not lower: {'yes' if v['coverage_not_lower'] else 'NO'};"
            f" ECE {v['ece']:.3f} (target <= {TARGETS['ece']}: {'met' if v['ece_ok'] else 'NOT met'}).",
        ]
    lines += repetitions(others or [])
    lines += [
        "",
        'The gate (retrain\'s challenger vs champion) compares on a seed hold-out and, as its "realworld" set,'
        f" on the real corpus's calibration part ({d['calibration_part']} items), never on the pool or the"
        " report set. Decisions: "
        + "; ".join(f"{s['corrections']}: {s['gate']['decision']}" for s in result["stages"])
        + " (reasons in learning_curve.json). The gate's figures on the calibration part, challenger vs its"
        " champion (macro-F1, auto-applied n): "
        + "; ".join(
            f"{s['corrections']}: {_gate(s['gate'], 'challenger')} vs {_gate(s['gate'], 'champion')}"
            for s in result["stages"]
        )
        + ". Each challenger is compared with the model before it only, not with the shipped one.",
        "",
        "Durations (s): "
        + "; ".join(
            f"{s['corrections']}: feed {s['seconds']['feed']:.0f}, flush+restart"
            f" {s['seconds']['archive_flush_restart']:.0f}, retrain {s['seconds']['retrain']:.0f}"
            for s in result["stages"]
        )
        + ".",
        "",
        "How the bench differs from production: the operator's S3 archive batch is flushed by a graceful"
        " restart of the operator at each stage (its own timer flushes after 300 s); the archive is checked to"
        " hold every ErrorEvent, but retrain() took every text from the MongoDB feedback documents (the"
        " archive is its fallback for deleted ErrorEvents). retrain() is called in-process against the real"
        ' FeedbackStore/LogArchive/ModelRegistry, not through the CLI. The ErrorEvents say source "user"'
        ' (the model\'s source token), the report set is scored as load_real() gives it ("api"). Where the'
        " Remediation's action was not the model's (evidence rules, e.g. NoSaturation -> notify), the SRE"
        ' judged the Remediation\'s. An action that was right with a wrong error type is judged "correct".',
        "",
        "Rerun (starts its own control plane, FerretDB, moto and operator on 127.0.0.1, stops them after):",
        "",
        "```",
        "PYTHONPATH=operator:model:dev:. .venv/bin/python bench/learning/learning_curve.py \\",
        "    --stages 10,30,60,120 --out bench/results/learning_curve.json --md bench/results/learning_curve.md",
        "# other orders of the pool, then this summary with them",
        "for n in 1 2; do PYTHONPATH=operator:model:dev:. .venv/bin/python bench/learning/learning_curve.py \\",
        "    --order-seed $n --no-control --out bench/results/learning_curve_order$n.json; done",
        "PYTHONPATH=operator:model:dev:. .venv/bin/python bench/learning/learning_curve.py \\",
        "    --render bench/results/learning_curve.json --also bench/results/learning_curve_order1.json \\",
        "    --also bench/results/learning_curve_order2.json --md bench/results/learning_curve.md",
        "```",
        "",
        "Each run is deterministic (training is seeded): the first run was repeated and gave the same figures.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stages", default="10,30,60,120", help="cumulative correction counts")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "learning_curve.json"))
    parser.add_argument("--builtin-n", type=int, default=None, help="smaller seed corpus (development only)")
    parser.add_argument("--holdout-n", type=int, default=2700, help="the gate's seed hold-out size")
    parser.add_argument("--timeout", type=float, default=90.0, help="bound of every wait, seconds")
    parser.add_argument("--order-seed", type=int, default=0, help="another order of the correction pool")
    parser.add_argument("--no-control", action="store_true", help="skip the retrain-without-feedback control")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, artifacts)")
    parser.add_argument("--md", default=None, help="also write the markdown summary here")
    parser.add_argument("--render", default=None, help="only print (and --md write) the summary of this JSON")
    parser.add_argument("--also", action="append", default=[], help="with --render: results of further runs")
    args = parser.parse_args()
    if args.render:
        result = json.loads(Path(args.render).read_text())
        result["verdict"] = verdict(result)
        print(table(result))
        if args.md:
            Path(args.md).write_text(markdown(result, [json.loads(Path(p).read_text()) for p in args.also]))
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("remediator").setLevel(logging.INFO)
    result = run(args)
    if args.md:
        Path(args.md).write_text(markdown(result))
    print(table(result))
    print(json.dumps(result["verdict"], indent=1))


if __name__ == "__main__":
    main()
