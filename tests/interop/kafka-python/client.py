"""Interop program for python3-kafka (kafka-python 2.0.2; no idempotence, codecs as
installed). Commands: see tests/interop/interop.py, plus `codecs BOOTSTRAP`.
MILLRACE_CLIENT_SECURITY (JSON {protocol, mechanism, username, password, ca, cert, key},
unset: plaintext) becomes kafka-python's security arguments; `probe BOOTSTRAP` connects
an admin client once and prints OK or the error it saw (tests/security)."""
import json
import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer  # noqa: E402
from kafka.admin import NewTopic  # noqa: E402
from kafka.codec import has_gzip, has_lz4, has_snappy, has_zstd  # noqa: E402
from kafka.errors import CommitFailedError, KafkaError  # noqa: E402
from group_loop import chunks, records, run_group  # noqa: E402

CLIENT = "kafka-python"


def security():
    """kafka-python keyword arguments from MILLRACE_CLIENT_SECURITY ({} when unset)."""
    s = json.loads(os.environ.get("MILLRACE_CLIENT_SECURITY") or "{}")
    kw = {}
    if s.get("protocol"):
        kw["security_protocol"] = s["protocol"]
    if s.get("mechanism"):
        kw.update(sasl_mechanism=s["mechanism"], sasl_plain_username=s.get("username", ""),
                  sasl_plain_password=s.get("password", ""))
    if s.get("ca"):
        kw["ssl_cafile"] = s["ca"]
    if s.get("cert"):
        kw.update(ssl_certfile=s["cert"], ssl_keyfile=s["key"])
    return kw


def probe(bootstrap):
    """Connects an admin client (bootstrap + metadata): OK, or REFUSED with the exception
    and the first connection error kafka-python logged (it raises NoBrokersAvailable
    whatever the cause)."""
    seen = []

    class Keep(logging.Handler):
        def emit(self, record):
            if record.levelno >= logging.WARNING and len(seen) < 3:
                seen.append(record.getMessage())
    logging.getLogger("kafka").addHandler(Keep())
    logging.getLogger("kafka").setLevel(logging.WARNING)
    try:
        a = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=8000,
                             api_version_auto_timeout_ms=6000, **security())
        a.list_topics()
        a.close()
        print("OK")
    except Exception as e:  # noqa: BLE001 - the probe reports whatever the client raised
        print(f"REFUSED {type(e).__name__}: {e} / {' / '.join(seen)[:600]}")


def codecs():
    have = {"none": True, "gzip": has_gzip(), "snappy": has_snappy(), "lz4": has_lz4(),
            "zstd": has_zstd()}
    return [c for c, ok in have.items() if ok]


def create(bootstrap, topic, partitions):
    a = KafkaAdminClient(bootstrap_servers=bootstrap, **security())
    a.create_topics([NewTopic(topic, int(partitions), int(os.environ.get("INTEROP_RF", "1")))])
    a.close()


def produce(bootstrap, topic, n, codec_list):
    recs = list(records(int(n), CLIENT))
    for codec, lo, hi in chunks(int(n), codec_list.split(",")):
        p = KafkaProducer(bootstrap_servers=bootstrap, acks="all", retries=5,
                          max_in_flight_requests_per_connection=1,
                          compression_type=None if codec == "none" else codec, linger_ms=5,
                          **security())
        futures = [p.send(topic, key=k.encode(), value=v.encode()) for k, v in recs[lo:hi]]
        p.flush(60)
        for f in futures:
            f.get(30)
        p.close()


class Member:
    def __init__(self, bootstrap, topic, group):
        self.c = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group,
                               enable_auto_commit=False, auto_offset_reset="earliest",
                               session_timeout_ms=10000, max_poll_records=500, **security())

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
    if cmd == "probe":
        probe(bootstrap)
    elif cmd == "codecs":
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
