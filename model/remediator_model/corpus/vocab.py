"""Random names, numbers and log noise shared by the templates."""

from __future__ import annotations

import random
import string

SERVICES = [
    "checkout",
    "payments",
    "orders",
    "cart",
    "auth",
    "billing",
    "inventory",
    "search",
    "catalog",
    "gateway",
    "notifications",
    "ledger",
    "profile",
    "shipping",
    "recommendation",
    "frontend",
    "api",
    "worker",
    "scheduler",
    "ingest",
    "reporting",
    "analytics",
    "mailer",
    "webhook",
    "pricing",
    "accounts",
    "users",
    "media",
    "export",
    "session",
    "tracker",
    "importer",
    "sync",
    "indexer",
    "crawler",
    "etl",
    "metrics-agent",
    "controller",
    "backend",
]
NAMESPACES = [
    "default",
    "prod",
    "production",
    "staging",
    "payments",
    "platform",
    "apps",
    "team-a",
    "web",
    "data",
    "monitoring",
    "kube-system",
    "ingress-nginx",
    "ml",
    "backend",
    "dev",
    "qa",
]
REGISTRIES = [
    "docker.io",
    "ghcr.io",
    "quay.io",
    "registry.gitlab.com",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com",
    "gcr.io/my-project",
    "europe-docker.pkg.dev/acme/images",
    "myregistry.azurecr.io",
    "harbor.internal",
    "registry.example.com:5000",
    "nexus.corp.local:8443",
    "localhost:5000",
]
ORGS = ["acme", "library", "myorg", "platform", "team", "company", "devops", "internal", "apps", "bitnami"]
HOSTS_DB = [
    "postgres",
    "db",
    "postgresql",
    "pg-primary",
    "mysql",
    "mariadb",
    "orders-db",
    "users-db.prod.svc",
    "main-db.cluster-abc123.eu-west-1.rds.amazonaws.com",
    "10.0.3.17",
    "127.0.0.1",
    "localhost",
    "pg-rw.database.svc.cluster.local",
    "mysql-0.mysql",
    "cockroachdb-public",
]
HOSTS_CACHE = [
    "redis",
    "redis-master",
    "redis.cache.svc.cluster.local",
    "memcached",
    "redis-sentinel",
    "cache-01.internal",
    "elasticache.abc123.use1.cache.amazonaws.com",
    "valkey",
    "127.0.0.1",
]
HOSTS_QUEUE = [
    "kafka",
    "kafka-0.kafka-headless",
    "broker",
    "rabbitmq",
    "rabbit.messaging.svc",
    "nats",
    "activemq",
    "b-1.msk-cluster.kafka.us-east-1.amazonaws.com",
    "pulsar-broker",
    "sqs.us-east-1.amazonaws.com",
]
HOSTS_SVC = [
    "user-service",
    "auth-api",
    "inventory-svc",
    "payments.internal",
    "api.stripe.com",
    "api.github.com",
    "billing-service.billing.svc.cluster.local",
    "identity",
    "geo-api",
    "partner-api.example.com",
    "vault.vault.svc",
    "keycloak",
    "config-server",
    "search-api",
    "elasticsearch",
    "opensearch-cluster-master",
]
ENV_VARS = [
    "DATABASE_URL",
    "REDIS_URL",
    "API_KEY",
    "SECRET_KEY",
    "JWT_SECRET",
    "DB_PASSWORD",
    "AWS_REGION",
    "STRIPE_API_KEY",
    "KAFKA_BROKERS",
    "SENTRY_DSN",
    "PORT",
    "LOG_LEVEL",
    "MONGO_URI",
    "S3_BUCKET",
    "SMTP_HOST",
    "APP_ENV",
    "OAUTH_CLIENT_ID",
    "FEATURE_FLAGS",
    "SERVICE_URL",
    "POSTGRES_HOST",
    "NODE_ENV",
    "SPRING_DATASOURCE_URL",
    "RAILS_MASTER_KEY",
    "APP_KEY",
    "CONFIG_PATH",
    "TZ",
    "QUEUE_NAME",
]
CONFIG_KEYS = [
    "database.url",
    "spring.datasource.password",
    "app.api-key",
    "server.port",
    "cache.ttl",
    "kafka.bootstrap-servers",
    "auth.jwt.secret",
    "feature.enabled",
    "storage.bucket",
    "mail.host",
    "redis.host",
    "upstream.url",
    "logging.level",
    "oauth.client-secret",
    "payment.provider.key",
]
PATHS = [
    "/app",
    "/srv/app",
    "/usr/src/app",
    "/opt/service",
    "/home/app",
    "/workspace",
    "/var/www/html",
    "/code",
    "/opt/app",
    "/data",
    "/usr/local/app",
    "/go/src/app",
    "/deployments",
    "/app/bin",
]
WRITE_PATHS = [
    "/data",
    "/var/lib/app",
    "/tmp/cache",
    "/app/logs",
    "/var/log/app",
    "/uploads",
    "/var/cache/nginx",
    "/etc/app",
    "/app/storage",
    "/home/app/.cache",
    "/var/run/app.pid",
    "/srv/media",
    "/opt/app/tmp",
]
PY_MODULES = [
    "requests",
    "numpy",
    "pandas",
    "flask",
    "django",
    "psycopg2",
    "yaml",
    "redis",
    "boto3",
    "uvicorn",
    "fastapi",
    "celery",
    "sqlalchemy",
    "pydantic",
    "jwt",
    "dotenv",
    "grpc",
    "kafka",
    "app.settings",
    "src.main",
    "myservice.handlers",
    "google.protobuf",
    "cryptography",
    "click",
    "gunicorn",
]
JAVA_CLASSES = [
    "com.acme.orders.OrderService",
    "com.example.demo.DemoApplication",
    "org.acme.billing.InvoiceJob",
    "io.company.api.UserController",
    "com.shop.cart.CartRepository",
    "net.corp.sync.SyncWorker",
]
NODE_NAMES = [
    "ip-10-0-1-23.ec2.internal",
    "gke-prod-pool-1-a1b2c3d4-xk9z",
    "aks-nodepool1-12345678-vmss000002",
    "worker-3",
    "node-7",
    "k8s-worker-02",
    "minikube",
    "kind-worker",
    "ip-192-168-45-10.eu-west-1.compute.internal",
]
IMAGES = [
    "api",
    "web",
    "worker",
    "frontend",
    "backend",
    "orders",
    "payments",
    "nginx",
    "app",
    "service",
    "job",
    "migrator",
    "consumer",
    "cron",
    "gateway",
    "admin",
]
LEVELS = ["INFO", "DEBUG", "WARN", "info", "debug", "I", "Information", "NOTICE"]

