"""Raw requests about one partition's state, for the broker-crash suites that
check how an offline partition is reported (failstop_test.py, offline_test.py):
Produce v3, Metadata v7, DescribeTopicPartitions v0, ListOffsets v1,
OffsetForLeaderEpoch v2, DeleteRecords v0, DescribeLogDirs v1. Each opens its
own connection; each parses only what the suites check."""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.environ.get("MILLRACE_SOURCE", "."), "broker", "testing"))
sys.path.insert(0, os.path.join(os.environ.get("MILLRACE_SOURCE", "."), "tests", "broker-pipeline"))
from frames import frame, recv_frame  # noqa: E402
import wire  # noqa: E402

KAFKA_STORAGE_ERROR = 56
LEADER_NOT_AVAILABLE = 5


class Reader:
    def __init__(self, data):
        self.d, self.p = data, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.d, self.p)
        self.p += struct.calcsize(fmt)
        return v[0] if len(v) == 1 else v

    def string(self):
        n = self.take(">h")
        if n < 0:
            return None
        s = self.d[self.p:self.p + n].decode()
        self.p += n
        return s

    def ints(self):
        return [self.take(">i") for _ in range(self.take(">i"))]

    # Flexible versions: unsigned varint lengths + 1 (0 = null), tagged fields.
    def uvarint(self):
        shift = value = 0
        while True:
            b = self.d[self.p]
            self.p += 1
            value |= (b & 0x7F) << shift
            if b < 0x80:
                return value
            shift += 7

    def compact_string(self):
        n = self.uvarint() - 1
        s = None if n < 0 else self.d[self.p:self.p + n].decode()
        self.p += max(n, 0)
        return s

    def compact_ints(self):
        n = self.uvarint() - 1
        return None if n < 0 else [self.take(">i") for _ in range(n)]

    def tags(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.p += self.uvarint()


def request(broker, payload):
    s = wire.connect(broker.port)
    try:
        s.sendall(frame(payload))
        resp = recv_frame(s)
    finally:
        s.close()
    if resp is None:
        raise SystemExit("the broker closed the connection")
    return Reader(resp[4:])  # after the correlation id (response header v0)


def produce(broker, topic, partition, value, corr=1):
    """-> (error, base_offset) of one acks=all record."""
    s = wire.connect(broker.port)
    try:
        s.sendall(wire.produce_v3(corr, topic, partition, [value]))
        resp = recv_frame(s)
    finally:
        s.close()
    if resp is None:
        raise SystemExit(f"produce to {topic}-{partition}: the broker closed the connection")
    _, parts = wire.parse_produce_v3(resp)
    return parts[0][2], parts[0][3]


def metadata_v7(broker, topic):
    """-> {partition: (error, leader, leader_epoch, replicas, isr, offline)} of `topic`."""
    body = struct.pack(">i", 1) + struct.pack(">h", len(topic)) + topic.encode() + b"\x00"
    r = request(broker, wire.header(3, 7, 7, b"failstop") + body)
    r.take(">i")  # throttle_time_ms
    for _ in range(r.take(">i")):  # brokers
        r.take(">i"), r.string(), r.take(">i"), r.string()
    r.string(), r.take(">i")  # cluster_id, controller_id
    out = {}
    for _ in range(r.take(">i")):
        r.take(">h"), r.string(), r.take(">b")
        for _ in range(r.take(">i")):
            err, index, leader, epoch = r.take(">hiii")
            out[index] = (err, leader, epoch, r.ints(), r.ints(), r.ints())
    return out


def describe_topic_partitions_v0(broker, topic):
    """-> {partition: (leader, leader_epoch, replicas, isr, offline)} of `topic`."""
    name = topic.encode()
    body = bytes([2, len(name) + 1]) + name + b"\x00" + struct.pack(">i", 100) + b"\xff\x00"
    r = request(broker, wire.header(75, 0, 10, b"failstop") + b"\x00" + body)  # header v2: tagged fields
    r.tags()  # response header v1
    r.take(">i")  # throttle_time_ms
    out = {}
    for _ in range(r.uvarint() - 1):
        r.take(">h"), r.compact_string()
        r.p += 16 + 1  # topic_id, is_internal
        for _ in range(r.uvarint() - 1):
            _err, index, leader, epoch = r.take(">hiii")
            replicas, isr = r.compact_ints(), r.compact_ints()
            r.compact_ints(), r.compact_ints()  # eligible_leader_replicas, last_known_elr
            out[index] = (leader, epoch, replicas, isr, r.compact_ints())
            r.tags()
        r.take(">i")  # topic_authorized_operations
        r.tags()
    return out


def list_offsets_v1(broker, topic, partition):
    """-> (error, offset) for the latest offset of topic-partition."""
    body = struct.pack(">ii", -1, 1) + struct.pack(">h", len(topic)) + topic.encode()
    body += struct.pack(">iiq", 1, partition, -1)
    r = request(broker, wire.header(2, 1, 8, b"failstop") + body)
    r.take(">i"), r.string(), r.take(">i")
    _index, err, _ts, offset = r.take(">ihqq")
    return err, offset


def offset_for_leader_epoch_v2(broker, topic, partition):
    """-> error of topic-partition for epoch 0."""
    body = struct.pack(">i", 1) + struct.pack(">h", len(topic)) + topic.encode() + struct.pack(">iiii", 1, partition, -1, 0)
    r = request(broker, wire.header(23, 2, 11, b"failstop") + body)
    r.take(">i"), r.take(">i"), r.string(), r.take(">i")
    return r.take(">h")


def delete_records_v0(broker, topic, partition):
    """-> error of deleting topic-partition before offset 0 (a no-op when online)."""
    body = struct.pack(">i", 1) + struct.pack(">h", len(topic)) + topic.encode() + struct.pack(">iiq", 1, partition, 0)
    r = request(broker, wire.header(21, 0, 12, b"failstop") + body + struct.pack(">i", 5000))
    r.take(">i"), r.take(">i"), r.string(), r.take(">i")
    _index, _low, err = r.take(">iqh")
    return err


def describe_log_dirs_v1(broker):
    """-> {dir: error} (all dirs)."""
    r = request(broker, wire.header(35, 1, 9, b"failstop") + struct.pack(">i", -1))
    r.take(">i")  # throttle_time_ms
    out = {}
    for _ in range(r.take(">i")):
        err = r.take(">h")
        d = r.string()
        out[d] = err
        for _ in range(r.take(">i")):  # topics
            r.string()
            for _ in range(r.take(">i")):
                r.take(">iqqb")
    return out
