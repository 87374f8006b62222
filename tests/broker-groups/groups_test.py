import os
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("MILLRACE_SOURCE", "."), "broker", "testing"))
from broker_proc import Broker  # noqa: E402
from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

TOPIC = "groups"
PARTITIONS = 6
GROUP = "g1"
RECORDS = 600


def consumer(broker, name):
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": GROUP, "client.id": name,
                  "enable.auto.commit": False, "auto.offset.reset": "earliest",
                  "session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
                  "partition.assignment.strategy": "range"})
    c.subscribe([TOPIC])
    return c


def converge(members, timeout=45):
    """Polls every member until their assignments partition the topic exactly."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        for c in members.values():
            c.poll(0.05)
        owners = {}
        for name, c in members.items():
            for tp in c.assignment():
                owners.setdefault(tp.partition, []).append(name)
        last = owners
        if sorted(owners) == list(range(PARTITIONS)) and all(len(v) == 1 for v in owners.values()) \
                and all(c.assignment() for c in members.values()):
            return owners
    raise SystemExit(f"assignments did not converge to one owner per partition: {last}")


def parse_assignment(data):
    """ConsumerProtocolAssignment: int16 version, [topic string, [int32]], user data."""
    pos = 2
    (ntopics,) = struct.unpack(">i", data[pos:pos + 4])
    pos += 4
    out = []
    for _ in range(ntopics):
        (n,) = struct.unpack(">h", data[pos:pos + 2])
        topic = data[pos + 2:pos + 2 + n].decode()
        pos += 2 + n
        (nparts,) = struct.unpack(">i", data[pos:pos + 4])
        pos += 4
        for _ in range(nparts):
            out.append((topic, struct.unpack(">i", data[pos:pos + 4])[0]))
            pos += 4
    return out


def check_broker_view(admin, members):
    """The coordinator's own view (DescribeGroups) agrees: one owner per partition."""
    groups = admin.list_groups(group=GROUP, timeout=10)
    if not groups or groups[0].state != "Stable":
        return False
    owned = {}
    for m in groups[0].members:
        for topic, p in parse_assignment(m.assignment):
            owned.setdefault(p, []).append(m.id)
    return len(groups[0].members) == len(members) and sorted(owned) == list(range(PARTITIONS)) \
        and all(len(v) == 1 for v in owned.values())


def main():
    broker = Broker(name="groups", extra={"group.initial.rebalance.delay.ms": 0}).start()
    try:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        admin.create_topics([NewTopic(TOPIC, PARTITIONS, 1)])[TOPIC].result(10)
        p = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all"})
        for i in range(RECORDS):
            p.produce(TOPIC, key=str(i).encode(), value=str(i).encode(), partition=i % PARTITIONS)
        p.flush(30)

        members = {}
        plan = ["+a", "+b", "+c", "-b", "+d", "-a", "+e", "-c", "-d"]
        generations = 0
        for step in plan:
            name = step[1:]
            if step[0] == "+":
                members[name] = consumer(broker, name)
            else:
                members.pop(name).close()  # LeaveGroup
            owners = converge(members)
            deadline = time.time() + 20
            while not check_broker_view(admin, members):
                for c in members.values():
                    c.poll(0.05)
                if time.time() > deadline:
                    raise SystemExit(f"after {step}: coordinator's view differs from the members' {owners}")
            generations += 1
            print(f"after {step}: members {sorted(members)} own {dict(sorted(owners.items()))}")

        # Consume everything with the two members left, commit, restart, check.
        consumed = 0
        deadline = time.time() + 60
        while consumed < RECORDS and time.time() < deadline:
            for c in members.values():
                m = c.poll(0.1)
                if m is not None and not m.error():
                    consumed += 1
        if consumed < RECORDS:
            raise SystemExit(f"consumed {consumed} of {RECORDS}")
        for c in members.values():
            c.commit(asynchronous=False)
        committed_before = {}
        for c in members.values():
            for tp in c.committed(c.assignment(), timeout=10):
                committed_before[tp.partition] = tp.offset
        for c in members.values():
            c.close()
        if sum(committed_before.values()) != RECORDS:
            raise SystemExit(f"committed offsets {committed_before} do not cover {RECORDS} records")

        rc = broker.stop()
        if rc != 0:
            raise SystemExit(f"broker exited {rc} on SIGTERM")
        broker.start()
        checker = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": GROUP})
        after = {tp.partition: tp.offset for tp in
                 checker.committed([TopicPartition(TOPIC, i) for i in range(PARTITIONS)], timeout=10)}
        checker.close()
        if after != committed_before:
            raise SystemExit(f"committed offsets changed across restart: {committed_before} -> {after}")
        print(f"PASS broker-groups: {generations} generations with one owner per partition; "
              f"offsets {after} survived SIGTERM restart")
    except BaseException:
        broker.dump_log()
        raise
    finally:
        broker.stop()


main()
