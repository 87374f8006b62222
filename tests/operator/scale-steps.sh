# Sourced by tests/operator/run after roll-steps.sh (same helpers; Millrace roll
# runs 3 brokers, nodes 0-2, all controller voters; $RB reaches broker 0).
#
# --- Scale 3 -> 5 -> 3 under load: replicas move onto the new brokers, then off ---
# A librdkafka producer writes with acks=all to `flow` (RF 3, min.insync 2) and one
# member of a consumer group reads it, all along; `bulk` (RF 2) holds data to move.
# Raising spec.brokers makes an add-brokers Rebalance; lowering it drains the
# departing brokers (by node id) through a remove-brokers Rebalance before the
# StatefulSet shrinks.
check "topic flow: 6 partitions, replication factor 3, min.insync.replicas 2" \
  "$CLI" -b "$RB" topic create flow -p 6 -r 3 -c min.insync.replicas=2 --if-not-exists
check "topic bulk: 6 partitions, replication factor 2" \
  "$CLI" -b "$RB" topic create bulk -p 6 -r 2 --if-not-exists
/usr/bin/python3 -c 'import sys
for i in range(24000): sys.stdout.write("%07d" % i + "x" * 992 + "\n")' |
  kcat -b "$RB" -P -t bulk -X acks=all -X linger.ms=20 2>/dev/null
rm -f "$RUN/scale.stop" "$RUN/scale.json"
/usr/bin/python3 "$SRC/tests/operator/roll_load.py" produce "$RB" flow 6 "$RUN/scale.stop" "$RUN/scale.json" \
  > "$RUN/scale-load.log" 2>&1 &
SCALE_LOAD=$!
/usr/bin/python3 "$SRC/tests/operator/roll_load.py" consume "$RB" flow scale-readers "$RUN/scale.stop" "$RUN/scale.json" \
  > "$RUN/scale-consume.out" 2> "$RUN/scale-consume.log" &
SCALE_CONSUME=$!
sleep 3

# Replicas and leaders per broker as Metadata says (every topic, internal ones too).
per_broker() {  # replicas|leader
  local field=$1
  kcat -b "$RB" -L -m 5 2>/dev/null |
    if [[ $field == leader ]]; then sed -n 's/.*partition [0-9]*, leader \([0-9]*\), replicas.*/\1/p'
    else sed -n 's/.*partition [0-9]*, leader [-0-9]*, replicas: \([0-9,]*\),.*/\1/p' | tr , '\n'; fi |
    sort | uniq -c | awk '{print $2"="$1}' | paste -sd, -
}
# Every one of the brokers named holds a count within 1 of the mean.
within_one_of_mean() {  # replicas|leader broker...
  local field=$1; shift
  local counts; counts=$(per_broker "$field")
  /usr/bin/python3 - "$counts" "$@" <<'PY'
import math, sys
counts = dict(kv.split("=") for kv in sys.argv[1].split(",") if kv)
brokers = sys.argv[2:]
if set(counts) - set(brokers):
    sys.exit(1)
n = [int(counts.get(b, 0)) for b in brokers]
mean = sum(n) / len(n)
sys.exit(0 if all(math.floor(mean) - 1 <= x <= math.ceil(mean) + 1 for x in n) else 1)
PY
}
log "  before: replicas per broker $(per_broker replicas); leaders $(per_broker leader)"
scale_up_start=$(date +%s.%N)
k scale millrace roll --replicas=5 >/dev/null
UP=roll-g$(jp millrace roll '{.metadata.generation}')-add
check "scale 3 -> 5: pods roll-3 and roll-4 Ready" wait_until 180 bash -c "$(declare -f k jp); [[ \$(jp pod roll-3 '{.status.conditions[?(@.type==\"Ready\")].status}')/\$(jp pod roll-4 '{.status.conditions[?(@.type==\"Ready\")].status}') == True/True ]]"
check "the operator made Rebalance $UP (add-brokers [3,4]) and it finishes" \
  wait_until 300 bash -c "[[ \$(kubectl get rebalance $UP -o jsonpath='{.spec.mode}/{.spec.brokers}/{.status.state}') == 'add-brokers/[3,4]/Ready' ]]"
