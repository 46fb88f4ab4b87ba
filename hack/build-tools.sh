#!/usr/bin/env bash
# Builds the pinned official binaries the local control plane and the tests need, from the Go module
# proxy, into a cache outside git. Idempotent: a binary already built at its pinned version is reused.
#   usage: hack/build-tools.sh [TOOL ...]   (default: all control-plane and test tools)
set -euo pipefail

K8S_VERSION=v1.34.4          # kube-apiserver, kube-controller-manager, kube-scheduler, kubectl
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.7.0
METRICS_SERVER_VERSION=v0.8.0  # the metrics.k8s.io API of the local control plane
FERRETDB_VERSION=v1.24.2
HELM_VERSION=v3.19.5
KUBECONFORM_VERSION=v0.7.0
ACTIONLINT_VERSION=v1.7.12
HEY_VERSION=v0.1.4           # HTTP load generator for bench/api_latency.py (not part of the default set)
ALERTMANAGER_VERSION=v0.28.1  # the notification tests' real Alertmanager (API v2)
PROMETHEUS_VERSION=v0.316.0  # Prometheus 3.16 (its Go module numbers v3.x.y as v0.3xx.y): metrics and rule tests
OTELCOL_VERSION=v0.161.0     # OpenTelemetry Collector (core v0.161.0 goes with v1.67.0; contrib's file exporter): traces
OTELCOL_STABLE_VERSION=v1.67.0
K8SGPT_VERSION=v0.4.36       # bench/compare/ only (not part of the default set)

CACHE="${REMEDIATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-remediator}"
BIN="$CACHE/bin"
mkdir -p "$BIN"

