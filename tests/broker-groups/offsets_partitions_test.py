"""Groups per __consumer_offsets partition (issue 15): the topic is created
with offsets.topic.num.partitions (50 by default); each group's commits land on
the partition Kafka's formula names (abs(Java hashCode) % 50), checked against
the records on disk; and a data dir whose offsets topic has one partition (from
before) keeps it across a restart with the new default, every group's offsets
still there."""
import glob
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.environ.get("MILLRACE_SOURCE", "."), "broker", "testing"))
from broker_proc import Broker  # noqa: E402
from confluent_kafka import Consumer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

failures = []


def java_hash(s):
    h = 0
    b = s.encode("utf-16-be", "surrogatepass")
    for i in range(0, len(b), 2):
        h = (h * 31 + int.from_bytes(b[i:i + 2], "big")) & 0xFFFFFFFF
    return h


def commit(broker, group, offset):
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group, "enable.auto.commit": False})
    c.commit(offsets=[TopicPartition("t", 0, offset)], asynchronous=False)
    c.close()


def committed(broker, group):
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group, "enable.auto.commit": False})
    got = c.committed([TopicPartition("t", 0)], timeout=20)[0].offset
    c.close()
    return got


def offsets_partitions(data):
    return sorted(int(d.rsplit("-", 1)[1]) for d in glob.glob(os.path.join(data, "__consumer_offsets-*")))


def holds(data, partition, group):
    """True when the partition's log has a record key of `group`: an offset key
    (version 1) or a group key (version 2), each starting with the group id as a
    length-prefixed string (coordination/offsets_format.h). Matching the whole
    prefix, not the bare id, keeps a short id like "a" from matching other bytes."""
    seg = os.path.join(data, f"__consumer_offsets-{partition}", "00000000000000000000.log")
    if not os.path.exists(seg):
        return False
    g = group.encode()
    text = open(seg, "rb").read()
    named = struct.pack(">h", len(g)) + g
    return any(struct.pack(">h", v) + named in text for v in (0, 1, 2))


def main():
    groups = ["my-group", "console-consumer-12345", "a", "grüppe"]
    broker = Broker(name="offsets-50").start()
    try:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        admin.create_topics([NewTopic("t", 1, 1)])["t"].result(10)
        for i, g in enumerate(groups):
            commit(broker, g, 10 + i)
        broker.stop()
        if offsets_partitions(broker.data_dir) != list(range(50)):
            failures.append(f"__consumer_offsets partitions on disk: {offsets_partitions(broker.data_dir)}")
        for g in groups:
            want = (java_hash(g) & 0x7FFFFFFF) % 50
            where = [p for p in range(50) if holds(broker.data_dir, p, g)]
            if where != [want]:
                failures.append(f"group {g!r} is on partitions {where}, Kafka's formula says {want}")
    except BaseException:
        broker.dump_log()
        raise
    finally:
        broker.stop()

    old = Broker(name="offsets-1", extra={"offsets.topic.num.partitions": "1"}).start()
    try:
        admin = AdminClient({"bootstrap.servers": old.bootstrap})
        admin.create_topics([NewTopic("t", 1, 1)])["t"].result(10)
        for i, g in enumerate(groups):
            commit(old, g, 20 + i)
        old.stop()
        del old.extra["offsets.topic.num.partitions"]  # restart with the default (50)
        old.start()
        for i, g in enumerate(groups):
            got = committed(old, g)
            if got != 20 + i:
                failures.append(f"after the restart group {g!r} has offset {got}, want {20 + i}")
        commit(old, "new-group", 7)
        if committed(old, "new-group") != 7:
            failures.append("a new group cannot commit on the one-partition offsets topic")
        old.stop()
        if offsets_partitions(old.data_dir) != [0]:
            failures.append(f"the one-partition offsets topic became {offsets_partitions(old.data_dir)}")
    except BaseException:
        old.dump_log()
        raise
    finally:
        old.stop()
    for f in failures:
        print("FAIL offsets partitions:", f)
    if not failures:
        print("PASS offsets partitions: 50 by default, groups where Kafka puts them, an old 1-partition topic kept")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
