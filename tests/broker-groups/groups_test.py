import os
import socket
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


def consumer(broker, name, group=GROUP, session_timeout_ms=6000):
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group, "client.id": name,
                  "enable.auto.commit": False, "auto.offset.reset": "earliest",
                  "session.timeout.ms": session_timeout_ms, "heartbeat.interval.ms": 500,
                  "partition.assignment.strategy": "range"})
    c.subscribe([TOPIC])
    return c


def poll_into(c, timeout, seen):
    """One poll; a record it returns is kept in `seen` as (partition, offset).
    Every poll goes through here: a poll made only to drive the rebalance can
    return a record too, and dropping it would make the final count come up short."""
    m = c.poll(timeout)
    if m is not None and not m.error():
        seen.add((m.partition(), m.offset()))


def converge(members, seen, timeout=45):
    """Polls every member until their assignments partition the topic exactly."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        for c in members.values():
            poll_into(c, 0.05, seen)
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


def kstr(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def heartbeat(broker, group, member_id, generation):
    """Raw Heartbeat v0 (api key 12): the coordinator's error code for this
    (member, generation); 0 only if it knows the member in that generation."""
    body = kstr(group) + struct.pack(">i", generation) + kstr(member_id)
    req = struct.pack(">hhi", 12, 0, 7) + kstr("hb-probe") + body
    host, port = broker.bootstrap.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(struct.pack(">i", len(req)) + req)
        data = b""
        while len(data) < 4 or len(data) < 4 + struct.unpack(">i", data[:4])[0]:
            chunk = s.recv(4096)
            if not chunk:
                raise SystemExit("heartbeat probe: connection closed")
            data += chunk
    _, corr, err = struct.unpack(">iih", data[:10])
    return err


def group_members(admin, group):
    groups = admin.list_groups(group=group, timeout=10)
    if not groups:
        return None, {}
    return groups[0].state, {m.id: m for m in groups[0].members}


def restart_keeps_membership(broker, admin):
    """A Stable group comes back Stable after SIGTERM with the same generation
    and member ids: the members' heartbeats and commits succeed without a rejoin."""
    group = "g-restart"
    # The members must outlive the broker's restart without their session timing
    # out client-side: a slow start (the ASan build on a loaded host took 25 s)
    # must not turn into a rejoin, so give them a long session timeout.
    members = {n: consumer(broker, n, group, session_timeout_ms=60000) for n in ("r1", "r2")}
    converge(members, set())
    deadline = time.time() + 20
    while True:
        for c in members.values():
            c.poll(0.05)
        state, before = group_members(admin, group)
        if state == "Stable" and len(before) == 2 and all(m.assignment for m in before.values()):
            break
        if time.time() > deadline:
            raise SystemExit(f"group {group} did not become Stable with 2 members: {state} {list(before)}")
    some_id = next(iter(before))
    generation = next((g for g in range(1, 100) if heartbeat(broker, group, some_id, g) == 0), None)
    if generation is None:
        raise SystemExit(f"no generation 1..99 accepted for member {some_id}")
    consumed = 0
    deadline = time.time() + 30
    while consumed < 10 and time.time() < deadline:
        for c in members.values():
            m = c.poll(0.1)
            if m is not None and not m.error():
                consumed += 1

    rc = broker.stop()
    if rc != 0:
        raise SystemExit(f"broker exited {rc} on SIGTERM")
    broker.start()

    state, after = group_members(admin, group)
    if state != "Stable" or set(after) != set(before):
        raise SystemExit(f"after restart group is {state} with {sorted(after)}, expected Stable {sorted(before)}")
    for mid, m in after.items():
        if m.assignment != before[mid].assignment:
            raise SystemExit(f"member {mid}'s assignment changed across restart")
    for mid in before:
        err = heartbeat(broker, group, mid, generation)
        if err != 0:
            raise SystemExit(f"after restart heartbeat of {mid} in generation {generation} got error {err}")
    # The real members commit with their (unchanged) member ids and generation.
    for name, c in members.items():
        c.poll(0.1)
        c.commit(offsets=[TopicPartition(TOPIC, tp.partition, 1) for tp in c.assignment()], asynchronous=False)
    state, final = group_members(admin, group)
    if set(final) != set(before):
        raise SystemExit(f"members rejoined after restart: {sorted(before)} -> {sorted(final)}")
    checker = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group})
    got = {tp.partition: tp.offset for tp in
           checker.committed([TopicPartition(TOPIC, i) for i in range(PARTITIONS)], timeout=10)}
    checker.close()
    if got != {i: 1 for i in range(PARTITIONS)}:
        raise SystemExit(f"commits after restart not stored: {got}")
    for c in members.values():
        c.close()
    print(f"PASS restart keeps membership: group {group} Stable in generation {generation} with "
          f"{len(before)} members before and after SIGTERM; heartbeats and commits accepted")


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
            # Records the members read since this step began. Nothing is committed
            # during the plan, so after each rebalance the members start again from
            # the earliest offset; what is read after the last step is what counts.
            seen = set()
            name = step[1:]
            if step[0] == "+":
                members[name] = consumer(broker, name)
            else:
                members.pop(name).close()  # LeaveGroup
            owners = converge(members, seen)
            deadline = time.time() + 20
            while not check_broker_view(admin, members):
                for c in members.values():
                    poll_into(c, 0.05, seen)
                if time.time() > deadline:
                    raise SystemExit(f"after {step}: coordinator's view differs from the members' {owners}")
            generations += 1
            print(f"after {step}: members {sorted(members)} own {dict(sorted(owners.items()))}")

        # Consume everything with the member left, commit, restart, check.
        deadline = time.time() + 60
        while len(seen) < RECORDS and time.time() < deadline:
            for c in members.values():
                poll_into(c, 0.1, seen)
        if len(seen) < RECORDS:
            raise SystemExit(f"consumed {len(seen)} of {RECORDS}")
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
        restart_keeps_membership(broker, admin)
    except BaseException:
        broker.dump_log()
        raise
    finally:
        broker.stop()


main()
