# ConsumerGroupScaler end to end (issue 16), sourced by tests/operator/run while
# Millrace demo is Ready (uses its helpers: k, jp, check, wait_until, events_of,
# metric_sum, topic, CLI, BOOT). A Deployment of `millrace consume` pods, each
# slowed to 20 records/s, is scaled on its group's lag on a 6-partition topic.
# Every wait is bounded; the whole section takes about three minutes.

# --- Invalid specs: refused by the CRD naming the field, or Ready=False ---------
cgs_apply() { k apply -f - 2>&1; }
out=$(cgs_apply <<'EOF'
apiVersion: millrace.io/v1alpha1
kind: ConsumerGroupScaler
metadata: {name: bad-range}
spec: {clusterRef: {name: demo}, groupId: g, scaleTargetRef: {kind: Deployment, name: x}, lagPerReplica: 10, minReplicas: 5, maxReplicas: 2}
EOF
)
check "cgs with minReplicas above maxReplicas refused naming spec.minReplicas ($out)" grep -q "spec.minReplicas" <<<"$out"
out=$(cgs_apply <<'EOF'
apiVersion: millrace.io/v1alpha1
kind: ConsumerGroupScaler
metadata: {name: bad-target}
spec: {clusterRef: {name: demo}, groupId: g, scaleTargetRef: {kind: Deployment, name: x}}
EOF
)
check "cgs without a target refused naming spec.lagPerReplica ($out)" grep -q "spec.lagPerReplica" <<<"$out"
cgs_apply >/dev/null <<'EOF'
apiVersion: millrace.io/v1alpha1
kind: ConsumerGroupScaler
metadata: {name: bad-kind}
spec: {clusterRef: {name: demo}, groupId: g, scaleTargetRef: {kind: Gadget, name: x}, lagPerReplica: 10}
EOF
bad_kind() {
  [[ $(reason_of consumergroupscaler bad-kind) == TargetNotFound ]] &&
    grep -q "spec.scaleTargetRef.kind" <<<"$(jp consumergroupscaler bad-kind '{.status.conditions[?(@.type=="Ready")].message}')"
}
check "cgs naming an unknown kind: Ready=False/TargetNotFound naming spec.scaleTargetRef.kind" wait_until 30 bad_kind
k delete consumergroupscaler bad-kind >/dev/null

# --- A consumer Deployment and its scaler ----------------------------------------
topic lagged 6 Delete '' >/dev/null
check "Topic lagged (6 partitions) Ready" wait_until 60 is_ready topic lagged
k apply -f - >/dev/null <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: lag-app}
spec:
  replicas: 1
  selector: {matchLabels: {app: lag-app}}
  template:
    metadata: {labels: {app: lag-app}}
    spec:
      terminationGracePeriodSeconds: 10
      containers:
      - name: consume
        image: ghcr.io/millrace/millrace:test
        command: [millrace, -b, "demo-bootstrap.default.svc:9092", consume, -t, lagged, -g, lag-app,
                  --from-beginning, --max-rate, "20", --quiet]
EOF
k apply -f - >/dev/null <<'EOF'
apiVersion: millrace.io/v1alpha1
kind: ConsumerGroupScaler
metadata: {name: lag-app}
spec:
  clusterRef: {name: demo}
  groupId: lag-app
  topics: [lagged]
  scaleTargetRef: {kind: Deployment, name: lag-app}
  minReplicas: 0
  maxReplicas: 10
  lagPerReplica: 100
  offsetResetPolicy: earliest
  cooldownSeconds: 20
  pollIntervalSeconds: 2
  behavior:
    scaleDown: {stabilizationWindowSeconds: 10}
EOF
cgs() { jp consumergroupscaler lag-app "$1"; }
cgs_cond() { jp consumergroupscaler lag-app "{.status.conditions[?(@.type==\"$1\")].$2}"; }
deploy_replicas() { jp deployment lag-app '{.spec.replicas}'; }
replicas_are() { [[ $(deploy_replicas) == "$1" ]]; }
check "cgs lag-app Ready" wait_until 60 bash -c "[[ \$(kubectl get cgs lag-app -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}') == True ]]"

# --- A backlog scales it up, never above the 6 partitions -----------------------
seq 1 3000 | sed 's/.*/k&:v&/' | "$CLI" -b "$BOOT" produce -t lagged -K : >/dev/null
check "3000 records produced on 6 partitions: scaled to 6, not 30 (lag/100) nor 7" wait_until 60 replicas_are 6
check "ScalingLimited=True: capped at the 6 partitions" \
  bash -c "kubectl get cgs lag-app -o jsonpath='{.status.conditions[?(@.type==\"ScalingLimited\")].message}' | grep -q 'capped at 6'"