NOISE = [
    "Started {svc} in {f} seconds (JVM running for {f2})",
    "Listening on 0.0.0.0:{port}",
    "GET /healthz 200 {ms}ms",
    "GET /api/v1/{svc}/{n} 200 {ms}ms",
    "POST /api/{svc} 201 {ms}ms",
    "Connected to metrics endpoint",
    "Loaded {n} routes",
    "cache warmup complete ({n} keys)",
    "Worker {n} booted",
    "Booting worker with pid: {pid}",
    "Using config profile: {env}",
    "Received SIGTERM, shutting down gracefully",
    "Application startup complete.",
    "Uvicorn running on http://0.0.0.0:{port} (Press CTRL+C to quit)",
    "Tomcat started on port(s): {port} (http) with context path ''",
    "HikariPool-1 - Starting...",
    "Initializing Spring embedded WebApplicationContext",
    "Server listening at http://0.0.0.0:{port}",
    "Compiled successfully",
    "processed batch {n} in {ms}ms",
    "flushing {n} events to sink",
    "scheduled job {svc}-sync started",
    "request_id={hex} method=GET path=/ status=200 duration={ms}ms",
    "Puma starting in single mode...",
    "* Listening on tcp://0.0.0.0:{port}",
    "[notice] 1#1: start worker processes",
    "AH00558: apache2: Could not reliably determine the server's fully qualified domain name",
    "Now listening on: http://[::]:{port}",
    "Hosting environment: Production",
    "GC pause (G1 Evacuation Pause) (young) {n}M->{n2}M({n3}M) {ms}ms",
    "Retrying in {n} seconds...",
    "Migrations are up to date",
    "otel exporter initialized",
    "leader election acquired lease {ns}/{svc}-lock",
    "Reconciling {svc} in namespace {ns}",
    "consumer group rebalanced, assigned partitions [{n}]",
    "Metrics server started on :{port}",
    "Feature flags refreshed ({n} flags)",
]


