"""Broker-wide limits against a running broker; every case runs and each
failure is reported (exit 1 if any failed). See ./run for what is checked."""
import os
import re
import socket
import struct
import sys
import threading
import time

SOURCE = os.environ.get("MILLRACE_SOURCE", ".")
sys.path.insert(0, os.path.join(SOURCE, "broker", "testing"))
sys.path.insert(0, os.path.join(SOURCE, "tests", "broker-pipeline"))
from broker_proc import Broker  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402
import wire  # noqa: E402  (tests/broker-pipeline/wire.py: raw Produce v3)

MiB = 1 << 20


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def peak_rss(broker):
    """VmHWM (peak resident set) of the broker process, in bytes."""
    with open(f"/proc/{broker.proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise Failure("no VmHWM in /proc status")


def reset_peak_rss(broker):
    """Linux >= 4.0: writing 5 to clear_refs resets VmHWM to the current RSS."""
    try:
        with open(f"/proc/{broker.proc.pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def metric(broker, name):
    m = re.search(r"^" + re.escape(name) + r" ([0-9.e+]+)$", broker.metrics(), re.M)
    return float(m.group(1)) if m else None


def create(broker, topic, partitions):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    for _, f in admin.create_topics([NewTopic(topic, partitions, 1)]).items():
        f.result(15)


def with_corr(template, corr):
    """A prebuilt request frame with its correlation id replaced (after size, key, version)."""
    return template[:8] + struct.pack(">i", corr) + template[12:]


def budget_case(budget, connections=40, per_connection=3, partitions=4):
    """-> (peak RSS growth in bytes, memory waits). Each connection pipelines
    `per_connection` ~1 MiB produces (acks=1) at once; all must be answered in
    order with error 0, and every partition's offsets must be exactly the
    batches sent to it."""
    b = Broker(extra={"queued.max.request.bytes": str(budget), "num.network.threads": "2"},
               name=f"budget{budget}")
    b.start()
    try:
        create(b, "big", partitions)
        value = bytes(range(256)) * (999_000 // 256)  # one record just under message.max.bytes
        templates = [wire.produce_v3(0, "big", p, [value], acks=1) for p in range(partitions)]
        # Warm the broker's steady state (segments, append paths) before measuring.
        s = wire.connect(b.port)
        for p in range(partitions):
            s.sendall(with_corr(templates[p], 1))
            check(wire.recv_frame(s) is not None, "warm-up produce not answered")
        s.close()
        time.sleep(0.3)
        reset_peak_rss(b)
        base = peak_rss(b)
        socks = [wire.connect(b.port, timeout=120) for _ in range(connections)]
        errors, bases = [], {p: [] for p in range(partitions)}
        lock = threading.Lock()
        go = threading.Barrier(connections)

        def client(i):
            s = socks[i]
            p = i % partitions
            try:
                go.wait()
                s.sendall(b"".join(with_corr(templates[p], 100 + k) for k in range(per_connection)))
                for k in range(per_connection):
                    resp = wire.recv_frame(s)
                    if resp is None:
                        raise Failure(f"connection {i}: closed before answer {k}")
                    corr, parts = wire.parse_produce_v3(resp)
                    if corr != 100 + k or len(parts) != 1 or parts[0][2] != 0:
                        raise Failure(f"connection {i}: answer {k} = corr {corr} {parts}")
                    with lock:
                        bases[p].append(parts[0][3])
            except Exception as e:  # noqa: BLE001 - every client's failure is reported
                with lock:
                    errors.append(str(e))

        threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(180)
        for s in socks:
            s.close()
        check(not errors, f"budget {budget}: {len(errors)} clients failed, first: {errors[:3]}")
        for p, got in bases.items():
            want = connections // partitions * per_connection + (per_connection if p < connections % partitions else 0)
            check(sorted(got) == list(range(1, 1 + want)),
                  f"budget {budget}: partition {p} base offsets {sorted(got)[:8]}... expected 1..{want}")
        growth = peak_rss(b) - base
        waits = metric(b, "millrace_request_memory_waits_total") or 0
        # Units return when the writer pops the slot, just after the client has the answer.
        deadline = time.time() + 10
        while metric(b, "millrace_request_memory_bytes") != 0 and time.time() < deadline:
            time.sleep(0.05)
        check(metric(b, "millrace_request_memory_bytes") == 0, "request memory not all returned after the answers")
        return growth, waits
    finally:
        b.stop()


def case_budget_bounds_rss():
    connections = 40
    growth, waits = budget_case(2 * MiB, connections=connections)
    print(f"  2 MiB budget: peak RSS grew {growth / MiB:.1f} MiB, {waits:.0f} requests waited for memory")
    # Unbounded, the same load holds ~one frame per connection at once (~40 MiB);
    # bounded, two frames plus allocator slack.
    check(growth < 16 * MiB, f"peak RSS grew {growth / MiB:.1f} MiB with a 2 MiB request budget")
    check(waits > 0, "no request waited for memory under a 2 MiB budget with 40 x 1 MiB in flight")


def case_unbounded_reference():
    """The same load with the budget off (-1): shows what the bound is against,
    and that -1 is accepted. Not a pass/fail on memory (it depends on timing)."""
    growth, waits = budget_case(-1)
    print(f"  unbounded: peak RSS grew {growth / MiB:.1f} MiB, {waits:.0f} waits")
    check(waits == 0, "waits counted with the budget off")


def api_versions_answered(s):
    try:
        s.sendall(wire.api_versions_v0(7))
    except OSError:
        return False
    resp = wire.recv_frame(s)
    return resp is not None and struct.unpack(">i", resp[:4])[0] == 7


def case_max_connections():
    n = 3
    b = Broker(extra={"max.connections": str(n)}, name="maxconn")
    b.start()
    try:
        socks = [wire.connect(b.port, timeout=10) for _ in range(n)]
        for i, s in enumerate(socks):
            check(api_versions_answered(s), f"connection {i + 1} of {n} not served")
        extra = wire.connect(b.port, timeout=10)
        check(not api_versions_answered(extra), f"connection {n + 1} was served over max.connections={n}")
        extra.close()
        refused = metric(b, 'millrace_connections_refused_total{limit="max.connections"}')
        check(refused == 1, f"refusals counted {refused}, expected 1")
        socks.pop().close()
        deadline = time.time() + 10
        while metric(b, "millrace_connections") != n - 1 and time.time() < deadline:
            time.sleep(0.05)
        again = wire.connect(b.port, timeout=10)
        check(api_versions_answered(again), "a connection after one closed was not served")
        again.close()
        for s in socks:
            s.close()
        with open(b.log_path) as f:
            logged = f.read() + "".join(b.lines)  # spdlog writes to stdout, the broker's stdout is piped
        check("event=connection_refused limit=max.connections" in logged, "refusal not logged")
    finally:
        b.stop()


def case_queued_max_requests_refused():
    b = Broker(extra={"queued.max.requests": "100"}, name="queuedmax")
    try:
        b.start(timeout=20)
    except RuntimeError:
        pass
    else:
        b.stop()
        raise Failure("a broker with queued.max.requests=100 started")
    with open(b.log_path) as f:
        log = f.read()
    check("queued.max.requests" in log and "queued.max.request.bytes" in log,
          "the refusal does not name queued.max.requests and its replacement")


CASES = [case_budget_bounds_rss, case_unbounded_reference, case_max_connections, case_queued_max_requests_refused]


def main():
    only = sys.argv[1:]
    failed = []
    for case in CASES:
        if only and case.__name__ not in only:
            continue
        print(case.__name__, flush=True)
        t0 = time.time()
        try:
            case()
            print(f"  ok ({time.time() - t0:.1f} s)", flush=True)
        except Exception as e:  # noqa: BLE001 - report every case
            print(f"  FAIL {e}", flush=True)
            failed.append(case.__name__)
    print(f"{len(failed)} failed: {failed}" if failed else "all passed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
