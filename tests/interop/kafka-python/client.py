"""Interop program for python3-kafka (kafka-python 2.0.2; no idempotence, codecs as
installed). Commands: see tests/interop/interop.py, plus `codecs BOOTSTRAP`."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer  # noqa: E402
from kafka.admin import NewTopic  # noqa: E402
from kafka.codec import has_gzip, has_lz4, has_snappy, has_zstd  # noqa: E402
from kafka.errors import CommitFailedError, KafkaError  # noqa: E402
from group_loop import chunks, records, run_group  # noqa: E402

CLIENT = "kafka-python"


def codecs():
    have = {"none": True, "gzip": has_gzip(), "snappy": has_snappy(), "lz4": has_lz4(),
            "zstd": has_zstd()}
    return [c for c, ok in have.items() if ok]


def create(bootstrap, topic, partitions):
    a = KafkaAdminClient(bootstrap_servers=bootstrap)
    a.create_topics([NewTopic(topic, int(partitions), int(os.environ.get("INTEROP_RF", "1")))])
    a.close()


def produce(bootstrap, topic, n, codec_list):
    recs = list(records(int(n), CLIENT))
    for codec, lo, hi in chunks(int(n), codec_list.split(",")):
        p = KafkaProducer(bootstrap_servers=bootstrap, acks="all", retries=5,
                          max_in_flight_requests_per_connection=1,
                          compression_type=None if codec == "none" else codec, linger_ms=5)
        futures = [p.send(topic, key=k.encode(), value=v.encode()) for k, v in recs[lo:hi]]
        p.flush(60)
        for f in futures:
            f.get(30)
        p.close()


class Member:
    def __init__(self, bootstrap, topic, group):
        self.c = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group,
                               enable_auto_commit=False, auto_offset_reset="earliest",
                               session_timeout_ms=10000, max_poll_records=500)

    def poll(self):
        rows = []
        for tp, msgs in self.c.poll(timeout_ms=200).items():
            for m in msgs:
                rows.append((tp.partition, m.offset, m.key.decode(), m.value.decode()))
        return rows

    def commit(self):
        try:
            self.c.commit()
        except (CommitFailedError, KafkaError) as e:
            print(f"commit: {e}", file=sys.stderr)

    def close(self):
        self.c.close(autocommit=False)


def main(argv):
    cmd, bootstrap = argv[0], argv[1]
    if cmd == "codecs":
        print(" ".join(codecs()))
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
