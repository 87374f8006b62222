"""The log start of replicated partitions, on real broker processes on loopback:
DeleteRecords moves it on every replica (a LogStart Raft entry, answered once
committed), and a follower that was down while retention moved the leader's
log start past its log end catches up from there (Raft's snapshot, carried
between brokers by the replication codec).

Checks, on a 3-node cluster:
(a) topic `deleted`, one partition, replication factor 3, 100 records:
  - with both followers stopped (SIGSTOP), DeleteRecords is not answered as
    done: it cannot commit (REQUEST_TIMED_OUT after its timeout_ms, or
    NOT_LEADER_OR_FOLLOWER once the leader steps down);
  - followers back, DeleteRecords before 60 on the leader: answered 0 with low
    watermark 60; ListOffsets earliest there is 60;
  - the leader killed (kill -9): the new leader's ListOffsets earliest is 60 at
    once (no wait), a consumer from offset 0 / earliest reads exactly the
    records from 60 on, and ListOffsets earliest stays 60 after the old leader
    is back in sync (made leader again by ElectLeaders PREFERRED when it is
    the preferred replica).
Planted bugs each check was seen to catch: DeleteRecords moving the leader's
log only (the kill -9 checks), answered on the leader's own append (the
stopped-followers check), followers ignoring LogStart entries (the kill -9
checks), the Raft snapshot's term dropped by the replication codec (the
catch-up, log start and serving checks of (b)).
(b) topic `retained` (segment.bytes 2048, retention.bytes 8192): a follower
  stopped (SIGTERM), 1200 more records, retention moves the leader's log start
  far past the follower's log end (and past what the leader's appends queued
  for it while it was down can bring); retention turned off (AlterConfigs) and the
  follower restarted: it is in sync, its first batch starts at the leader's log
  start and its batches from there are the leader's byte for byte; made leader
  (ElectLeaders PREFERRED: it is the preferred replica) it serves every record
  from that log start on, offsets and values as the old leader served them (no
  gap, no reuse), and takes new records at the next offsets.
Every wait is bounded."""
import os
import signal
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "broker", "testing"))
sys.path.insert(0, os.path.join(HERE, "..", "cluster"))
from checks import check, finish  # noqa: E402
from cluster_proc import Cluster  # noqa: E402
from cluster_wire import call, elect_leaders, header, metadata  # noqa: E402
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition  # noqa: E402
from replicas import wait, log_batches  # noqa: E402

DELETED = "deleted"
RETAINED = "retained"
REQUEST_TIMED_OUT = 7
NOT_LEADER = 6


