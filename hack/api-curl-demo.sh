#!/usr/bin/env bash
# The seed flow of docs/api.md with curl, end to end: a private dev cluster (1 node), the CRDs and admission
# policies, the operator (propose only) and `remediator api`, a ServiceAccount token; then POST /errors, /predict,
# /feedback, GET /remediations, an approval refused (403) and no token (401). Everything on 127.0.0.1; the
# cluster and processes are stopped and removed at the end.  usage: bash hack/api-curl-demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/operator:$PWD/model:$PWD/dev:$PWD${PYTHONPATH:+:$PYTHONPATH}"
PY="${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}"
DIR=$(mktemp -d /tmp/devc-api.XXXX)
KC=$($PY -m remediator_dev.cli cluster up --dir "$DIR" --nodes 1 | tail -1)
echo "kubeconfig $KC"
K="$HOME/.cache/kube-remediator/bin/kubectl --kubeconfig=$KC"
$K apply --server-side -f crds/ >/dev/null; $K wait --for=condition=Established -f crds/ >/dev/null
$K apply --server-side -f manifests/admission/ >/dev/null
$K create namespace shop >/dev/null
$K create deployment cart -n shop --image=shop/cart:1.0 >/dev/null
cat <<Y | $K apply -f - >/dev/null
apiVersion: remediator.dev/v1alpha1
kind: RemediationPolicy
metadata: {name: shop, namespace: shop}
spec: {autoApplyThreshold: 1.0}
Y
$K create serviceaccount sre -n shop >/dev/null
$K create rolebinding sre-requests -n shop --clusterrole=kube-remediator-requester --serviceaccount=shop:sre >/dev/null
TOKEN=$($K create token sre -n shop)
OPPORT=$($PY -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])")
PORT=$($PY -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])")
KUBECONFIG=$KC REMEDIATOR_NAMESPACES=shop REMEDIATOR_POLICY_NAMESPACE=shop REMEDIATOR_WATCH_CLUSTER=false REMEDIATOR_METRICS_PORT=$OPPORT REMEDIATOR_PEERING=e2e $PY -m remediator.cli run >"$DIR/operator.log" 2>&1 & OP=$!
$PY -m remediator.cli api --kubeconfig "$KC" --port $PORT >"$DIR/api.log" 2>&1 & AP=$!
trap 'kill $OP $AP 2>/dev/null; wait $OP $AP 2>/dev/null; $PY -m remediator_dev.cli cluster down --dir "$DIR" >/dev/null; rm -rf "$DIR"' EXIT
API=http://127.0.0.1:$PORT
for i in $(seq 60); do curl -fsS $API/readyz >/dev/null 2>&1 && curl -fsS 127.0.0.1:$OPPORT/healthz >/dev/null 2>&1 && break; sleep 1; done
sleep 3
echo "== POST /errors"
curl -sS -i -X POST "$API/errors?wait=8" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{
  "namespace": "shop",
  "target": {"kind": "Deployment", "name": "cart"},
  "message": "java.lang.OutOfMemoryError: Java heap space",
  "stackTrace": "at com.shop.Cart.load(Cart.java:42)",
  "reason": "OOMKilled", "exitCode": 137,
  "context": {"team": "shop", "release": "2026.12.1"},
  "timestamp": "2026-12-02T01:00:00Z"
}' | tee "$DIR/errors.out"; echo
REM=$(tail -1 "$DIR/errors.out" | $PY -c "import sys,json;print(json.load(sys.stdin).get('remediation',''))")
echo "== POST /predict"
curl -sS -X POST $API/predict -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"namespace": "shop", "message": "dial tcp 10.0.0.7:5432: connect: connection refused"}'; echo
curl -sS -X POST $API/predict -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"namespace": "shop", "events": [{"reason": "ImagePullBackOff"}, {"reason": "OOMKilled", "exitCode": 137}]}' | $PY -c "import sys,json;print([(p['errorType'],p['action'],p['confidence']) for p in json.load(sys.stdin)['predictions']])"
echo "== GET /remediations"
curl -sS -H "Authorization: Bearer $TOKEN" "$API/remediations?namespace=shop"; echo
echo "== POST /feedback ($REM)"
curl -sS -i -X POST $API/feedback -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d "{
  \"namespace\": \"shop\", \"name\": \"$REM\",
  \"verdict\": \"incorrect\", \"correctAction\": \"rollback\", \"correctType\": \"config_issue\",
  \"comment\": \"the heap was fine; the new release broke the config\"}"; echo
echo "== approve as the requester (403)"
curl -sS -o /dev/null -w '%{http_code}\n' -X POST -H "Authorization: Bearer $TOKEN" $API/remediations/shop/$REM/approve
echo "== no token"
curl -sS -o /dev/null -w '%{http_code}\n' -X POST $API/predict -d '{}'