scale_up_end=$(date +%s.%N)
check "replicas on brokers 0-4 within 1 of the mean (every topic)" wait_until 60 within_one_of_mean replicas 0 1 2 3 4
check "leaders on brokers 0-4 within 1 of the mean" wait_until 60 within_one_of_mean leader 0 1 2 3 4
log "  after: replicas per broker $(per_broker replicas); leaders $(per_broker leader)"
log "  3 -> 5: $(awk "BEGIN{printf \"%.1f\", $scale_up_end - $scale_up_start}") s from the scale to the Rebalance Ready; $(jp rebalance "$UP" '{.status.proposal.replicaMoves}') replica moves, $(jp rebalance "$UP" '{.status.proposal.bytesToMove}') bytes to move"
log "  balance per goal (before -> after): $(k get rebalance "$UP" -o jsonpath='{range .status.proposal.goals[*]}{.goal}: {.before.min}-{.before.max} -> {.after.min}-{.after.max}; {end}')"

# A Rebalance by hand while 5 brokers run (it drains broker 4, then the scale-down).
source "$SRC/tests/operator/rebalance-steps.sh"

scale_down_start=$(date +%s.%N)
k scale millrace roll --replicas=3 >/dev/null
DOWN=roll-g$(jp millrace roll '{.metadata.generation}')-remove
check "scale 5 -> 3: Rebalance $DOWN (remove-brokers [3,4]) drains them" \
  wait_until 300 bash -c "[[ \$(kubectl get rebalance $DOWN -o jsonpath='{.spec.mode}/{.spec.brokers}/{.status.state}') == 'remove-brokers/[3,4]/Ready' ]]"
check "drained: the StatefulSet scales to 3, pods roll-3 and roll-4 gone" \
  wait_until 120 bash -c "[[ \$(kubectl get statefulset roll -o jsonpath='{.spec.replicas}') == 3 ]] && ! kubectl get pod roll-3 2>/dev/null && ! kubectl get pod roll-4 2>/dev/null"
scale_down_end=$(date +%s.%N)
check "no partition names broker 3 or 4 (replicas within 1 of the mean on 0-2)" wait_until 60 within_one_of_mean replicas 0 1 2
log "  5 -> 3: $(awk "BEGIN{printf \"%.1f\", $scale_down_end - $scale_down_start}") s from the scale to the StatefulSet at 3; replicas per broker $(per_broker replicas)"

touch "$RUN/scale.stop"
wait "$SCALE_LOAD"
wait "$SCALE_CONSUME"
scale_field() { /usr/bin/python3 -c "import json; d = json.load(open('$RUN/scale.json')); v = d['$1']; print(len(v) if isinstance(v, list) else v)"; }
scale_all_acked() {
  /usr/bin/python3 -c "import json, sys; d = json.load(open('$RUN/scale.json')); sys.exit(0 if d['failed'] == {} and d['unflushed'] == 0 and len(d['acked']) == d['sent'] > 1000 else 1)"
}
check "through both scales every write was acknowledged (acks=all): $(scale_field acked) of $(scale_field sent), failed $(scale_field failed)" scale_all_acked
log "  produce latency through both scales: worst $(scale_field max_latency_ms) ms, p99 $(scale_field p99_latency_ms) ms; longest a partition went without an acknowledged write: $(scale_field worst_partition_gap_ms) ms"
consumed=$(cat "$RUN/scale-consume.out")
check "the consumer group read every acknowledged record exactly once ($consumed)" test "${consumed% read=*}" = "missing=0 duplicated=0"
bulk_count() { timeout 60 kcat -b "$RB" -C -t bulk -o beginning -c 24000 -q 2>/dev/null | cut -c1-7 | sort -u | wc -l; }
check "every record of bulk reads back after both moves" test "$(bulk_count)" = 24000
k delete millrace roll --timeout=60s >/dev/null
