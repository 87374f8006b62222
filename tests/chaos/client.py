"""The chaos suite's client, run inside the client's network namespace (the
host is not on the test network). Modes:

  workload SEED SECONDS ADDR,ADDR,...   CreateTopics with unique names through a
                                        random broker each time, one JSON line per
                                        attempt: {"name", "node", "t", "outcome", "code"}
                                        outcome: ok (acknowledged), failed (an error
                                        code), unknown (timeout, connection lost)
  topics ADDR                           the topic names of one broker's Metadata, one JSON line
  produce SEED SECONDS BOOTSTRAP TOPIC PARTITIONS
                                        an idempotent librdkafka producer (acks=all) writing unique
                                        values round-robin to the partitions; one JSON line per
                                        delivery report: {"v", "p", "o", "outcome", "error"}
  consume BOOTSTRAP TOPIC PARTITIONS    every record of the topic from the start, in order per
                                        partition: one JSON line per record {"v", "p", "o"}
  group SECONDS BOOTSTRAP TOPIC PARTITIONS GROUP
                                        a consumer group member reading the topic and committing
                                        its position synchronously every 0.5 s, and a probe reading
                                        the group's committed offsets (OffsetFetch) every 0.5 s:
                                        {"commit": {p: o}, "ok": bool} and {"fetched": {p: o}}
  committed BOOTSTRAP TOPIC PARTITIONS GROUP
                                        the group's committed offsets once: {"fetched": {p: o}}
"""
import json
import os
import random
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cluster"))
from cluster_wire import create_topic, metadata  # noqa: E402


def workload(seed, seconds, addrs):
    rng = random.Random(seed)
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        node = rng.randrange(len(addrs))
        name = f"w{seed}-{i}"
        i += 1
        t0 = time.monotonic()
        try:
            code = create_topic(addrs[node], name, 1, timeout=3)
            outcome = "ok" if code == 0 else "failed"
        except (OSError, ConnectionError, socket.timeout, ValueError, IndexError):
            code, outcome = None, "unknown"
        print(json.dumps({"name": name, "node": node + 1, "t": round(t0, 3), "outcome": outcome, "code": code}),
              flush=True)
        time.sleep(0.02)


def topics(addr):
    try:
        print(json.dumps({"topics": sorted(metadata(addr)["topics"])}), flush=True)
    except (OSError, ConnectionError, socket.timeout, ValueError, IndexError) as e:
        print(json.dumps({"error": str(e)}), flush=True)


def produce(seed, seconds, bootstrap, topic, partitions):
    from confluent_kafka import KafkaError, Producer
    p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all", "linger.ms": 5,
                  "message.timeout.ms": 15000, "socket.timeout.ms": 3000, "log_level": 0})

    def report(err, msg):
        v = msg.value().decode()
        if err is None:
            out = {"v": v, "p": msg.partition(), "o": msg.offset(), "outcome": "ok"}
        else:
            # A timeout may have landed; anything else was refused.
            unknown = err.code() in (KafkaError._MSG_TIMED_OUT, KafkaError._TIMED_OUT, KafkaError.REQUEST_TIMED_OUT)
            out = {"v": v, "p": msg.partition(), "outcome": "unknown" if unknown else "failed", "error": err.name()}
        print(json.dumps(out), flush=True)
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        try:
            p.produce(topic, value=f"{seed}-{i}".encode(), partition=i % partitions, on_delivery=report)
            i += 1
        except BufferError:
            pass
        p.poll(0.005)
    p.flush(30)


def consume(bootstrap, topic, partitions):
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"chaos-check-{time.time()}",
                  "enable.auto.commit": False, "auto.offset.reset": "earliest", "log_level": 0})
    ends = {}
    for part in range(partitions):
        lo, hi = c.get_watermark_offsets(TopicPartition(topic, part), timeout=10)
        ends[part] = hi
    c.assign([TopicPartition(topic, part, 0) for part in range(partitions)])
    done = {part for part, hi in ends.items() if hi == 0}
    deadline = time.monotonic() + 60
    while len(done) < partitions and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is None or m.error():
            continue
        print(json.dumps({"v": m.value().decode(), "p": m.partition(), "o": m.offset()}), flush=True)
        if m.offset() + 1 >= ends[m.partition()]:
            done.add(m.partition())
    c.close()


def fetch_committed(probe, topic, partitions):
    from confluent_kafka import KafkaException, TopicPartition
    try:
        got = probe.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=3)
    except KafkaException:
        return None
    return {str(tp.partition): tp.offset for tp in got if tp.error is None and tp.offset >= 0}


def group(seconds, bootstrap, topic, partitions, group_id):
    from confluent_kafka import Consumer, KafkaError, KafkaException
    member = Consumer({"bootstrap.servers": bootstrap, "group.id": group_id, "enable.auto.commit": False,
                       "auto.offset.reset": "earliest", "session.timeout.ms": 6000, "log_level": 0,
                       "socket.timeout.ms": 3000, "topic.metadata.refresh.interval.ms": 2000})
    probe = Consumer({"bootstrap.servers": bootstrap, "group.id": group_id, "enable.auto.commit": False,
                      "log_level": 0, "socket.timeout.ms": 3000})
    member.subscribe([topic])
    t0 = time.monotonic()
    end = t0 + seconds
    next_commit = time.monotonic() + 0.5
    while time.monotonic() < end:
        member.poll(0.1)
        if time.monotonic() < next_commit:
            continue
        next_commit = time.monotonic() + 0.5
        try:
            done = member.commit(asynchronous=False)
            out = {"commit": {str(tp.partition): tp.offset for tp in done if tp.error is None and tp.offset >= 0},
                   "ok": True, "t": round(time.monotonic() - t0, 2)}
        except KafkaException as e:
            if e.args[0].code() == KafkaError._NO_OFFSET:  # nothing read since the last commit
                out = None
            else:
                out = {"commit": {}, "ok": False, "error": str(e.args[0].name()), "t": round(time.monotonic() - t0, 2)}
        if out:
            print(json.dumps(out), flush=True)
        fetched = fetch_committed(probe, topic, partitions)
        if fetched is not None:
            print(json.dumps({"fetched": fetched}), flush=True)
    member.close()
    probe.close()


def committed(bootstrap, topic, partitions, group_id):
    from confluent_kafka import Consumer
    probe = Consumer({"bootstrap.servers": bootstrap, "group.id": group_id, "enable.auto.commit": False,
                      "log_level": 0})
    for _ in range(20):
        fetched = fetch_committed(probe, topic, partitions)
        if fetched is not None:
            print(json.dumps({"fetched": fetched}), flush=True)
            break
        time.sleep(0.5)
    probe.close()


if __name__ == "__main__":
    if sys.argv[1] == "workload":
        workload(int(sys.argv[2]), float(sys.argv[3]), sys.argv[4].split(","))
    elif sys.argv[1] == "produce":
        produce(int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5], int(sys.argv[6]))
    elif sys.argv[1] == "create":
        try:
            rf = int(sys.argv[5]) if len(sys.argv) > 5 else 1
            print(json.dumps({"code": create_topic(sys.argv[2], sys.argv[3], int(sys.argv[4]), rf)}), flush=True)
        except (OSError, ConnectionError, socket.timeout, ValueError, IndexError) as e:
            print(json.dumps({"error": str(e)}), flush=True)
    elif sys.argv[1] == "consume":
        consume(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1] == "group":
        group(float(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6])
    elif sys.argv[1] == "committed":
        committed(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    else:
        topics(sys.argv[2])