def rint(rng: random.Random, lo: int, hi: int) -> int:
    return rng.randint(lo, hi)


def hexs(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


def uuid(rng: random.Random) -> str:
    return f"{hexs(rng, 8)}-{hexs(rng, 4)}-{hexs(rng, 4)}-{hexs(rng, 4)}-{hexs(rng, 12)}"


def pod_name(rng: random.Random, svc: str) -> str:
    suffix = "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(5))
    return rng.choice(
        [f"{svc}-{hexs(rng, rng.choice([9, 10]))}-{suffix}", f"{svc}-{rng.randint(0, 4)}", f"{svc}-{suffix}"]
    )


def ip(rng: random.Random) -> str:
    return rng.choice(
        [
            f"10.{rint(rng, 0, 255)}.{rint(rng, 0, 255)}.{rint(rng, 1, 254)}",
            f"172.{rint(rng, 16, 31)}.{rint(rng, 0, 255)}.{rint(rng, 1, 254)}",
            f"192.168.{rint(rng, 0, 255)}.{rint(rng, 1, 254)}",
        ]
    )


def image_ref(rng: random.Random) -> str:
    reg = rng.choice([*REGISTRIES, "", "", ""])
    name = f"{rng.choice(ORGS)}/{rng.choice(IMAGES)}" if rng.random() < 0.8 else rng.choice(IMAGES)
    tag = rng.choice(
        [
            f"v{rint(rng, 0, 5)}.{rint(rng, 0, 30)}.{rint(rng, 0, 9)}",
            "latest",
            hexs(rng, 7),
            f"{rint(rng, 2020, 2026)}.{rint(rng, 1, 12)}.{rint(rng, 1, 28)}",
            "main",
            f"sha-{hexs(rng, 7)}",
            f"release-{rint(rng, 1, 99)}",
        ]
    )
    return f"{reg}/{name}:{tag}" if reg else f"{name}:{tag}"


def timestamp(rng: random.Random) -> str:
    y, mo, d = rint(rng, 2019, 2026), rint(rng, 1, 12), rint(rng, 1, 28)
    h, mi, s, ms = rint(rng, 0, 23), rint(rng, 0, 59), rint(rng, 0, 59), rint(rng, 0, 999)
    return rng.choice(
        [
            f"{y}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}.{ms:03d}Z",
            f"{y}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d},{ms:03d}",
            f"{y}/{mo:02d}/{d:02d} {h:02d}:{mi:02d}:{s:02d}",
            f"[{y}-{mo:02d}-{d:02d} {h:02d}:{mi:02d}:{s:02d}]",
            f"{h:02d}:{mi:02d}:{s:02d}.{ms:03d}",
            f"I{mo:02d}{d:02d} {h:02d}:{mi:02d}:{s:02d}.{ms:03d}{rint(rng, 100, 999)}",
            "",
        ]
    )


def noise_line(rng: random.Random, svc: str) -> str:
    tpl = rng.choice(NOISE)
    line = tpl.format(
        svc=svc,
        f=round(rng.uniform(1, 40), 3),
        f2=round(rng.uniform(2, 60), 3),
        port=rng.choice([80, 8080, 3000, 5000, 8000, 9090, 8443, 4000]),
        ms=rint(rng, 1, 900),
        n=rint(rng, 1, 5000),
        n2=rint(rng, 1, 500),
        n3=rint(rng, 500, 4096),
        pid=rint(rng, 7, 9999),
        env=rng.choice(["prod", "production", "staging", "default"]),
        hex=hexs(rng, 16),
        ns=rng.choice(NAMESPACES),
    )
    ts = timestamp(rng)
    lvl = rng.choice(LEVELS)
    fmt = rng.random()
    if fmt < 0.3:
        return f"{ts} {lvl} {line}".strip()
    if fmt < 0.45:
        return f'{{"level":"{lvl.lower()}","ts":"{ts}","msg":"{line}"}}'
    if fmt < 0.6:
        return (
            f"{ts} [{rng.choice(['main', 'http-nio-8080-exec-1', 'worker-1', 'pool-2-thread-3'])}] {lvl} {line}".strip()
        )
    return line
