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
  between the records and at its end (the offsets prove it: the log end is
  above the record count);
- kafka-python 2.0.2 (Debian's) reads exactly the produced values, in order,
  nothing else, and its position stops at most at the log end;
- librdkafka (confluent-kafka) reads exactly the produced values, in order.
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
from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
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
    k = Consumer({"bootstrap.servers": c.bootstrap(), "group.id": "lr", "enable.auto.commit": False,
                  "auto.offset.reset": "earliest"})
    k.assign([TopicPartition(TOPIC, 0, 0)])
    got, deadline = [], time.monotonic() + seconds
    while len(got) < want and time.monotonic() < deadline:
        m = k.poll(0.5)
        if m is not None and not m.error():
            got.append(m.value().decode(errors="replace"))
    # Anything more (a control record taken for a record) shows within a second.
    end = time.monotonic() + 1
    while time.monotonic() < end:
        m = k.poll(0.2)
        if m is not None and not m.error():
            got.append(m.value().decode(errors="replace"))
    k.close()
    return got


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
        check(bool(end), f"the log end {end} is above the {len(values)} records: LeaderChange entries hold offsets "
                         f"between them and at the end")
        got, pos = read_kafka_python(c, len(values))
        check(got == values, f"kafka-python 2.0.2 read exactly the {len(values)} records, in order: "
                             f"{len(got)} read{'' if got == values else f': {got[:25]}'}")
        check(pos is not None and pos <= end, f"kafka-python's position {pos} is within the log end {end}")
        got = read_librdkafka(c, len(values))
        check(got == values, f"librdkafka read exactly the {len(values)} records, in order: {len(got)} read"
                             f"{'' if got == values else f': {got[:25]}'}")
    finally:
        c.stop()
    finish(c, "control batches hidden from consumers")


if __name__ == "__main__":
    main()
