# Sourced by tests/chart/run once the test cluster is up (KUBECONFIG, kubectl and helm on
# PATH). Uses run/ok/bad/skip, $HELM, $CHART, $VALS, $TMP, $BUILD, $OPERATOR, $CHECK,
# $K8S_RUN_DIR from it.
#
# What runs where: the API server, controller-manager and the harness are real; the
# harness is the kubelet (tests/k8s/cmd/harness): it runs the broker pods, the operator
# Deployment's pod (under its ServiceAccount, with a TokenRequest token, so the chart's
# RBAC is all it has) and the helm-test pods: as podman containers of the image when
# MILLRACE_K8S_IMAGE is set (tests/chart/run sets it), else from the binaries of $BUILD.
# Nothing here runs the operator or the test script by hand.

# port_forward TARGET PORT: starts kubectl port-forward on a free local port, prints it.
port_forward() {
  local log="$TMP/pf.$RANDOM.log"
  kubectl -n "$1" port-forward "$2" ":$3" >"$log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 50); do
    local p
    p="$(sed -n 's/^Forwarding from 127.0.0.1:\([0-9]*\) .*/\1/p' "$log" | head -1)"
    [[ -n $p ]] && { echo "$p"; return 0; }
    sleep 0.2
  done
  sed 's/^/     /' "$log" >&2
  return 1
}

# audit_by USER: the audit log's entries made by USER (a ServiceAccount: every request,
# reads too; see tests/k8s/cluster's audit policy), one JSON line each.
audit_by() {
  /usr/bin/python3 -c '
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("user", {}).get("username") == sys.argv[2]:
        print(json.dumps({"verb": e["verb"], "uri": e["requestURI"], "code": e.get("responseStatus", {}).get("code")}))
' "$K8S_RUN_DIR/audit.log" "$1"
}

cluster_steps() {
  local ns=streaming
  run "apply the chart's CRDs (server-side)" kubectl apply --server-side -f "$CHART/crds/"
  run "CRDs established" kubectl wait --for=condition=Established --timeout=60s -f "$CHART/crds/"
  local promcrds
  if promcrds="$("$ROOT/tests/k8s/prometheus-crds" 2>"$TMP/promcrds.err")"; then
    local f=()
    for kind in servicemonitors podmonitors prometheusrules; do f+=(-f "$promcrds/monitoring.coreos.com_$kind.yaml"); done
    run "apply the Prometheus Operator CRDs (ServiceMonitor, PodMonitor, PrometheusRule; Go module proxy)" \
      kubectl apply --server-side "${f[@]}"
    run "Prometheus Operator CRDs established" kubectl wait --for=condition=Established --timeout=60s "${f[@]}"
  else
    bad "fetch the Prometheus Operator CRDs"; sed 's/^/     /' "$TMP/promcrds.err"
  fi
  # Namespaces the rendered objects name (dry-run does not create a Namespace it applies).
  for n in "$ns" monitoring millrace-system; do kubectl create namespace "$n" >/dev/null 2>&1; done
  for name in defaults minimal production monitoring; do
    [[ -f $TMP/$name.yaml ]] || continue
    run "server-side dry-run apply: chart rendered with $name values (every kind, monitoring ones too)" \
      kubectl apply --server-side --dry-run=server -f "$TMP/$name.yaml"
  done
  if [[ -f $TMP/monitoring.yaml ]]; then
    run "the monitoring values render a ServiceMonitor, a PodMonitor and a PrometheusRule" \
      bash -c "grep -q '^kind: ServiceMonitor' '$TMP/monitoring.yaml' && grep -q '^kind: PodMonitor' '$TMP/monitoring.yaml' \
        && grep -q '^kind: PrometheusRule' '$TMP/monitoring.yaml'"
  fi
  run "server-side dry-run apply: manifests/install.yaml" \
    kubectl apply --server-side --dry-run=server -f "$ROOT/manifests/install.yaml"
  run "server-side dry-run apply: manifests/samples/" \
    kubectl apply --server-side --dry-run=server -n "$ns" -f "$ROOT/manifests/samples/"
  run "server-side dry-run apply: alerts/prometheusrule.yaml" \
    kubectl apply --server-side --dry-run=server -f "$ROOT/alerts/prometheusrule.yaml"
  # The README run below starts from a cluster without them, as a user's would.
  kubectl delete namespace "$ns" monitoring millrace-system --wait --timeout=60s >/dev/null 2>&1

  local bin
  for bin in "$OPERATOR" "$BUILD/broker/millrace-broker" "$BUILD/client/millrace"; do
    if [[ ! -x $bin ]]; then
      skip "helm install to Ready and helm test: $bin not built"
      return
    fi
  done
  install_steps
  readme_steps
}

