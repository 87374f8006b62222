# Sourced by tests/operator/run (its helpers: k, jp, check, log, wait_until,
# is_ready, events_of, second_pass; $RUN, $SRC, $CLI).
#
# --- Rolling restart under load: one broker at a time behind the restart gate ---
# A config change gives the StatefulSet (OnDelete) a new pod template; the
# operator restarts the brokers itself, one at a time, each after the one before
# is back in every ISR and caught up with the controller quorum, the active
# controller last. A real client (librdkafka) writes with acks=all to a topic of
# replication factor 3 and min.insync.replicas 2 all along.
k apply -f - >/dev/null <<'EOF'
apiVersion: millrace.io/v1alpha1
kind: Millrace
metadata: {name: roll}
spec:
  brokers: 3
  image: millrace/millrace:test
  # The throttle keeps moves in flight long enough to stop one (rebalance-steps.sh).
  config: {auto.create.topics.enable: "false", leader.replication.throttled.rate: "4000000"}
EOF
check "Millrace roll with 3 brokers (3 controller voters) becomes Ready" wait_until 180 is_ready millrace roll
check "the StatefulSet leaves restarts to the operator (updateStrategy OnDelete)" \
  test "$(jp statefulset roll '{.spec.updateStrategy.type}')" = OnDelete
RB="127.0.0.1:$(jp pod roll-0 '{.metadata.annotations.millrace\.io/kafka-port}')"
check "topic load: 6 partitions, replication factor 3, min.insync.replicas 2" \
  wait_until 60 "$CLI" -b "$RB" topic create load -p 6 -r 3 -c min.insync.replicas=2 --if-not-exists
roll_pods() { k get pods -l app.kubernetes.io/instance=roll -o jsonpath="{range .items[*]}$1{\"\\n\"}{end}" 2>/dev/null; }
uids_before=$(roll_pods '{.metadata.uid}' | sort)
rm -f "$RUN/roll.stop"
/usr/bin/python3 "$SRC/tests/operator/roll_load.py" produce "$RB" load 6 "$RUN/roll.stop" "$RUN/roll.json" \
  > "$RUN/roll-load.log" 2>&1 &
LOAD_PID=$!
# Ready brokers, sampled every half second while the roll goes (at most 600 samples).
(
  min=3
  for _ in $(seq 1 600); do
    [[ -e $RUN/roll.stop ]] && break
    n=$(roll_pods '{.status.conditions[?(@.type=="Ready")].status}' | grep -c True)
    (( n < min )) && min=$n
    echo "$min" > "$RUN/roll.min-ready"
    sleep 0.5
  done
) &
SAMPLER_PID=$!
sleep 2
# A key the brokers do not know is refused before anything is applied: no roll.
rev_before=$(jp statefulset roll '{.status.updateRevision}')
k patch millrace roll --type merge -p '{"spec":{"config":{"log.retention.hours":"170"}}}' >/dev/null
ready_message() { jp millrace roll '{.status.conditions[?(@.type=="Ready")].message}'; }
check "an unknown broker key is refused naming it (Ready=False: $(wait_until 30 bash -c "$(declare -f k jp ready_message); ready_message | grep -q spec.config.log.retention.hours"; ready_message))" \
  bash -c "$(declare -f k jp ready_message); [[ \$(kubectl get millrace roll -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}') == False ]] && ready_message | grep -q 'spec.config.log.retention.hours: not a broker config key'"
check "one InvalidConfig event" test "$(events_of roll InvalidConfig)" = 1
sleep 2
check "refused: the StatefulSet keeps its revision, no broker restarted, all 3 Ready" \
  bash -c "[[ \$(kubectl get statefulset roll -o jsonpath='{.status.updateRevision}/{.status.readyReplicas}') == $rev_before/3 ]] && \
    [[ \$(kubectl get events --field-selector involvedObject.name=roll,reason=RestartingBroker -o name | wc -l) == 0 ]]"
roll_start=$(date +%s.%N)
k patch millrace roll --type merge -p '{"spec":{"config":{"log.retention.hours":null,"log.retention.ms":"604800000"}}}' >/dev/null
roll_cond() { jp millrace roll "{.status.conditions[?(@.type==\"RollingRestart\")].$1}"; }
check "a config change starts a roll (RollingRestart=True)" wait_until 60 bash -c "$(declare -f k jp roll_cond); [[ \$(roll_cond status) == True ]]"
check "the roll finishes (RollingRestart=False/Finished)" wait_until 300 bash -c "$(declare -f k jp roll_cond); [[ \$(roll_cond reason) == Finished ]]"
[[ $(roll_cond reason) == Finished ]] ||
  log "  roll: $(roll_cond reason): $(roll_cond message); status.roll $(jp millrace roll '{.status.roll}')"
