#!/usr/bin/python3
"""Writes one topic for tests/consumer-fetch and prints what a reader must find.

Usage: produce.py BOOTSTRAP TOPIC MODE   (MODE: none gzip snappy lz4 zstd txn)
Values are deterministic, 1..3000 bytes, in 3 partitions, in batches of up to
64 KiB (so a small max.partition.fetch.bytes cuts batches). MODE txn writes with a
transactional producer: committed and aborted transactions, so the log holds
control batches (read_uncommitted readers get every data record, no markers).
Prints one JSON line: records, bytes and the sum (mod 2^64) of FNV-1a 64 of every
value, as `millrace bench consume --verify` reports them.
"""
import json
import sys

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

PARTITIONS = 3
RECORDS = 6000


def fnv1a64(b):
    h = 14695981039346656037
    for c in b:
        h = ((h ^ c) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


def main():
    bootstrap, topic, mode = sys.argv[1:4]
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for f in admin.create_topics([NewTopic(topic, PARTITIONS, 1)]).values():
        f.result(30)
    conf = {"bootstrap.servers": bootstrap, "linger.ms": 50, "batch.size": 65536,
            "compression.type": "none" if mode == "txn" else mode}
    if mode == "txn":
        conf["transactional.id"] = f"consumer-fetch-{topic}"
    p = Producer(conf)
    if mode == "txn":
        p.init_transactions(30)
    errors = []

    def report(err, msg):
        if err is not None:
            errors.append(str(err))

    count, total, checksum = 0, 0, 0
    per_txn = 500
    for i in range(RECORDS):
        if mode == "txn" and i % per_txn == 0:
            p.begin_transaction()
        size = 1 + (i * 7919) % 3000
        value = bytes((i + j) % 251 for j in range(size))
        p.produce(topic, value=value, key=str(i).encode(), partition=i % PARTITIONS, on_delivery=report)
        count += 1
        total += size
        checksum = (checksum + fnv1a64(value)) & 0xFFFFFFFFFFFFFFFF
        if mode == "txn" and i % per_txn == per_txn - 1:
            # Every third transaction aborts: its records stay in the log (a
            # read_uncommitted reader gets them) followed by an abort marker.
            if (i // per_txn) % 3 == 2:
                p.flush(30)
                p.abort_transaction(30)
            else:
                p.commit_transaction(30)
        p.poll(0)
    if p.flush(60) != 0:
        errors.append("flush left records undelivered")
    if errors:
        print(f"produce failed: {errors[:3]}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps({"records": count, "bytes": total, "value_checksum": checksum}))


if __name__ == "__main__":
    main()
