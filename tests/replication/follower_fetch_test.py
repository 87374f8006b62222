"""Reads from a follower for consumers that name their rack (KIP-392), real
broker processes on loopback. Brokers 1, 2, 3 are in racks r0, r1, r2, with
replica.selector.class = Kafka's RackAwareReplicaSelector; one partition of
replication factor 3.

Checks:
- with the selector, a librdkafka consumer (confluent-kafka) whose client.rack
  is a follower's rack reads every produced value exactly once and in order,
  half of them produced while it reads (the follower's high watermark moves
  as the leader's commits reach it); the follower served them: its
  millrace_fetch_follower_reads_total and per-topic records out grew, the
  leader answered with a preferred read replica
  (millrace_fetch_preferred_read_replica_total) and sent no record, the third
  broker sent nothing;
- kcat (librdkafka) and Apache Kafka's Java console consumer (4.1, from the
  peers cache) with the same client.rack read the same values, from that
  follower too;
- a consumer in the leader's own rack reads from the leader;
- a raw Fetch v12 from a consumer is answered by a follower, and by a broker
  holding no replica (a topic of replication factor 2) with
  NOT_LEADER_OR_FOLLOWER naming the leader (KIP-951);
- the cluster restarted without replica.selector.class (Kafka's default): the
  same consumer reads every value from the leader only, and no broker names a
  preferred read replica or serves a follower read.
Before each read every replica's high watermark is the leader's log end and
Metadata shows all three in sync: the leader names only a follower in its ISR
(one holding every committed entry, docs/cluster.md), and one a few
milliseconds behind after a produce is rightly not named. Every wait is
bounded."""
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "broker", "testing"))
sys.path.insert(0, os.path.join(HERE, "..", "cluster"))
from checks import check, finish  # noqa: E402
from cluster_proc import Cluster  # noqa: E402
from cluster_wire import create_topic, fetch_v12, metadata  # noqa: E402
from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from replicas import wait, agreed_leader  # noqa: E402

TOPIC = "nearby"
SELECTOR = "org.apache.kafka.common.replica.RackAwareReplicaSelector"
N = 200


def rack(i):
    return f"r{i - 1}"


def metric(text, name, labels=""):
    m = re.search(r"^" + re.escape(name + labels) + r" ([0-9.e+]+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


def counters(c):
    """Per node: (follower reads, preferred read replica answers, records of TOPIC sent)."""
    out = {}
    for i, b in c.nodes.items():
        t = b.metrics()
        out[i] = (metric(t, "millrace_fetch_follower_reads_total"),
                  metric(t, "millrace_fetch_preferred_read_replica_total"),
                  metric(t, "millrace_topic_records_out_total", f'{{topic="{TOPIC}"}}'))
    return out


def partition_gauge(text, name):
    for line in text.splitlines():
        if line.startswith(name + "{") and f'topic="{TOPIC}"' in line and 'partition="0"' in line:
            return float(line.rsplit(" ", 1)[1])
    return None


def caught_up(c, leader):
    """Every replica's high watermark is the leader's log end (each holds
    everything and knows it committed), and the leader still leads with all
    three in its ISR as Metadata shows it, twice 0.3 s apart: the leader's
    in-sync set is refreshed when its Raft group next runs, and a follower it
    last saw behind (during the produce) is rightly not named until then."""
    def now():
        leo = partition_gauge(c.nodes[leader].metrics(), "millrace_partition_log_end_offset")
        hws = [partition_gauge(b.metrics(), "millrace_partition_high_watermark") for b in c.nodes.values()]
        return (leo is not None and leo > 0 and all(hw == leo for hw in hws)
                and agreed_leader(c, list(c.nodes), TOPIC) == leader)
    if not now():
        return False
    time.sleep(0.3)
    return now()


def delta(after, before):
    return {i: tuple(a - b for a, b in zip(after[i], before[i])) for i in after}


def produce(c, values):
    p = Producer({"bootstrap.servers": c.bootstrap(), "acks": "all", "enable.idempotence": True,
                  "linger.ms": 5, "message.timeout.ms": 30000})
    for v in values:
        p.produce(TOPIC, v.encode(), partition=0)
    return p.flush(40) == 0


def read_librdkafka(c, client_rack, want, later=None, seconds=30):
    """Values read from offset 0 by a consumer in `client_rack`; `later`
    (values) produced once it has read the first half."""
    conf = {"bootstrap.servers": c.bootstrap(), "group.id": "ff", "enable.auto.commit": False,
            "auto.offset.reset": "earliest"}
    if client_rack:
        conf["client.rack"] = client_rack
    k = Consumer(conf)
    k.assign([TopicPartition(TOPIC, 0, 0)])
    got, deadline = [], time.monotonic() + seconds
    while len(got) < want and time.monotonic() < deadline:
        m = k.poll(0.2)
        if m is not None and not m.error():
            got.append(m.value().decode(errors="replace"))
        if later and len(got) >= want - len(later):
            check(produce(c, later), f"{len(later)} more values produced while the consumer reads")
            later = None
    end = time.monotonic() + 1  # anything more (a value read twice) shows within a second
    while time.monotonic() < end:
        m = k.poll(0.2)
        if m is not None and not m.error():
            got.append(m.value().decode(errors="replace"))
    k.close()
    return got


def run_lines(cmd, timeout):
    """The lines a command printed, also when it did not finish in time."""
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout).stdout.splitlines()
    except subprocess.TimeoutExpired as e:
        out = e.stdout or ""
        return (out.decode(errors="replace") if isinstance(out, bytes) else out).splitlines()


