"""Operator settings: flags override environment variables, which override safe defaults."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from remediator.domain.shard import Shard, ShardError, validate

ENV_PREFIX = "REMEDIATOR_"


class Settings(BaseModel):
    """What `remediator run` is told; the per-namespace policy lives in RemediationPolicy objects."""

    threshold: float = Field(0.9, ge=0.0, le=1.0, description="auto-apply threshold of the cluster default policy")
    dry_run: bool = Field(False, description="propose only; never change a workload")
    namespaces: list[str] = Field(default_factory=list, description="namespaces to serve; empty = all")
    mongodb_uri: str | None = Field(None, description="MongoDB URI for feedback; ssm:///path resolves from SSM")
    model_path: Path | None = Field(None, description="classifier artifact directory; default = the shipped one")
    metrics_port: int = Field(8080, ge=0, le=65535, description="Prometheus /metrics and /healthz port; 0 = off")
    dedup_window_seconds: int = Field(1800, ge=10, description="same failure of the same workload: one ErrorEvent")
    log_lines: int = Field(50, ge=0, le=1000, description="log lines fetched from a crashed container")
    log_bytes: int = Field(8192, ge=0, le=16384, description="bytes of log kept from a crashed container")
    watch_cluster: bool = Field(True, description="turn Pod failures and Warning Events into ErrorEvents")
    policy_namespace: str = Field("kube-remediator", description="where the cluster-wide default policy lives")
    peering: str = Field("kube-remediator", description="kopf peering name: replicas act one at a time")
    peering_lifetime_seconds: int = Field(
        10, ge=5, le=300, description="how long a silent replica counts as alive; bounds fail-over time"
    )
    # -- sharding (docs/sharding.md): shard i of n serves the namespaces whose stable hash is i --
    shard_index: int = Field(0, description="this replica's shard, 0..shard-count-1")
    shard_count: int = Field(1, description="how many shards split the namespaces; 1 = no sharding")
    feedback_retry_seconds: float = Field(15.0, gt=0, le=3600, description="how often pending feedback is retried")
    retention_days: int = Field(30, ge=1, le=3650, description="days MongoDB keeps raw ErrorEvent texts")
    logs_bucket: str | None = Field(None, description="S3 bucket for the ErrorEvent text archive; unset = off")
    logs_prefix: str = Field("errorevents", description="key prefix in the logs bucket")
    models_bucket: str | None = Field(None, description="S3 bucket of the model registry; unset = no hot swap")
    models_prefix: str = Field("models", description="key prefix in the models bucket")
    model_poll_seconds: int = Field(60, ge=0, description="how often to check the registry pointer; 0 = never")
    s3_endpoint_url: str | None = Field(None, description="S3-compatible endpoint (tests, MinIO); unset = AWS")
    aws_region: str | None = Field(None, description="AWS region for S3 and SSM; unset = the SDK's default")
    alertmanager_urls: list[str] = Field(
        default_factory=list,
        max_length=8,
        description="Alertmanager base URLs (peers of one cluster) for alerts, comma-separated; ssm:///path allowed",
    )
    webhook_urls: list[str] = Field(
        default_factory=list,
        max_length=8,
        description="webhook URLs (Slack-compatible JSON), comma-separated, each a sink; ssm:///path allowed",
    )
    notify_timeout_seconds: float = Field(5.0, gt=0, le=60, description="timeout of one notification request")
    notify_resend_seconds: float = Field(
        60.0, ge=1, le=3600, description="how often a firing alert is re-posted to Alertmanager (endsAt is 3x ahead)"
    )
    notify_retry_max_seconds: float = Field(
        300.0, ge=1, le=3600, description="longest wait between retries of a sink that is down"
    )
    notify_hold_seconds: int = Field(
        86400, ge=10, le=30 * 86400, description="a Failed or notify alert fires this long unless a person judges it"
    )
    notify_poll_seconds: float = Field(2.0, gt=0, le=60, description="how often the sender looks for notifications")
    runbook_url: str = Field(
        "", max_length=512, description="runbook base URL for alerts (#<alertname> appended); empty = none"
    )
    # -- audit stream to CloudWatch Logs (docs/audit.md) --
    audit_log_group: str | None = Field(
        None,
        max_length=512,
        pattern=r"^[.\-_/#A-Za-z0-9]+$",
        description="CloudWatch Logs group of the audit stream (Terraform's operator group); unset = off",
    )
    audit_log_stream: str | None = Field(
        None, max_length=512, pattern=r"^[^:*]+$", description="audit log stream name; unset = the Pod's name"
    )
    audit_region: str | None = Field(None, description="region of the audit log group; unset = aws_region")
    audit_buffer_records: int = Field(
        10000, ge=100, le=1_000_000, description="audit records kept in memory while CloudWatch is unreachable"
    )
    audit_flush_seconds: float = Field(2.0, gt=0, le=60, description="longest an audit record waits to be batched")
    audit_shutdown_seconds: float = Field(
        5.0, ge=0, le=60, description="how long shutdown keeps sending buffered audit records"
    )

    # -- incident traces over OTLP/HTTP (docs/tracing.md); endpoint, sampler etc. are the standard OTEL_* vars --
    tracing_enabled: bool = Field(False, description="export one trace per incident over OTLP/HTTP (OTEL_* vars)")
    tracing_queue_spans: int = Field(
        2048, ge=16, le=100_000, description="spans queued for export at most; more are dropped and counted"
    )
    tracing_export_timeout_seconds: float = Field(
        2.0, gt=0, le=30, description="timeout of one OTLP export (OTEL_EXPORTER_OTLP_TIMEOUT overrides it)"
    )
    tracing_shutdown_seconds: float = Field(
        3.0, ge=0, le=30, description="how long shutdown keeps exporting queued spans"
    )

    @model_validator(mode="after")
    def _shard(self) -> Settings:
        try:
            validate(self.shard_index, self.shard_count)
        except ShardError as err:
            raise ValueError(
                f"{err}; set {ENV_PREFIX}SHARD_INDEX and {ENV_PREFIX}SHARD_COUNT (--shard-index, --shard-count)"
            ) from None
        return self

    @property
    def shard(self) -> Shard:
        return Shard(self.shard_index, self.shard_count)

    @property
    def shard_peering(self) -> str:
        """The peering this replica joins: `peering`, or its shard's own when sharded."""
        return self.shard.peering(self.peering)

    @field_validator("namespaces", "alertmanager_urls", "webhook_urls", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [n.strip() for n in value.split(",") if n.strip()]
        return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    for name, field in Settings.model_fields.items():
        flag = "--" + name.replace("_", "-")
        env = ENV_PREFIX + name.upper()
        help_text = f"{field.description} (env {env})"
        if field.annotation is bool:
            parser.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        else:
            parser.add_argument(flag, dest=name, default=None, help=help_text)


def explain(err: ValidationError) -> str:
    """A ValidationError as one line: each bad setting named by its environment variable, with the reason."""
    parts = []
    for e in err.errors():
        msg = str(e["msg"]).removeprefix("Value error, ")
        names = [str(loc) for loc in e["loc"] if isinstance(loc, str)]
        parts.append(f"{ENV_PREFIX}{names[0].upper()}: {msg}" if names else msg)
    return "; ".join(parts)


def load(args: argparse.Namespace | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Merge defaults, REMEDIATOR_* environment variables and flags; invalid values raise a ValidationError."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for name in Settings.model_fields:
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is not None and raw != "":
            values[name] = raw
        flag = getattr(args, name, None) if args is not None else None
        if flag is not None:
            values[name] = flag
    return Settings.model_validate(values)
