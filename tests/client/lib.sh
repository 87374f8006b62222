# Helpers shared by tests/client/run and tests/cli/run: start a Millrace broker or
# an Apache Kafka peer on free ports in a temp dir, and stop it again.
#   start_kafka DIR        -> sets BOOTSTRAP and BROKER_PID
#   start_millrace DIR     -> sets BOOTSTRAP and BROKER_PID (needs $MILLRACE_BUILD/broker/millrace-broker)
#   stop_all               stops whatever was started (also on EXIT)
SRC="${MILLRACE_SOURCE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
PEERS="$SRC/tests/peers"
STARTED_KAFKA=()
STARTED_PIDS=()

start_kafka() {
  local dir=$1
  local out
  # Cases write records with fixed 2023 timestamps (seek by time); Kafka's first
  # retention check, 30 s after start, would delete them as 7 days old.
  out=$("$PEERS/kafka" start --dir "$dir" --set log.retention.ms=-1) || return 1
  STARTED_KAFKA+=("$dir")
  BOOTSTRAP="127.0.0.1:$(echo "$out" | awk '{print $2}')"
  BROKER_PID=$(echo "$out" | awk '{print $1}')
}

start_millrace() {
  local dir=$1 bin="$MILLRACE_BUILD/broker/millrace-broker"
  [ -x "$bin" ] || { echo "no Millrace broker at $bin (build it first)" >&2; return 1; }
  local ports port admin
  ports=$("$PEERS/free-port" 2)
  port=$(echo "$ports" | sed -n 1p)
  admin=$(echo "$ports" | sed -n 2p)
  mkdir -p "$dir/data"
  "$bin" --config "$SRC/config/local.yaml" --set "listeners=PLAINTEXT://127.0.0.1:$port" \
    --set "log.dirs=$dir/data" --set "admin.listeners=http://127.0.0.1:$admin" > "$dir/broker.log" 2>&1 &
  local pid=$!
  STARTED_PIDS+=("$pid")
  for _ in $(seq 1 150); do
    if grep -q "millrace-broker ready" "$dir/broker.log"; then BOOTSTRAP="127.0.0.1:$port"; BROKER_PID=$pid; return 0; fi
    kill -0 "$pid" 2>/dev/null || { echo "millrace-broker exited: $(tail -5 "$dir/broker.log")" >&2; return 1; }
    sleep 0.2
  done
  echo "millrace-broker not ready in 30 s: $(tail -5 "$dir/broker.log")" >&2
  return 1
}

stop_all() {
  for d in "${STARTED_KAFKA[@]}"; do "$PEERS/kafka" stop --dir "$d" >/dev/null 2>&1 || true; done
  for p in "${STARTED_PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  STARTED_KAFKA=()
  STARTED_PIDS=()
}