def read_kcat(c, client_rack, want):
    return run_lines(["kcat", "-C", "-b", c.bootstrap(), "-t", TOPIC, "-p", "0", "-o", "beginning", "-c",
                      str(want), "-q", "-f", "%s\n", "-X", f"client.rack={client_rack}"], 30)


def read_java(c, client_rack, want):
    """Apache Kafka's console consumer (its classes from the peers cache), or None when not cached."""
    peers = os.path.join(HERE, "..", "peers", "kafka")
    cp = subprocess.run(["bash", peers, "classpath"], capture_output=True, text=True, timeout=60).stdout.strip()
    if not cp:
        return None
    return run_lines(["java", "-cp", cp, "org.apache.kafka.tools.consumer.ConsoleConsumer",
                        "--bootstrap-server", c.bootstrap(), "--topic", TOPIC, "--partition", "0",
                        "--offset", "earliest", "--max-messages", str(want), "--timeout-ms", "20000",
                      "--consumer-property", f"client.rack={client_rack}"], 60)


def same(got, want):
    return f"{len(got)} read" + ("" if got == want else f": {got[:12]}...")


def main():
    t0 = time.monotonic()
    c = Cluster(3, extra={"replica.selector.class": SELECTOR})
    for i, b in c.nodes.items():
        b.extra["broker.rack"] = rack(i)
    c.start()
    nodes = [1, 2, 3]
    values = [f"v{i}" for i in range(N)]
    try:
        check(create_topic(c.nodes[1].bootstrap, TOPIC, 1, 3) == 0, f"{TOPIC}: replication factor 3")
        leader = wait(lambda: agreed_leader(c, nodes, TOPIC), 30, 0.2)
        check(bool(leader), f"node {leader} leads, all 3 in sync")
        check(produce(c, values[:N // 2]), f"{N // 2} values produced (acks=all)")
        leader = wait(lambda: agreed_leader(c, nodes, TOPIC), 15, 0.2)
        follower = next(i for i in nodes if i != leader)
        other = next(i for i in nodes if i not in (leader, follower))
        check(bool(wait(lambda: caught_up(c, leader), 15)), "every replica caught up, all in the leader's ISR")

        # librdkafka in the follower's rack, half the values produced meanwhile.
        before = counters(c)
        got = read_librdkafka(c, rack(follower), N, later=values[N // 2:])
        check(got == values, f"librdkafka with client.rack={rack(follower)} read every value once, in order: "
                             f"{same(got, values)}")
        d = delta(counters(c), before)
        check(d[follower][0] > 0 and d[follower][2] >= N,
              f"follower {follower} served them as a follower: {d[follower][0]:.0f} follower reads, "
              f"{d[follower][2]:.0f} records")
        check(d[leader][1] > 0 and d[leader][2] == 0,
              f"leader {leader} named a preferred read replica {d[leader][1]:.0f} times and sent no record "
              f"({d[leader][2]:.0f})")
        check(d[other] == (0, 0, 0), f"node {other} (rack {rack(other)}) served nothing: {d[other]}")

        check(bool(wait(lambda: caught_up(c, leader), 15)), "every replica caught up again")
        before = counters(c)
        got = read_kcat(c, rack(follower), N)
        check(got == values, f"kcat -X client.rack={rack(follower)} read every value once, in order: "
                             f"{same(got, values)}")
        d = delta(counters(c), before)
        check(d[follower][0] > 0 and d[follower][2] >= N and d[leader][2] == 0,
              f"kcat was served by follower {follower} ({d[follower][2]:.0f} records), the leader sent none")

        before = counters(c)
        got = read_java(c, rack(other), N)
        if got is None:
            print("skip Java console consumer: Apache Kafka not in the peers cache", flush=True)
        else:
            check(got == values, f"Java console consumer (client.rack={rack(other)}) read every value once, in "
                                 f"order: {same(got, values)}")
            d = delta(counters(c), before)
            check(d[other][0] > 0 and d[other][2] >= N and d[leader][2] == 0,
                  f"the Java consumer was served by follower {other} ({d[other][2]:.0f} records), the leader "
                  f"sent none")

        before = counters(c)
        got = read_librdkafka(c, rack(leader), N)
        check(got == values, f"librdkafka in the leader's rack {rack(leader)}: {same(got, values)}")
        d = delta(counters(c), before)
        check(d[leader][2] >= N and d[leader][1] == 0 and d[follower][2] == 0 and d[other][2] == 0,
              f"... served by leader {leader} alone ({d[leader][2]:.0f} records), no preferred read replica named")

        # Raw Fetch v12 (consumer, no rack): a follower answers it; a broker
        # holding no replica answers NOT_LEADER_OR_FOLLOWER naming the leader (KIP-951).
        err, _ = fetch_v12(c.nodes[follower].bootstrap, TOPIC, 0)
        check(err == 0, f"Fetch v12 to follower {follower}: answered (error {err})")
        check(create_topic(c.nodes[1].bootstrap, "pair", 1, 2) == 0, "pair: replication factor 2")
        pair = wait(lambda: (lambda v: v if v and v[0] == 0 and v[1] > 0 and len(v[3]) == 2 else None)(
            metadata(c.nodes[1].bootstrap)["topics"].get("pair", {}).get(0)), 15)
        if check(bool(pair), f"pair: leader and ISR {pair}"):
            outsider = next(i for i in nodes if i not in pair[2])
            err, hint = fetch_v12(c.nodes[outsider].bootstrap, "pair", 0)
            check(err == 6 and hint is not None and hint[0] == pair[1],
                  f"Fetch v12 to node {outsider}, no replica of pair: NOT_LEADER_OR_FOLLOWER naming leader "
                  f"{hint} (error {err})")

        # Kafka's default: no selector, reads from the leader only.
        c.stop()
        for b in c.nodes.values():
            b.extra.pop("replica.selector.class", None)
        c.start()
        leader = wait(lambda: agreed_leader(c, nodes, TOPIC), 30, 0.2)
        check(bool(leader), f"restarted without replica.selector.class: node {leader} leads, all 3 in sync")
        follower = next(i for i in nodes if i != leader)
        check(bool(wait(lambda: caught_up(c, leader), 15)), "every replica caught up")
        before = counters(c)
        got = read_librdkafka(c, rack(follower), N)
        check(got == values, f"without a selector, librdkafka with client.rack={rack(follower)}: "
                             f"{same(got, values)}")
        d = delta(counters(c), before)
        check(d[leader][2] >= N and all(d[i][2] == 0 for i in nodes if i != leader)
              and all(d[i][0] == 0 and d[i][1] == 0 for i in nodes),
              f"... from leader {leader} only ({d[leader][2]:.0f} records), no follower read, no preferred read "
              f"replica: {d}")
    finally:
        c.stop()
    print(f"  {time.monotonic() - t0:.1f} s", flush=True)
    finish(c, "follower fetch (KIP-392)")  # exits 1 on a failure, keeping the nodes' data and logs
    shutil.rmtree(c.root, ignore_errors=True)


if __name__ == "__main__":
    main()