install_steps() {
  local rel=itest ns=itest cluster=itest sa=itest-millrace-operator
  kubectl create namespace "$ns" >/dev/null 2>&1
  # --wait: the operator Deployment must become Available, i.e. its pod (run by the harness
  # under the chart's ServiceAccount) passes its readiness probe.
  run "helm install --wait: the operator Deployment runs in-cluster and becomes Available" \
    "$HELM" install "$rel" "$CHART" -n "$ns" --skip-crds --wait --timeout 180s \
      --set cluster.enabled=true --set cluster.name=$cluster --set cluster.brokers=1 \
      --set cluster.storage.size=1Gi --set tests.timeoutSeconds=30 \
      --set 'topics[0].name=orders' --set 'topics[0].partitions=3' --set 'topics[0].replicationFactor=1'
  if kubectl -n "$ns" wait "millrace/$cluster" --for=condition=Ready --timeout=180s >"$TMP/wait.log" 2>&1; then
    ok "Millrace $cluster Ready with one broker"
  else
    bad "Millrace $cluster not Ready within 180s"
    kubectl -n "$ns" get millrace,statefulset,pods -o wide 2>&1 | sed 's/^/     /'
    tail -20 "$K8S_RUN_DIR"/pods/"$ns"/"$sa"-*/container.log 2>/dev/null | sed 's/^/     /'
  fi
  run "Topic orders Ready" kubectl -n "$ns" wait topic/orders --for=condition=Ready --timeout=90s
  if [[ -n ${MILLRACE_K8S_IMAGE:-} ]]; then
    local ids
    ids=$(kubectl -n "$ns" get pods -o jsonpath='{range .items[*]}{.metadata.name} {.status.containerStatuses[0].containerID}{"\n"}{end}' 2>&1)
    if grep -q "^$cluster-0 podman://" <<<"$ids" && grep -q "^$sa-[^ ]* podman://" <<<"$ids"; then
      ok "the broker pod and the operator pod run as containers of $MILLRACE_K8S_IMAGE"
    else
      bad "the broker and operator pods run from the image (containerID podman://...)"; sed 's/^/     /' <<<"$ids"
    fi
  fi

  # The operator acted as its ServiceAccount, and no request of it was refused: the
  # chart's least-privilege RBAC is all it had (a missing verb fails here or above).
  audit_by "system:serviceaccount:$ns:$sa" >"$TMP/operator-audit.jsonl"
  run "the operator's writes were made as system:serviceaccount:$ns:$sa (its StatefulSet among them)" \
    grep -q '"uri": "/apis/apps/v1/namespaces/'"$ns"'/statefulsets' "$TMP/operator-audit.jsonl"
  if grep -q '"code": 403' "$TMP/operator-audit.jsonl"; then
    bad "the chart's RBAC refused operator requests"; grep '"code": 403' "$TMP/operator-audit.jsonl" | head | sed 's/^/     /'
  else
    ok "no operator request refused by RBAC ($(wc -l <"$TMP/operator-audit.jsonl") requests audited, watches included)"
  fi
  run "the ServiceAccount may not read Secrets (least privilege)" \
    bash -c "! kubectl auth can-i get secrets -n $ns --as=system:serviceaccount:$ns:$sa"

  local om
  if om="$(port_forward "$ns" "deploy/$sa" 8080)" && curl -fsS "http://127.0.0.1:$om/metrics" >"$TMP/operator.metrics"; then
    run "the in-cluster operator exports every operator metric the dashboard/alerts use (port-forward)" \
      $CHECK exported operator "$TMP/operator.metrics"
  else
    bad "operator /metrics not reachable through kubectl port-forward"
  fi

  run "helm test: the test pod produces and consumes one message (pod Succeeded)" \
    "$HELM" test "$rel" -n "$ns" --timeout 120s
  # The same test pod must fail when the broker is down: its phase follows its exit code.
  kubectl -n "$ns" annotate pod "$cluster-0" millrace.io/harness-stopped=true --overwrite >/dev/null
  if "$HELM" test "$rel" -n "$ns" --timeout 120s >"$TMP/helm-test-down.log" 2>&1; then
    bad "helm test passed with the broker stopped"
  elif [[ $(kubectl -n "$ns" get pod "$rel-millrace-test-produce-consume" -o jsonpath='{.status.phase}/{.status.containerStatuses[0].state.terminated.exitCode}' 2>&1) =~ ^Failed/[1-9] ]]; then
    ok "helm test fails while the broker is stopped: the test pod ends Failed with its non-zero exit code"
  else
    bad "helm test with the broker stopped did not end in a Failed pod"; sed 's/^/     /' "$TMP/helm-test-down.log"
  fi
  kubectl -n "$ns" logs "$rel-millrace-test-produce-consume" >"$TMP/failed-test.log" 2>&1
  run "kubectl logs of the failed test pod names the unreachable broker" \
    bash -c "grep -v '^harness:' '$TMP/failed-test.log' | grep -qi 'broker\|connect\|refused\|timed out'"
  kubectl -n "$ns" annotate pod "$cluster-0" millrace.io/harness-stopped- >/dev/null

  # Custom resources first, while the operator still runs their finalizers; then the release.
  run "delete the Topic and Millrace (finalizers run by the in-cluster operator)" \
    kubectl -n "$ns" delete topic/orders "millrace/$cluster" --timeout=120s
  run "helm uninstall" "$HELM" uninstall "$rel" -n "$ns" --wait --timeout 120s
}
