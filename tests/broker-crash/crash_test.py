import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("MILLRACE_SOURCE", "."), "broker", "testing"))
from broker_proc import Broker  # noqa: E402
from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

TOPIC = "crash"
PARTITIONS = 3
ROUNDS = int(os.environ.get("CRASH_ROUNDS", "3"))


def produce_until_killed(broker, start_value, run_seconds, acks):
    acked = set()
    lock = threading.Lock()

    def on_delivery(err, msg):
        if err is None:
            with lock:
                acked.add(msg.value().decode())

    p = Producer({"bootstrap.servers": broker.bootstrap, "acks": acks, "enable.idempotence": acks == "all",
                  "linger.ms": 2, "message.timeout.ms": 5000, "retries": 2})
    # Run for run_seconds, and on a slow machine (the ASan build, a loaded CI host)
    # on until something was acknowledged, so every round proves something.
    stop = time.time() + run_seconds
    give_up = stop + 120
    i = start_value
    while time.time() < stop or (not acked and time.time() < give_up):
        try:
            p.produce(TOPIC, key=str(i).encode(), value=f"v{i}".encode(), on_delivery=on_delivery)
            i += 1
        except BufferError:
            pass
        p.poll(0)
        if i % 500 == 0:
            time.sleep(0.001)
    broker.kill9()  # mid-stream: requests are in flight
    p.flush(8)      # remaining deliveries fail (broker gone); acked ones stay acked
    return acked, i


def read_all(broker):
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "crash-reader",
                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    seen = set()
    for p in range(PARTITIONS):
        lo, hi = c.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=10)
        if hi <= lo:
            continue
        c.assign([TopicPartition(TOPIC, p, lo)])
        pos = lo
        deadline = time.time() + 30
        while pos < hi and time.time() < deadline:
            m = c.poll(1.0)
            if m is None or m.error():
                continue
            seen.add(m.value().decode())
            pos = m.offset() + 1
        if pos < hi:
            raise SystemExit(f"partition {p}: read to {pos}, high watermark {hi}")
    c.close()
    return seen


# Two durability modes, each killed -9 mid-stream: Millrace's default (acks=all
# answered after fsync) and Kafka's (acks=1, and acks=all answered from the page
# cache): a killed process leaves the page cache intact, so nothing acknowledged in
# either mode may be lost, whatever the broker still held in user-space buffers.
MODES = [("all", {}), ("1", {"log.flush.on.acks.all": "false"})]


def main():
    for acks, extra in MODES:
        run_mode(acks, extra)


def run_mode(acks, extra):
    print(f"mode: acks={acks} {extra or 'defaults'}")
    broker = Broker(name=f"crash-acks{acks}", extra=extra).start()
    try:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        admin.create_topics([NewTopic(TOPIC, PARTITIONS, 1)])[TOPIC].result(10)
        all_acked = set()
        next_value = 0
        for round_ in range(ROUNDS):
            acked, next_value = produce_until_killed(broker, next_value, 2.0 + round_, acks)
            all_acked |= acked
            broker.start()
            seen = read_all(broker)
            missing = all_acked - seen
            print(f"round {round_}: acked {len(acked)} (total {len(all_acked)}), present {len(seen)}, "
                  f"missing {len(missing)}")
            if not acked:
                raise SystemExit("no record was acknowledged before the kill; the test proves nothing")
            if missing:
                raise SystemExit(f"LOST {len(missing)} acknowledged records, e.g. {sorted(missing)[:5]}")
        print(f"PASS broker-crash acks={acks}: {ROUNDS} kill -9 rounds, {len(all_acked)} acknowledged records all present")
    except BaseException:
        broker.dump_log()
        raise
    finally:
        broker.stop()


main()
