"""Pins the seed corpus byte for byte, so refactoring the templates cannot silently change training data."""

from __future__ import annotations

import hashlib
import json

from remediator_model.corpus import generate
from remediator_model.corpus.generator import template_names

# sha256 over json.dumps(record, sort_keys=True) + "\n" of every example of generate(200, 0).
SEED_CORPUS_SHA256 = "481407dc710748a097ff7689648938cbb6a6d41b30e1600a61cb0bc14258019f"

# The generator draws rng.choice(TEMPLATES[type]), so the order within a type is part of the corpus.
TEMPLATE_ORDER = {
    "oom": ["oom_killed", "oom_java", "oom_node", "oom_go_python_other", "oom_event", "oom_alloc"],
    "config_issue": [
        "cfg_createcontainerconfig",
        "cfg_mount",
        "cfg_env_python",
        "cfg_env_other",
        "cfg_bad_connection_string",
        "cfg_missing_file",
        "cfg_bad_credentials",
        "cfg_framework",
    ],
    "dependency_error": [
        "dep_db",
        "dep_cache_queue",
        "dep_dns",
        "dep_http_upstream",
        "dep_external_api",
        "dep_db_server_side",
        "dep_more",
        "dep_broker_unavailable",
    ],
    "timeout": ["to_http", "to_gateway", "to_probe", "to_alert_slow", "to_more"],
    "image_pull": ["img_not_found", "img_auth", "img_network", "img_arch", "img_more"],
    "app_crash": [
        "crash_python",
        "crash_missing_module",
        "crash_java",
        "crash_go_node_dotnet",
        "crash_signal",
        "crash_exit_only",
        "crash_more",
    ],
    "probe_failure": ["probe_refused", "probe_kubelet_log", "probe_app_unhealthy", "probe_more"],
    "permission_denied": ["perm_rbac", "perm_cloud", "perm_fs", "perm_admission", "perm_more"],
    "resource_exhaustion": [
        "res_unschedulable",
        "res_evicted",
        "res_disk_full",
        "res_fds_pids_quota",
        "res_quota_pvc",
        "res_more",
    ],
}


def test_seed_corpus_digest_is_pinned() -> None:
    h = hashlib.sha256()
    for e in generate(200, 0):
        h.update(json.dumps(e.to_record(), sort_keys=True).encode() + b"\n")
    assert h.hexdigest() == SEED_CORPUS_SHA256


def test_template_registration_order_is_pinned() -> None:
    assert template_names() == TEMPLATE_ORDER
