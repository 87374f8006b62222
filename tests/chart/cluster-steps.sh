# Sourced by tests/chart/run once the test cluster is up (KUBECONFIG, kubectl and helm on
# PATH). Uses run/ok/bad/skip, $HELM, $CHART, $VALS, $TMP, $BUILD, $OPERATOR, PIDS from it.
#
# What runs where: the API server, controller-manager and the harness (the kubelet for
# broker pods, labelled app.kubernetes.io/name=millrace) are real. Nothing runs the
# operator's Deployment pod or the helm-test pod (there is no container runtime), so the
# operator binary runs beside the cluster with the same kubeconfig, and the helm-test
# pod's own script (taken from the release's hook) runs here against the broker.

# Objects whose API the test cluster does not serve (the Prometheus Operator's CRDs are not
# installed there); they are validated by promtool and check.py instead.
drop_monitoring_kinds() {
  /usr/bin/python3 -c '
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and not d["apiVersion"].startswith("monitoring.coreos.com/")]
print(yaml.safe_dump_all(docs))' "$1"
}

cluster_steps() {
  local ns=streaming
  run "apply the chart's CRDs (server-side)" kubectl apply --server-side -f "$CHART/crds/"
  run "CRDs established" kubectl wait --for=condition=Established --timeout=60s -f "$CHART/crds/"
  # Namespaces the rendered objects name (dry-run does not create a Namespace it applies).
  for n in "$ns" monitoring millrace-system; do kubectl create namespace "$n" >/dev/null 2>&1; done
  for name in defaults minimal production monitoring; do
    [[ -f $TMP/$name.yaml ]] || continue
    drop_monitoring_kinds "$TMP/$name.yaml" >"$TMP/$name.apply.yaml"
    run "server-side dry-run apply: chart rendered with $name values" \
      kubectl apply --server-side --dry-run=server -f "$TMP/$name.apply.yaml"
  done
  run "server-side dry-run apply: manifests/install.yaml" \
    kubectl apply --server-side --dry-run=server -f "$ROOT/manifests/install.yaml"
  run "server-side dry-run apply: manifests/samples/" \
    kubectl apply --server-side --dry-run=server -n "$ns" -f "$ROOT/manifests/samples/"

  if [[ ! -x $OPERATOR ]]; then
    skip "helm install to Ready and the helm-test script: $OPERATOR not built"
    return
  fi
  local rel=itest cluster=itest
  run "helm install (operator, one-broker Millrace, a topic)" \
    "$HELM" install "$rel" "$CHART" -n "$ns" --skip-crds \
      --set cluster.enabled=true --set cluster.name=$cluster --set cluster.brokers=1 \
      --set cluster.storage.size=1Gi \
      --set 'topics[0].name=orders' --set 'topics[0].partitions=3' --set 'topics[0].replicationFactor=1'
  # The operator, out of the cluster, with the admin kubeconfig.
  read -r om < <(free_ports 1)
  # --kafka-addressing pod-ip: the harness runs every broker on 127.0.0.1 with its own ports.
  "$OPERATOR" --kubeconfig "$KUBECONFIG" --metrics-bind-address "127.0.0.1:$om" --leader-elect=false \
    --kafka-addressing pod-ip \
    >"$TMP/operator.log" 2>&1 &
  PIDS+=($!)
  if kubectl -n "$ns" wait "millrace/$cluster" --for=condition=Ready --timeout=180s >"$TMP/wait.log" 2>&1; then
    ok "Millrace $cluster Ready with one broker"
  else
    bad "Millrace $cluster not Ready within 180s"
    kubectl -n "$ns" get millrace,statefulset,pods -o wide 2>&1 | sed 's/^/     /'
    tail -20 "$TMP/operator.log" | sed 's/^/     /'
  fi
  run "Topic orders Ready" kubectl -n "$ns" wait topic/orders --for=condition=Ready --timeout=60s
  if curl -fsS "http://127.0.0.1:$om/metrics" >"$TMP/operator.metrics" 2>/dev/null; then
    run "the running operator exports every operator metric the dashboard/alerts use" \
      $CHECK exported operator "$TMP/operator.metrics"
  else
    bad "operator /metrics not reachable on :$om"
  fi
  # The helm-test pod's script, run here against broker 0 (its kafka port annotation).
  local pod port script
  pod="$(kubectl -n "$ns" get pods -l app.kubernetes.io/name=millrace -o name | head -1)"
  port="$(kubectl -n "$ns" get "$pod" -o jsonpath='{.metadata.annotations.millrace\.io/kafka-port}' 2>/dev/null)"
  "$HELM" get hooks "$rel" -n "$ns" >"$TMP/hooks.yaml"
  script="$(/usr/bin/python3 -c '
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] == "Pod" and d["metadata"]["annotations"].get("helm.sh/hook") == "test":
        print(d["spec"]["containers"][0]["args"][0])' "$TMP/hooks.yaml")"
  if [[ -z $port || -z $script ]]; then
    bad "helm-test script: no broker pod port ($port) or no test hook in the release"
  else
    run "helm-test script produces and consumes one message through broker 0" \
      env PATH="$BUILD/client:$PATH" BOOTSTRAP="127.0.0.1:$port" TOPIC=helm-test DEADLINE=60 \
        POD_UID="$(cat /proc/sys/kernel/random/uuid)" sh -ec "$script"
  fi
  run "helm uninstall" "$HELM" uninstall "$rel" -n "$ns" --wait --timeout 120s
}