GO_MIN=1.24
# Go is needed only when something must be built: a warm cache works without it.
need_go() {
  [ -z "${GO_CHECKED:-}" ] || return 0
  if ! command -v go >/dev/null 2>&1; then
    echo "error: building $1 needs the Go toolchain (>= $GO_MIN) and there is no \`go\` on PATH: install it" \
      "(Debian: apt-get install golang-go, or from your distribution) and rerun." >&2
    exit 2
  fi
  local v; v=$(go env GOVERSION 2>/dev/null || true); v=${v#go}
  if [ -z "$v" ] || ! printf '%s\n%s\n' "$GO_MIN" "$v" | sort -V -C; then
    echo "error: $(command -v go) is Go ${v:-of an unknown version}, too old to build $1: install Go >= $GO_MIN," \
      "put it first on PATH and rerun." >&2
    exit 2
  fi
  export GOFLAGS="${GOFLAGS:--buildvcs=false}" CGO_ENABLED=0
  GO_CHECKED=1
}
building() { need_go "$1"; echo ">> building $*"; }

# A cached binary counts only if it runs (a broken build must not be reused forever).
have() { [ -x "$BIN/$1-$2" ] && "$BIN/$1-$2" --help >/dev/null 2>&1; }
link() { ln -sf "$1-$2" "$BIN/$1"; }

# A throwaway module that requires $1@$2 and pins every module named in $3.. to a version: the way to
# build a main package from a module whose go.mod uses local replace directives (kubernetes, etcd).
wrapper_module() {
  local dir=$1 mod=$2 ver=$3; shift 3
  rm -rf "$dir"; mkdir -p "$dir"
  { echo "module kube-remediator.local/tools"; echo; echo "go 1.24"; echo
    echo "require $mod $ver"; for r in "$@"; do echo "replace $r"; done; } >"$dir/go.mod"
}

build_kubernetes() {
  local names=(kube-apiserver kube-controller-manager kube-scheduler kubectl) n missing=0
  for n in "${names[@]}"; do have "$n" "$K8S_VERSION" || missing=1; done
  [ $missing = 1 ] || { for n in "${names[@]}"; do link "$n" "$K8S_VERSION"; done; return; }
  building "kubernetes $K8S_VERSION (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl)"
  local staging_ver="v0.${K8S_VERSION#v1.}" dir="$CACHE/src/kubernetes" reps=() m
  go mod download "k8s.io/kubernetes@$K8S_VERSION"
  local gomod; gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  for m in $(sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' "$gomod"); do reps+=("$m => $m $staging_ver"); done
  wrapper_module "$dir" k8s.io/kubernetes "$K8S_VERSION" "${reps[@]}"
  (cd "$dir" && go get "k8s.io/kubernetes@$K8S_VERSION" && for n in "${names[@]}"; do
     go build -mod=mod -trimpath -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION" \
       -o "$BIN/$n-$K8S_VERSION" "k8s.io/kubernetes/cmd/$n"
   done)
  for n in "${names[@]}"; do link "$n" "$K8S_VERSION"; done
}

build_etcd() {
  have etcd "$ETCD_VERSION" || {
    building "etcd $ETCD_VERSION"
    local dir="$CACHE/src/etcd" v=$ETCD_VERSION
    wrapper_module "$dir" go.etcd.io/etcd/server/v3 "$v" \
      "go.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 $v" \
      "go.etcd.io/etcd/client/pkg/v3 => go.etcd.io/etcd/client/pkg/v3 $v" \
      "go.etcd.io/etcd/client/v3 => go.etcd.io/etcd/client/v3 $v" \
      "go.etcd.io/etcd/pkg/v3 => go.etcd.io/etcd/pkg/v3 $v"
    (cd "$dir" && go get "go.etcd.io/etcd/server/v3@$v" && go build -trimpath -ldflags "-s -w" -o "$BIN/etcd-$v" go.etcd.io/etcd/server/v3)
  }
  link etcd "$ETCD_VERSION"
}

# Tools whose modules build with a plain `go install`.
install_plain() {
  local name=$1 pkg=$2 ver=$3
  have "$name" "$ver" || {
    building "$name $ver"
    local tmp; tmp=$(mktemp -d)
    GOBIN="$tmp" go install -trimpath -ldflags "-s -w" "$pkg@$ver"
    mv "$tmp/$(basename "$pkg")" "$BIN/$name-$ver"; rm -rf "$tmp"
  }
  link "$name" "$ver"
}

# metrics-server, as a tool dependency of a throwaway module (`go get -tool`): the module's own go.mod
# then decides every dependency version, as it does for metrics-server's release builds.
build_metrics_server() {
  have metrics-server "$METRICS_SERVER_VERSION" || {
    building "metrics-server $METRICS_SERVER_VERSION"
    local dir="$CACHE/src/metrics-server" v=$METRICS_SERVER_VERSION pkg=sigs.k8s.io/metrics-server/cmd/metrics-server
    wrapper_module "$dir" sigs.k8s.io/metrics-server "$v"
    (cd "$dir" && go get -tool "$pkg@$v" && go build -trimpath \
       -ldflags "-s -w -X k8s.io/client-go/pkg/version.gitVersion=$v" \
       -o "$BIN/metrics-server-$v" "$pkg")
  }
  link metrics-server "$METRICS_SERVER_VERSION"
}

# FerretDB reads build/version/version.txt at start-up, which its module zip lacks: build from a copy.
build_ferretdb() {
  have ferretdb "$FERRETDB_VERSION" || {
    building "ferretdb $FERRETDB_VERSION"
    local dir="$CACHE/src/ferretdb" src
    src=$(go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
    rm -rf "$dir"; mkdir -p "$(dirname "$dir")"; cp -r "$src" "$dir"; chmod -R u+w "$dir"
    echo "$FERRETDB_VERSION" >"$dir/build/version/version.txt"
    (cd "$dir" && go build -trimpath -ldflags "-s -w" -o "$BIN/ferretdb-$FERRETDB_VERSION" ./cmd/ferretdb)
  }
  link ferretdb "$FERRETDB_VERSION"
}

# Prometheus and promtool from one module (no replace directives, so a plain `go install` of each main package).
# The web UI's assets are not embedded (no builtinassets tag): the tests use the HTTP API only.
build_prometheus() {
  local n
  for n in prometheus promtool; do install_plain "$n" "github.com/prometheus/prometheus/cmd/$n" "$PROMETHEUS_VERSION"; done
}

# The OpenTelemetry Collector with only what the trace tests need (OTLP receiver, contrib's file exporter),
# assembled by the collector's own builder (ocb) at the same pinned release, as its distributions are.
build_otelcol() {
  have otelcol "$OTELCOL_VERSION" || {
    building "otelcol $OTELCOL_VERSION (ocb: otlp receiver, file exporter)"
    local dir="$CACHE/src/otelcol" v=$OTELCOL_VERSION tmp
    tmp=$(mktemp -d)
    GOBIN="$tmp" go install -trimpath "go.opentelemetry.io/collector/cmd/builder@$v"
    rm -rf "$dir"; mkdir -p "$dir"
    cat >"$dir/builder.yaml" <<EOF
dist:
  name: otelcol
  module: kube-remediator.local/otelcol
  description: OpenTelemetry Collector for kube-remediator's trace tests
  version: ${v#v}
  output_path: $dir/dist
receivers:
  - gomod: go.opentelemetry.io/collector/receiver/otlpreceiver $v
exporters:
  - gomod: github.com/open-telemetry/opentelemetry-collector-contrib/exporter/fileexporter $v
providers:
  - gomod: go.opentelemetry.io/collector/confmap/provider/envprovider $OTELCOL_STABLE_VERSION
  - gomod: go.opentelemetry.io/collector/confmap/provider/fileprovider $OTELCOL_STABLE_VERSION
EOF
    "$tmp/builder" --config "$dir/builder.yaml"
    mv "$dir/dist/otelcol" "$BIN/otelcol-$v"; rm -rf "$tmp"
  }
  link otelcol "$OTELCOL_VERSION"
}

# k8sgpt's go.mod has replace directives, so `go install pkg@version` refuses it: build in a copy of
# its module directory, where its own go.mod decides every dependency version.
build_k8sgpt() {
  have k8sgpt "$K8SGPT_VERSION" || {
    building "k8sgpt $K8SGPT_VERSION"
    local dir="$CACHE/src/k8sgpt" src v=$K8SGPT_VERSION
    src=$(go mod download -json "github.com/k8sgpt-ai/k8sgpt@$v" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
    rm -rf "$dir"; mkdir -p "$(dirname "$dir")"; cp -r "$src" "$dir"; chmod -R u+w "$dir"
    (cd "$dir" && go build -trimpath -ldflags "-s -w -X main.version=$v" -o "$BIN/k8sgpt-$v" .)
  }
  link k8sgpt "$K8SGPT_VERSION"
}

build_one() {
  case $1 in
    kubernetes) build_kubernetes ;;
    etcd) build_etcd ;;
    kwok) install_plain kwok sigs.k8s.io/kwok/cmd/kwok "$KWOK_VERSION" ;;
    metrics-server) build_metrics_server ;;
    ferretdb) build_ferretdb ;;
    helm) install_plain helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION" ;;
    kubeconform) install_plain kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION" ;;
    actionlint) install_plain actionlint github.com/rhysd/actionlint/cmd/actionlint "$ACTIONLINT_VERSION" ;;
    hey) install_plain hey github.com/rakyll/hey "$HEY_VERSION" ;;
    alertmanager) install_plain alertmanager github.com/prometheus/alertmanager/cmd/alertmanager "$ALERTMANAGER_VERSION" ;;
    prometheus) build_prometheus ;;
    otelcol) build_otelcol ;;
    k8sgpt) build_k8sgpt ;;
    *) echo "unknown tool: $1" >&2; exit 2 ;;
  esac
}

tools=("$@"); [ ${#tools[@]} -gt 0 ] || tools=(etcd kubernetes kwok metrics-server ferretdb)
for t in "${tools[@]}"; do build_one "$t"; done
echo "$BIN"
