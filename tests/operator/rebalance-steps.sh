# Sourced by tests/operator/scale-steps.sh once Millrace roll runs 5 brokers
# (nodes 0-4), with its producer and consumer group still running (same helpers;
# $RB reaches broker 0; the operator runs as identity 2, $OP_PID).
#
# --- A Rebalance by hand: proposal, approval, stop mid-way, refresh, operator kill -9 ---
# A remove-brokers Rebalance of broker 4 with one move at a time, not auto-approved:
# it proposes and waits; approved, it moves; stopped, the moves in flight are
# cancelled and nothing more moves; refreshed, it proposes what is left; approved
# again, the operator is killed (-9) mid-way and started again: it finishes the
# plan without submitting any partition twice. The brokers' catch-up throttle
# (leader.replication.throttled.rate, 4 MB/s, set when roll was made) keeps each
# move of bulk (4 MB a partition) in flight for about a second.
rb_get() { jp rebalance byhand "{.status.$1}"; }
rb_state_is() { [[ $(rb_get state) == "$1" ]]; }
broker4_replicas() { per_broker replicas | tr , '\n' | sed -n 's/^4=//p'; }
k apply -f - >/dev/null <<'EOF'
apiVersion: millrace.io/v1alpha1
kind: Rebalance
metadata: {name: byhand}
spec: {cluster: roll, mode: remove-brokers, brokers: [4], concurrentMoves: 1}
EOF
check "Rebalance byhand (remove-brokers [4], not auto-approved): ProposalReady" \
  wait_until 60 bash -c "$(declare -f k jp rb_get rb_state_is); rb_state_is ProposalReady"
moves=$(rb_get proposal.reassignments); bytes=$(rb_get proposal.bytesToMove)
throttle=$(rb_get proposal.throttleBytesPerSecond); eta=$(rb_get proposal.estimatedSeconds)
log "  proposal: $moves partitions to move, $bytes bytes, throttle $throttle B/s, estimated $eta s"
check "the proposal: moves and bytes, at the brokers' throttle (4 MB/s), estimated as bytes / throttle" \
  /usr/bin/python3 -c "import math, sys; m, b, t, e = int('$moves' or 0), int('$bytes' or 0), int('$throttle' or 0), float('$eta' or -1)
sys.exit(0 if m > 0 and b > 4_000_000 and t == 4_000_000 and abs(e - b / t) <= 1 else 1)"
check "the plan is kept in ConfigMap byhand-plan" bash -c "kubectl get configmap byhand-plan >/dev/null"
held=$(broker4_replicas)
sleep 5
check "not approved: still ProposalReady 5 s later, broker 4 still holds its $held replicas" \
  bash -c "$(declare -f k jp rb_get rb_state_is per_broker broker4_replicas); RB=$RB; rb_state_is ProposalReady && [[ \$(broker4_replicas) == '$held' ]]"

k annotate rebalance byhand millrace.io/rebalance=approve >/dev/null
in_flight() { local n; n=$(rb_get progress.movesInFlight); rb_state_is Rebalancing && (( ${n:-0} > 0 )); }
check "approved: Rebalancing with a move in flight" \
  wait_until 60 bash -c "$(declare -f k jp rb_get rb_state_is in_flight); in_flight"
k annotate --overwrite rebalance byhand millrace.io/rebalance=stop >/dev/null
stopped() { rb_state_is Stopped && [[ $(rb_get progress.movesInFlight) == 0 ]]; }
check "stopped: Stopped with nothing in flight" wait_until 60 bash -c "$(declare -f k jp rb_get rb_state_is stopped); stopped"
done1=$(rb_get progress.movesDone); total1=$(rb_get progress.movesTotal)
log "  stopped after $done1 of $total1 moves: $(rb_get message)"
check "stopped part way ($done1 of $total1 moves done)" test "${done1:-0}" -lt "${total1:-0}"
cancels=$(grep -c "rebalance default/byhand: cancelling" "$RUN/operator-2.log")
check "the move in flight was cancelled ($cancels cancel requests in the operator's log)" test "$cancels" -ge 1
held=$(broker4_replicas)
sleep 5
check "stopped stays stopped: 5 s later no more moves done, broker 4 still holds $held replicas" \
  bash -c "$(declare -f k jp rb_get rb_state_is per_broker broker4_replicas); RB=$RB; rb_state_is Stopped && [[ \$(rb_get progress.movesDone) == '$done1' && \$(broker4_replicas) == '$held' ]]"

computed=$(rb_get proposal.computedAt)
k annotate --overwrite rebalance byhand millrace.io/rebalance=refresh >/dev/null
check "refresh: a new proposal (computedAt after $computed)" \
  wait_until 60 bash -c "$(declare -f k jp rb_get rb_state_is); rb_state_is ProposalReady && [[ \$(rb_get proposal.computedAt) != '$computed' ]]"
left=$(rb_get proposal.reassignments)
# A refreshed proposal is planned again from the cluster as it is now (not the
# old plan less what is done): it takes every replica still on broker 4 off it.
off4=$(k get configmap byhand-plan -o jsonpath='{.data.moves\.json}' | /usr/bin/python3 -c '
import json, sys
print(sum(1 for m in json.load(sys.stdin) if 4 in m["from"] and 4 not in m["to"]))' 2>/dev/null)
check "refresh proposes what is left: $left partitions (was $moves, $done1 done before the stop), $off4 of them off broker 4, which holds $held" \
  test "${off4:-x}" = "$held"

from=$(wc -l < "$RUN/operator-2.log")
k annotate --overwrite rebalance byhand millrace.io/rebalance=approve >/dev/null
check "approved again: Rebalancing, a move in flight" \
  wait_until 60 bash -c "$(declare -f k jp rb_get rb_state_is in_flight); in_flight"
kill -9 "$OP_PID"; wait "$OP_PID" 2>/dev/null
log "  operator killed (-9) at $(rb_get progress.movesDone) of $(rb_get progress.movesTotal) moves"
sleep 2
start_operator 2   # same identity: it takes its Lease back at once
check "after the operator's restart: byhand Ready" \
  wait_until 240 bash -c "$(declare -f k jp rb_get rb_state_is); rb_state_is Ready"
log "  byhand: $(rb_get message)"
submits=$(tail -n +"$((from + 1))" "$RUN/operator-2.log" | sed -n 's/.*rebalance default\/byhand: submitting \([^ ]*\) .*/\1/p')
twice=$(sort <<<"$submits" | uniq -d | paste -sd, -)
check "$(grep -c . <<<"$submits") moves submitted over both operator processes, none twice (${twice:-none})" \
  bash -c "[[ -n '$submits' && -z '$twice' ]]"
check "the plan survived the restart (no PlanLost event)" test "$(events_of byhand PlanLost)" = 0
check "no partition names broker 4 any more (every topic, internal ones too)" \
  wait_until 30 bash -c "$(declare -f per_broker broker4_replicas); RB=$RB; [[ -z \$(broker4_replicas) ]]"
k delete rebalance byhand --timeout=30s >/dev/null
