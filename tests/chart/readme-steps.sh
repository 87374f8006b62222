# Sourced by tests/chart/run (through cluster-steps.sh) with the test cluster up: runs
# the shell blocks of README.md's "On Kubernetes" section as written, in order, from the
# checkout (kubectl and helm of the cluster on PATH, its KUBECONFIG), then checks what
# the README promises: Millrace demo and Topic orders Ready, the topic with its 6
# partitions on the broker (kcat), the ConsumerGroupScaler polling under the chart's
# RBAC, and the metrics block printing one series per partition. Uses run/ok/bad, $ROOT, $TMP, $HELM from tests/chart/run.

# readme_blocks FILE OUTDIR: writes each ```sh block of the section to OUTDIR/N.sh.
readme_blocks() {
  /usr/bin/python3 - "$1" "$2" <<'PYEOF'
import os, re, sys
text = open(sys.argv[1]).read()
m = re.search(r"^## On Kubernetes\n(.*?)(?=^## |\Z)", text, re.S | re.M)
if not m:
    sys.exit("README.md has no '## On Kubernetes' section")
blocks = re.findall(r"^```sh\n(.*?)^```", m.group(1), re.S | re.M)
for i, b in enumerate(blocks):
    open(os.path.join(sys.argv[2], "%02d.sh" % i), "w").write(b)
print(len(blocks))
PYEOF
}

readme_steps() {
  local dir="$TMP/readme" n
  mkdir -p "$dir"
  if ! n="$(readme_blocks "$ROOT/README.md" "$dir")" || [[ $n -lt 3 ]]; then
    bad "README.md's Kubernetes section: expected its install, resources and metrics blocks (found ${n:-none})"
    return
  fi
  local f all=0
  for f in "$dir"/*.sh; do
    if (cd "$ROOT" && PATH="$(dirname "$HELM"):$PATH" timeout 600 bash -euo pipefail "$f") >"$f.out" 2>&1; then
      ok "README Kubernetes block $(basename "$f" .sh) runs as written: $(head -1 "$f")"
    else
      bad "README Kubernetes block $(basename "$f" .sh) failed: $(head -1 "$f")"
      sed 's/^/     /' "$f" "$f.out" | tail -30
      all=1
    fi
  done
  [[ $all -eq 0 ]] || return
  run "README: Millrace demo Ready" kubectl -n streaming wait millrace/demo --for=condition=Ready --timeout=30s
  run "README: Topic orders Ready" kubectl -n streaming wait topic/orders --for=condition=Ready --timeout=30s
  local port
  port="$(kubectl -n streaming get pod demo-0 -o jsonpath='{.metadata.annotations.millrace\.io/kafka-port}')"
  kcat -L -b "127.0.0.1:$port" -t orders -m 10 >"$TMP/readme-kcat.txt" 2>&1
  run "README: topic orders exists on the broker with 6 partitions (kcat -L)" \
    grep -q 'topic "orders" with 6 partitions' "$TMP/readme-kcat.txt"
  local last
  last="$(ls "$dir"/*.sh | tail -1)"
  run "README: the metrics block printed one series per partition of orders (6)" \
    bash -c "[[ \$(grep -c 'millrace_partition_log_end_offset{topic=\"orders\"' '$last.out') -eq 6 ]]"
  run "README: the ConsumerGroupScaler polls the group (status.desiredReplicas set, under the chart's RBAC)" \
    bash -c "[[ -n \$(kubectl -n streaming get cgs orders-app -o jsonpath='{.status.desiredReplicas}') ]]"
  kubectl -n streaming delete cgs/orders-app deployment/orders-app --timeout=60s >/dev/null 2>&1
  kubectl -n streaming delete topic/orders millrace/demo --timeout=120s >/dev/null 2>&1
  "$HELM" uninstall millrace -n millrace-system --wait --timeout 120s >/dev/null 2>&1
}
