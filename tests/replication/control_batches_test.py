"""Consumers never see Raft's own entries, real broker processes on loopback
(issue 18). A replicated partition's log holds a LeaderChange control batch at
each new term; Kafka's partitions never do, and clients differ in how they
treat control records they did not expect (kafka-python 2.0.2 hands them to the
application as records; an empty batch in its place stalls kafkajs and crashes
kafka-python). Fetch never sends one (broker/handlers/fetch.cc): clients see
an offset gap, as compaction leaves.

Checks, on a 3-node cluster, one partition of replication factor 3:
- records produced, the leader killed (kill -9) and restarted, more records
  produced, the leader killed again: the log now holds LeaderChange entries
  before, between and after the records (the offsets prove it: the end of data
  is above the record count);
- kafka-python 2.0.2 (Debian's) reads exactly the produced values, in order,
  nothing else, and its position stops at most at the log end;
- librdkafka (confluent-kafka) reads exactly the produced values, in order,
  and then reaches the partition's end (enable.partition.eof, what kcat -e
  waits for): the LeaderChange entry after the last record is not waited for;
- ListOffsets latest is the last record's offset + 1 while the leader's high
  watermark (its metrics) is above it: a group that read everything has no lag.
Every wait is bounded."""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "broker", "testing"))
sys.path.insert(0, os.path.join(HERE, "..", "cluster"))
from checks import check, finish  # noqa: E402
from cluster_proc import Cluster  # noqa: E402
from cluster_wire import create_topic  # noqa: E402
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition  # noqa: E402
from replicas import wait, agreed_leader  # noqa: E402

TOPIC = "controlled"


def produce(c, values):
    p = Producer({"bootstrap.servers": c.bootstrap(), "acks": "all", "enable.idempotence": True,
                  "message.timeout.ms": 30000})
    for v in values:
        p.produce(TOPIC, v.encode(), partition=0)
    return p.flush(40) == 0


def end_offset(c):
    k = Consumer({"bootstrap.servers": c.bootstrap(), "group.id": "probe"})
    try:
        return k.get_watermark_offsets(TopicPartition(TOPIC, 0), timeout=10)[1]
    finally:
        k.close()


def read_kafka_python(c, want, seconds=30):
    """Values read by kafka-python 2.0.2 from the start, and its position then."""
    from kafka import KafkaConsumer, TopicPartition as KTP
    k = KafkaConsumer(bootstrap_servers=c.bootstrap().split(","), enable_auto_commit=False,
                      auto_offset_reset="earliest", api_version=(2, 5, 0), consumer_timeout_ms=1000)
    tp = KTP(TOPIC, 0)
    k.assign([tp])
    k.seek_to_beginning(tp)
    got, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        for m in k:
            got.append(m.value.decode(errors="replace"))
        if len(got) >= want:
            # One more poll lets it step over a trailing LeaderChange.
            k.poll(timeout_ms=1000)
            break
    pos = k.position(tp)
    k.close()
    return got, pos


def read_librdkafka(c, want, seconds=30):
    """Values read by librdkafka from the start, the last one's offset, and
    whether the partition's end was reported after it (enable.partition.eof)."""
    k = Consumer({"bootstrap.servers": c.bootstrap(), "group.id": "lr", "enable.auto.commit": False,
                  "auto.offset.reset": "earliest", "enable.partition.eof": True})
    k.assign([TopicPartition(TOPIC, 0, 0)])
    got, last, eof, deadline = [], None, False, time.monotonic() + seconds
    while not (len(got) >= want and eof) and time.monotonic() < deadline:
        m = k.poll(0.5)
        if m is None:
            continue
        if m.error():
            eof = m.error().code() == KafkaError._PARTITION_EOF and len(got) >= want
            continue
        got.append(m.value().decode(errors="replace"))
        last, eof = m.offset(), False
    # Anything more (a control record taken for a record) shows within a second.
    end = time.monotonic() + 1
    while time.monotonic() < end:
        m = k.poll(0.2)
        if m is not None and not m.error():
            got.append(m.value().decode(errors="replace"))
    k.close()
    return got, last, eof


def leader_high_watermark(c, leader):
    """millrace_partition_high_watermark of the partition on `leader` (its /metrics)."""
    for line in c.nodes[leader].metrics().splitlines():
        if line.startswith("millrace_partition_high_watermark{") and f'topic="{TOPIC}"' in line:
            return int(float(line.split()[-1]))
    return None


def main():
    c = Cluster(3).start()
    try:
        nodes = [1, 2, 3]
        check(create_topic(c.nodes[1].bootstrap, TOPIC, 1, 3) == 0, f"{TOPIC}: replication factor 3")
        first = wait(lambda: agreed_leader(c, nodes, TOPIC), 30, 0.2)
        values = [f"v{i}" for i in range(20)]
        check(bool(first) and produce(c, values[:10]), f"10 records through leader {first}")
        for round_ in (1, 2):
            leader = wait(lambda: agreed_leader(c, nodes, TOPIC), 30, 0.2)
            c.nodes[leader].kill9()
            rest = [i for i in nodes if i != leader]
            after = wait(lambda: agreed_leader(c, rest, TOPIC), 30, 0.2)
            check(bool(after), f"kill -9 of leader {leader}: node {after} leads")
            c.nodes[leader].start()
            back = wait(lambda: agreed_leader(c, nodes, TOPIC), 45, 0.2)
            check(bool(back), f"node {leader} back in sync (leader {back})")
            if round_ == 1:
                check(produce(c, values[10:]), "10 more records")
        end = wait(lambda: end_offset(c) if end_offset(c) > len(values) else None, 15, 0.5)
        check(bool(end), f"the end of data {end} is above the {len(values)} records: LeaderChange entries hold offsets "
                         f"before and between them")
        got, pos = read_kafka_python(c, len(values))
        check(got == values, f"kafka-python 2.0.2 read exactly the {len(values)} records, in order: "
                             f"{len(got)} read{'' if got == values else f': {got[:25]}'}")
        check(pos is not None and pos <= end, f"kafka-python's position {pos} is within the log end {end}")
        got, last, eof = read_librdkafka(c, len(values))
        check(got == values, f"librdkafka read exactly the {len(values)} records, in order: {len(got)} read"
                             f"{'' if got == values else f': {got[:25]}'}")
        check(eof, "librdkafka then reached the partition's end (enable.partition.eof, as kcat -e): "
                   "the LeaderChange entry after the last record is not waited for")
        leader = wait(lambda: agreed_leader(c, nodes, TOPIC), 30, 0.2)
        hw = leader_high_watermark(c, leader) if leader else None
        check(last is not None and end == last + 1 and hw is not None and hw > end,
              f"ListOffsets latest {end} is the last record's offset {last} + 1, the leader's high watermark {hw} "
              f"above it (LeaderChange entries after the last record): a group that read everything has no lag")
    finally:
        c.stop()
    finish(c, "control batches hidden from consumers")


if __name__ == "__main__":
    main()