roll_end=$(date +%s.%N)
log "  roll of 3 brokers: $(awk "BEGIN{printf \"%.1f\", $roll_end - $roll_start}") s"
# Leaders per broker as the cluster answers Metadata (every topic, internal ones too).
leaders_per_broker() { kcat -b "$RB" -L -m 5 2>/dev/null | sed -n 's/.*partition [0-9]*, leader \([0-9]*\), replicas.*/\1/p' | sort | uniq -c | awk '{print $2"="$1}' | paste -sd, -; }
leader_skew_within_one() {
  local l; l=$(leaders_per_broker)
  [[ $l == *0=* && $l == *1=* && $l == *2=* ]] || return 1
  awk -F, '{min=1e9; max=0; for (i=1;i<=NF;i++) {split($i,a,"="); if (a[2]<min) min=a[2]; if (a[2]>max) max=a[2]} exit !(max-min<=1)}' <<<"$l"
}
check "leader skew within 1 across brokers 0, 1, 2 after the roll (Metadata)" wait_until 60 leader_skew_within_one
log "  leaders within 1 per broker $(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $roll_end}") s after the roll finished: $(leaders_per_broker)"
skew_of_roll() { local s; s=$(jp millrace roll '{.status.leaders.skew}'); [[ -n $s && $s -le 1 ]]; }
check "status.leaders shows skew within 1" wait_until 30 skew_of_roll
log "  status.leaders: $(jp millrace roll '{.status.leaders}')"
touch "$RUN/roll.stop"
wait "$LOAD_PID"
wait "$SAMPLER_PID" 2>/dev/null
uids_after=$(roll_pods '{.metadata.uid}' | sort)
rev=$(jp statefulset roll '{.status.updateRevision}')
check "every broker pod was made again ($(wc -l <<<"$uids_after") pods, none kept)" \
  test -z "$(comm -12 <(echo "$uids_before") <(echo "$uids_after"))"
check "every broker pod runs the StatefulSet's new revision $rev" \
  test "$(roll_pods '{.metadata.labels.controller-revision-hash}' | sort -u)" = "$rev"
min_ready=$(cat "$RUN/roll.min-ready" 2>/dev/null)
check "one broker at a time: never fewer than 2 of 3 Ready (min $min_ready)" test "${min_ready:-0}" -ge 2
check "events: 3 RestartingBroker, 3 BrokerRestarted, 1 RollFinished" \
  test "$(events_of roll RestartingBroker)/$(events_of roll BrokerRestarted)/$(events_of roll RollFinished)" = 3/3/1
log "  $(k get events --field-selector involvedObject.name=roll,reason=RestartingBroker -o jsonpath='{range .items[*]}{.message}{"\n"}{end}' | paste -sd'|')"
load_field() { /usr/bin/python3 -c "import json; d = json.load(open('$RUN/roll.json')); v = d['$1']; print(len(v) if isinstance(v, list) else v)"; }
all_acked() {
  /usr/bin/python3 -c "import json, sys; d = json.load(open('$RUN/roll.json')); sys.exit(0 if d['failed'] == {} and d['unflushed'] == 0 and len(d['acked']) == d['sent'] > 1000 else 1)"
}
check "under the roll every write was acknowledged (acks=all): $(load_field acked) of $(load_field sent), failed $(load_field failed)" all_acked
log "  produce latency during the roll: worst $(load_field max_latency_ms) ms, p99 $(load_field p99_latency_ms) ms; longest a partition went without an acknowledged write: $(load_field worst_partition_gap_ms) ms"
verified=$(/usr/bin/python3 "$SRC/tests/operator/roll_load.py" verify "$RB" load "$RUN/roll.json" 2>/dev/null)
check "every acknowledged record reads back exactly once ($verified)" test "${verified% read=*}" = "missing=0 duplicated=0"
check "status.roll is gone once the roll finished" test -z "$(jp millrace roll '{.status.roll}')"
second_pass "rolled Millrace" roll