def s16(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def create_topic(bootstrap, name, configs):
    """CreateTopics v2, one partition of replication factor 3 with `configs`: its error code."""
    body = struct.pack(">i", 1) + s16(name) + struct.pack(">ihi", 1, 3, 0)
    body += struct.pack(">i", len(configs)) + b"".join(s16(k) + s16(v) for k, v in configs.items())
    body += struct.pack(">ib", 10000, 0)
    r = call(bootstrap, header(19, 2) + body)
    r.take(">i")
    r.take(">i")
    r.string()
    return r.take(">h")


def alter_configs(bootstrap, name, configs):
    """AlterConfigs v0 of a topic (the whole set): its error code."""
    body = struct.pack(">i", 1) + struct.pack(">b", 2) + s16(name)
    body += struct.pack(">i", len(configs)) + b"".join(s16(k) + s16(v) for k, v in configs.items())
    body += struct.pack(">b", 0)
    r = call(bootstrap, header(33, 0) + body)
    r.take(">i")
    r.take(">i")
    return r.take(">h")


def delete_records(bootstrap, topic, offset, timeout_ms):
    """DeleteRecords v0 of partition 0 on ONE broker: (error, low watermark)."""
    body = struct.pack(">i", 1) + s16(topic) + struct.pack(">iiq", 1, 0, offset) + struct.pack(">i", timeout_ms)
    r = call(bootstrap, header(21, 0) + body, timeout=timeout_ms / 1000 + 10)
    r.take(">i")  # throttle
    r.take(">i")
    r.string()
    r.take(">i")
    r.take(">i")  # partition
    low = r.take(">q")
    return r.take(">h"), low


def earliest(bootstrap, topic):
    """ListOffsets v1 earliest of partition 0 on ONE broker: (error, offset)."""
    body = struct.pack(">i", -1) + struct.pack(">i", 1) + s16(topic) + struct.pack(">iiq", 1, 0, -2)
    r = call(bootstrap, header(2, 1) + body)
    r.take(">i")
    r.string()
    r.take(">i")
    r.take(">i")  # partition
    err = r.take(">h")
    r.take(">q")  # timestamp
    return err, r.take(">q")


def view(c, topic, nodes):
    """(leader, replicas) when every node in `nodes` agrees and all are in sync, else None."""
    views = [metadata(c.nodes[i].bootstrap)["topics"].get(topic, {}).get(0) for i in nodes]
    if not views[0] or any(v != views[0] for v in views):
        return None
    err, leader, replicas, isr = views[0]
    return (leader, replicas) if err == 0 and leader in nodes and sorted(isr) == sorted(nodes) else None


def leader_among(c, topic, nodes):
    """The leader when the live nodes `nodes` agree on one of them (ISR aside)."""
    views = [metadata(c.nodes[i].bootstrap)["topics"].get(topic, {}).get(0) for i in nodes]
    if not views[0] or any(v != views[0] for v in views):
        return None
    return views[0][1] if views[0][0] == 0 and views[0][1] in nodes else None


def produce(c, topic, values):
    # Small batches: retention deletes whole segments of 2 KiB.
    p = Producer({"bootstrap.servers": c.bootstrap(), "acks": "all", "enable.idempotence": True,
                  "linger.ms": 5, "batch.num.messages": 4, "message.timeout.ms": 30000})
    for v in values:
        p.produce(topic, v.encode(), partition=0)
    return p.flush(40) == 0


def read(c, topic, start, want, seconds=20):
    """(offset, value) pairs read from `start` until `want` were read, or the
    end once something was."""
    k = Consumer({"bootstrap.servers": c.bootstrap(), "group.id": f"read-{topic}", "enable.auto.commit": False,
                  "auto.offset.reset": "earliest", "enable.partition.eof": True})
    k.assign([TopicPartition(topic, 0, start)])
    got, deadline = [], time.monotonic() + seconds
    while len(got) < want and time.monotonic() < deadline:
        m = k.poll(0.5)
        if m is not None and m.error() and m.error().code() == KafkaError._PARTITION_EOF and got:
            break
        if m is not None and not m.error():
            got.append((m.offset(), m.value().decode(errors="replace")))
    k.close()
    return got


def make_leader(c, topic, node, nodes, seconds=30):
    """ElectLeaders PREFERRED until `node` (the preferred replica) leads."""
    def leads():
        if view(c, topic, nodes) and view(c, topic, nodes)[0] == node:
            return True
        elect_leaders(c.nodes[node].bootstrap, 0, {topic: [0]}, timeout_ms=3000)
        return None
    return bool(wait(leads, seconds, 0.5))


def deleted_records(c):
    nodes = [1, 2, 3]
    check(create_topic(c.nodes[1].bootstrap, DELETED, {}) == 0, f"{DELETED}: replication factor 3")
    v = wait(lambda: view(c, DELETED, nodes), 30, 0.2)
    values = [f"d{i}" for i in range(100)]
    check(bool(v) and produce(c, DELETED, values), f"100 records through leader {v and v[0]}")
    leader, replicas = wait(lambda: view(c, DELETED, nodes), 30, 0.2)
    followers = [i for i in nodes if i != leader]
    before = read(c, DELETED, 0, len(values))  # offsets as served (LeaderChange entries take some)
    kept = [(o, v) for o, v in before if o >= 60]

    # Followers stopped: the deletion cannot commit, so it is not answered as done.
    for f in followers:
        os.kill(c.nodes[f].proc.pid, signal.SIGSTOP)
    try:
        err, low = delete_records(c.nodes[leader].bootstrap, DELETED, 30, 300)
    finally:
        for f in followers:
            os.kill(c.nodes[f].proc.pid, signal.SIGCONT)
    check(err in (REQUEST_TIMED_OUT, NOT_LEADER), f"DeleteRecords with both followers stopped: error {err} "
                                                  f"(REQUEST_TIMED_OUT or NOT_LEADER_OR_FOLLOWER), not done")

    leader, replicas = wait(lambda: view(c, DELETED, nodes), 30, 0.2)
    err, low = delete_records(c.nodes[leader].bootstrap, DELETED, 60, 10000)
    check(err == 0 and low == 60, f"DeleteRecords before 60 on leader {leader}: error {err}, low watermark {low}")
    check(earliest(c.nodes[leader].bootstrap, DELETED) == (0, 60), f"leader {leader}: ListOffsets earliest "
                                                                  f"{earliest(c.nodes[leader].bootstrap, DELETED)}")

    c.nodes[leader].kill9()
    rest = [i for i in nodes if i != leader]
    after = wait(lambda: leader_among(c, DELETED, rest), 30, 0.1)
    first = wait(lambda: earliest(c.nodes[after].bootstrap, DELETED) if after else None, 5, 0.05)
    check(bool(after) and first == (0, 60), f"kill -9 of leader {leader}: new leader {after}'s ListOffsets "
                                            f"earliest, first answer: {first}")
    got = read(c, DELETED, 0, len(kept))
    check(len(before) == 100 and len(kept) > 0 and got == kept,
          f"a consumer from offset 0 reads exactly the {len(kept)} records from offset 60 on: {len(got)} read, "
          f"first {got[:1]}, expected first {kept[:1]}")
    c.nodes[leader].start()
    back = make_leader(c, DELETED, leader, nodes) if leader == replicas[0] else bool(
        wait(lambda: view(c, DELETED, nodes), 45, 0.2))
    now = wait(lambda: view(c, DELETED, nodes), 30, 0.2)
    e = earliest(c.nodes[now[0]].bootstrap, DELETED) if now else None
    check(back and e == (0, 60), f"node {leader} back (leader now {now and now[0]}): ListOffsets earliest {e}")


def retained(c):
    nodes = [1, 2, 3]
    configs = {"segment.bytes": "2048", "retention.bytes": "8192"}
    check(create_topic(c.nodes[1].bootstrap, RETAINED, configs) == 0, f"{RETAINED}: {configs}")
    v = wait(lambda: view(c, RETAINED, nodes), 30, 0.2)
    check(bool(v) and produce(c, RETAINED, [f"r{i:04d}" + "x" * 90 for i in range(20)]), "20 records")
    v = wait(lambda: view(c, RETAINED, nodes), 30, 0.2)
    follower = v[1][0]  # the preferred replica: stopped as a follower, then made leader again
    behind = c.nodes[follower]
    behind.stop()  # SIGTERM: a leader hands its leadership over first
    rest = [i for i in nodes if i != follower]
    end = max(o for o, _ in log_batches(behind, RETAINED)) if log_batches(behind, RETAINED) else 0
    check(produce(c, RETAINED, [f"r{i:04d}" + "x" * 90 for i in range(20, 1220)]), f"1200 more records, node "
                                                                                   f"{follower} stopped at {end}")
    leader = wait(lambda: leader_among(c, RETAINED, rest), 30, 0.2)
    # Far past the follower's end: the leader's appends to it sent while it
    # was down (up to 64 in flight, a batch of 4 records each or so) wait in
    # the leader's link and reach it at its restart; those it may take, the
    # rest must come from the leader's log start on. Retention keeps about the
    # last 8 KiB (some 80 records of the 1221 offsets): wait for it.
    reach = max(end + 1 + 64 * 4 * 2, 1000)
    start = wait(lambda: earliest(c.nodes[leader].bootstrap, RETAINED)[1]
                 if earliest(c.nodes[leader].bootstrap, RETAINED)[1] > reach else None, 20, 0.2)
    check(bool(start), f"retention moved leader {leader}'s log start to {start}, past node {follower}'s log end "
                       f"and anything sent to it while it was down (offset {reach})")
    check(alter_configs(c.nodes[leader].bootstrap, RETAINED, {"segment.bytes": "2048", "retention.bytes": "-1"}) == 0,
          "retention.bytes -1: the log starts stay where they are")
    time.sleep(1)  # the config reaches every broker's partition
    start = earliest(c.nodes[leader].bootstrap, RETAINED)[1]
    served = read(c, RETAINED, start, 2000, seconds=10)
    behind.start()
    v = wait(lambda: view(c, RETAINED, nodes), 30, 0.2)
    check(bool(v), f"node {follower} restarted and in sync (leader {v and v[0]})")

    def same():
        a, b = log_batches(c.nodes[leader], RETAINED), log_batches(behind, RETAINED)
        a = [x for x in a if x[0] >= start]
        return bool(b) and b[0][0] == start and a == b
    ok = wait(same, 15, 0.2)
    b = log_batches(behind, RETAINED)
    check(bool(ok), f"node {follower}'s log starts at the leader's log start {start} (its first batch at "
                    f"{b[0][0] if b else None}) and holds the leader's batches from there, byte for byte")
    check(make_leader(c, RETAINED, follower, nodes), f"node {follower} leads")
    e = earliest(behind.bootstrap, RETAINED)
    check(e == (0, start), f"node {follower} as leader: ListOffsets earliest {e}, the old leader's {start}")
    again = read(c, RETAINED, 0, len(served), seconds=10)
    check(len(served) > 0 and again == served, f"node {follower} serves the {len(served)} records from {start} "
                                               f"as leader {leader} did (offsets and values; {len(again)} read)")
    last = served[-1][0] if served else -1
    check(produce(c, RETAINED, ["after"]), "one more record")
    got = read(c, RETAINED, last + 1, 1, seconds=10)
    check(len(got) == 1 and got[0][1] == "after" and got[0][0] > last,
          f"the new record lands past the last one ({last}): {got}")


def main():
    c = Cluster(3, extra={"log.retention.check.interval.ms": "300"}).start()
    try:
        deleted_records(c)
        retained(c)
    finally:
        c.stop()
    finish(c, "log start of replicated partitions")


if __name__ == "__main__":
    main()
