"""Interop program for python3-confluent-kafka (librdkafka 2.0.2), idempotent producer,
murmur2_random partitioner (Java-compatible). Commands: see tests/interop/interop.py.
The same program runs as client "confluent-kafka-current" under the venv of
tests/interop/current-librdkafka (a current librdkafka); INTEROP_CLIENT names it.
MILLRACE_CLIENT_SECURITY (JSON {protocol, mechanism, username, password, ca, cert, key},
unset: plaintext) gives every connection librdkafka's security settings; `probe BOOTSTRAP`
asks for metadata once and prints OK or the error the client saw (tests/security)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from confluent_kafka import Consumer, KafkaException, Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402
from group_loop import chunks, librdkafka_security as security, records, run_group  # noqa: E402

CLIENT = os.environ.get("INTEROP_CLIENT", "confluent-kafka")


def probe(bootstrap, timeout=8.0):
    """Asks for metadata until it is answered or librdkafka reported an error (error_cb,
    served by poll): prints "OK" or "REFUSED <code name>: <text>" of the first error."""
    import time
    errors = []
    a = AdminClient({"bootstrap.servers": bootstrap, "error_cb": errors.append, **security()})
    deadline = time.time() + timeout
    while not errors and time.time() < deadline:
        try:
            a.list_topics(timeout=0.5)
            print("OK")
            return
        except KafkaException as e:
            last = e.args[0]
        a.poll(0.1)
    e = errors[0] if errors else last
    print(f"REFUSED {e.name()}: {e.str()}")


def create(bootstrap, topic, partitions):
    a = AdminClient({"bootstrap.servers": bootstrap, **security()})
    for f in a.create_topics([NewTopic(topic, int(partitions), int(os.environ.get("INTEROP_RF", "1")))]).values():
        f.result(30)


def produce(bootstrap, topic, n, codecs):
    recs = list(records(int(n), CLIENT))
    errors = []
    for codec, lo, hi in chunks(int(n), codecs.split(",")):
        p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True,
                      "compression.codec": codec, "partitioner": "murmur2_random",
                      "linger.ms": 5, **security()})

        def dr(err, msg):
            if err:
                errors.append(str(err))
        for k, v in recs[lo:hi]:
            while True:
                try:
                    p.produce(topic, key=k, value=v, on_delivery=dr)
                    break
                except BufferError:
                    p.poll(0.1)
        if p.flush(60) != 0:
            errors.append("flush timed out")
    if errors:
        raise SystemExit(f"delivery failed: {errors[:3]}")


class Member:
    def __init__(self, bootstrap, topic, group):
        self.c = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                           "enable.auto.commit": False, "auto.offset.reset": "earliest",
                           "session.timeout.ms": 10000, **security()})
        self.c.subscribe([topic])
        self.dirty = False

    def poll(self):
        rows = []
        for m in self.c.consume(num_messages=500, timeout=0.2):
            if m.error():
                continue
            rows.append((m.partition(), m.offset(), m.key().decode(), m.value().decode()))
        return rows

    def commit(self):
        try:
            self.c.commit(asynchronous=False)
        except KafkaException as e:  # nothing to commit, or a rebalance in progress
            if "NO_OFFSET" not in str(e):
                print(f"commit: {e}", file=sys.stderr)

    def close(self):
        self.c.close()


def main(argv):
    cmd, bootstrap = argv[0], argv[1]
    if cmd == "probe":
        probe(bootstrap)
    elif cmd == "create":
        create(bootstrap, argv[2], argv[3])
    elif cmd == "produce":
        produce(bootstrap, argv[2], argv[3], argv[4])
    elif cmd == "consume":
        topic, group, target, out = argv[2], argv[3], int(argv[4]), argv[5]
        return run_group(lambda i: Member(bootstrap, topic, group), target, out)
    else:
        raise SystemExit(f"unknown command {cmd}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