log "  status: lag $(cgs '{.status.totalLag}'), hottest $(cgs '{.status.hottestPartition}'), lagSeconds $(cgs '{.status.lagSeconds}')"
check "status shows the lag, its age in seconds and the hottest partition" \
  bash -c "[[ \$(kubectl get cgs lag-app -o jsonpath='{.status.totalLag}') -gt 0 && -n \$(kubectl get cgs lag-app -o jsonpath='{.status.lagSeconds}') && -n \$(kubectl get cgs lag-app -o jsonpath='{.status.hottestPartition.topic}') ]]"
check "kubectl get cgs prints group, lag, replicas" bash -c "kubectl get cgs lag-app | grep -E '^lag-app +lag-app +[0-9]+'"
check "a Scaled event names the numbers" \
  bash -c "kubectl get events --field-selector involvedObject.name=lag-app,reason=Scaled -o jsonpath='{.items[*].message}' | grep -q 'lag [0-9]* records / lagPerReplica 100'"
check "operator metrics carry the scaler's lag and desired replicas" \
  bash -c "curl -sf http://127.0.0.1:$METRICS_PORT/metrics | grep -q '^millrace_operator_scaler_desired_replicas{.*scaler=\"lag-app\".*} 6'"

# --- A broker restart: hold, never zero, no flapping ----------------------------
k annotate pod demo-0 millrace.io/harness-stopped=true --overwrite >/dev/null
holding() { [[ $(cgs_cond Holding status) == True && $(cgs_cond Holding reason) == ClusterNotReady ]]; }
check "broker down: Holding=True/ClusterNotReady" wait_until 60 holding
sleep 5
check "broker down: the Deployment keeps its 6 replicas" replicas_are 6
k annotate pod demo-0 millrace.io/harness-stopped- >/dev/null
check "broker back: Millrace Ready" wait_until 90 is_ready millrace demo
PORT=$(jp pod demo-0 '{.metadata.annotations.millrace\.io/kafka-port}'); BOOT="127.0.0.1:$PORT"
check "broker back: Holding clears" wait_until 60 bash -c "[[ \$(kubectl get cgs lag-app -o jsonpath='{.status.conditions[?(@.type==\"Holding\")].status}') == False ]]"

# --- Drained: down after the window, to zero after the cooldown -----------------
check "the backlog drains (lag 0)" wait_until 180 bash -c "[[ \$(kubectl get cgs lag-app -o jsonpath='{.status.totalLag}') == 0 ]]"
check "scaled to zero after the window and the 20 s cooldown" wait_until 90 replicas_are 0
steps=$(k get events --field-selector involvedObject.name=lag-app,reason=Scaled -o jsonpath='{range .items[*]}{.message}{"\n"}{end}')
log "  scale steps:"; sed 's/^/    /' <<<"$steps"
check "no step ever went above 6 replicas" bash -c "! grep -Eq ' to ([7-9]|[1-9][0-9]+):' <<<\"\$1\"" _ "$steps"
check "Active=False while idle" bash -c "[[ \$(kubectl get cgs lag-app -o jsonpath='{.status.conditions[?(@.type==\"Active\")].status}') == False ]]"

# --- Converged: a pass writes nothing; then new records wake it -----------------
sleep 5
w0=$(metric_sum millrace_operator_api_writes_total 'resource="(consumergroupscalers|deployments)"')
sleep 8   # four polls
w1=$(metric_sum millrace_operator_api_writes_total 'resource="(consumergroupscalers|deployments)"')
check "a converged scaler's polls write nothing ($w0 -> $w1)" test "$w0" = "$w1"
seq 1 60 | sed 's/.*/w&:v&/' | "$CLI" -b "$BOOT" produce -t lagged -K : >/dev/null
check "new records wake it from zero (activation)" wait_until 60 bash -c "[[ \$(kubectl get deployment lag-app -o jsonpath='{.spec.replicas}') -ge 1 ]]"

# --- Paused ----------------------------------------------------------------------
k annotate cgs lag-app millrace.io/paused=true --overwrite >/dev/null
check "paused: Holding=True/Paused" wait_until 30 bash -c "[[ \$(kubectl get cgs lag-app -o jsonpath='{.status.conditions[?(@.type==\"Holding\")].reason}') == Paused ]]"
k delete cgs lag-app --timeout=30s >/dev/null
k delete deployment lag-app --timeout=30s >/dev/null
k delete topic lagged --timeout=60s >/dev/null
