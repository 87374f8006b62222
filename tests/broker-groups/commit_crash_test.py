"""Acknowledged means written (REVIEW.md C5): offsets committed and answered
are there after a kill -9 right after the answer; and a commit naming a topic
that does not exist, or a partition past its count, is refused per partition
with UNKNOWN_TOPIC_OR_PARTITION (as Kafka), the other partitions committed."""
import os
import sys

sys.path.insert(0, os.path.join(os.environ.get("MILLRACE_SOURCE", "."), "broker", "testing"))
from broker_proc import Broker  # noqa: E402
from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

TOPIC = "commits"
ROUNDS = 5
failures = []


def consumer(broker, group):
    return Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group, "enable.auto.commit": False})


def main():
    # Default mode: the append buffer and linger are on, so an unwritten commit would be lost.
    broker = Broker(name="commit-crash").start()
    try:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        admin.create_topics([NewTopic(TOPIC, 2, 1)])[TOPIC].result(10)
        for r in range(ROUNDS):
            group = f"crash-{r}"
            c = consumer(broker, group)
            want = [TopicPartition(TOPIC, 0, 100 + r), TopicPartition(TOPIC, 1, 200 + r)]
            c.commit(offsets=want, asynchronous=False)  # returns once answered
            broker.kill9()
            c.close()
            broker.start()
            c = consumer(broker, group)
            got = {tp.partition: tp.offset for tp in c.committed([TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)],
                                                                  timeout=20)}
            c.close()
            if got != {0: 100 + r, 1: 200 + r}:
                failures.append(f"round {r}: committed before kill -9 {[(t.partition, t.offset) for t in want]}, "
                                f"fetched after restart {got}")
        print(f"commit kill -9: {ROUNDS} rounds checked")

        c = consumer(broker, "unknown-topic")
        try:
            res = c.commit(offsets=[TopicPartition("no-such-topic", 0, 5), TopicPartition(TOPIC, 7, 5),
                                    TopicPartition(TOPIC, 0, 5)], asynchronous=False)
            errors = {(tp.topic, tp.partition): tp.error for tp in res}
        except KafkaException as e:
            # librdkafka raises on any failed partition; the per-partition
            # errors are in the exception's argument list when present.
            errors = {"raised": e.args[0]}
        unknown = KafkaError.UNKNOWN_TOPIC_OR_PART
        if "raised" in errors:
            if errors["raised"].code() != unknown:
                failures.append(f"commit to an unknown topic raised {errors['raised']}, not UNKNOWN_TOPIC_OR_PART")
        else:
            for key in (("no-such-topic", 0), (TOPIC, 7)):
                if errors.get(key) is None or errors[key].code() != unknown:
                    failures.append(f"commit to {key}: {errors.get(key)}, not UNKNOWN_TOPIC_OR_PART")
        got = c.committed([TopicPartition(TOPIC, 0)], timeout=10)[0].offset
        if got != 5:
            failures.append(f"the valid partition of a partly refused commit was not committed: {got}")
        c.close()
    except BaseException:
        broker.dump_log()
        raise
    finally:
        broker.stop()
    for f in failures:
        print("FAIL", f)
    if failures:
        raise SystemExit(f"{len(failures)} failure(s)")
    print("PASS broker-groups commit_crash_test")


main()
