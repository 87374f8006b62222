"""Metadata, CreateTopics and DescribeQuorum on a raw socket to ONE broker (a
client library would pick any broker of the cluster; these tests must ask a
given one). Old, non-flexible versions: simple to write and read by hand."""
import socket
import struct
import sys
import os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "broker", "testing"))
sys.path.insert(0, os.path.join(ROOT, "tests", "broker-pipeline"))
sys.path.insert(0, os.path.join(ROOT, "tests", "broker-crash"))
from frames import frame, recv_frame  # noqa: E402
from partition_wire import Reader  # noqa: E402


def header(key, version, cid=1):
    client = b"cluster-test"
    return struct.pack(">hhih", key, version, cid, len(client)) + client


def call(bootstrap, payload, timeout=10):
    host, port = bootstrap.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(frame(payload))
        resp = recv_frame(s)
    if resp is None:
        raise ConnectionError(f"{bootstrap} closed the connection")
    return Reader(resp[4:])  # after the correlation id


def metadata(bootstrap):
    """Metadata v1, all topics: {'brokers': {id: (host, port, rack)}, 'controller': id,
    'topics': {name: {partition: (error, leader, replicas, isr)}}}."""
    r = call(bootstrap, header(3, 1) + struct.pack(">i", -1))
    brokers = {}
    for _ in range(r.take(">i")):
        node = r.take(">i")
        host = r.string()
        port = r.take(">i")
        brokers[node] = (host, port, r.string())
    controller = r.take(">i")
    topics = {}
    for _ in range(r.take(">i")):
        r.take(">h")
        name = r.string()
        r.take(">b")
        parts = {}
        for _ in range(r.take(">i")):
            err = r.take(">h")
            index = r.take(">i")
            leader = r.take(">i")
            replicas = r.ints()
            isr = r.ints()
            parts[index] = (err, leader, tuple(replicas), tuple(isr))
        topics[name] = parts
    return {"brokers": brokers, "controller": controller, "topics": topics}


def create_topic(bootstrap, name, partitions, replication=1, timeout=10):
    """CreateTopics v2 for one topic: its error code (0 = created)."""
    n = name.encode()
    body = struct.pack(">i", 1) + struct.pack(">h", len(n)) + n + struct.pack(">ihii", partitions, replication, 0, 0)
    body += struct.pack(">ib", 10000, 0)  # timeout, validate_only
    r = call(bootstrap, header(19, 2) + body, timeout)
    r.take(">i")  # throttle
    r.take(">i")  # one topic
    r.string()
    return r.take(">h")


def quorum_leader(bootstrap):
    """DescribeQuorum v0 (flexible) of __cluster_metadata-0: (error, leader id, leader epoch, high watermark)."""
    t = b"__cluster_metadata"
    body = bytes([2, len(t) + 1]) + t + bytes([2]) + struct.pack(">i", 0) + bytes([0, 0, 0])
    r = call(bootstrap, header(55, 0) + b"\x00" + body)
    r.take(">b")  # response header tagged fields (none)
    r.take(">h")
    r.take(">b")  # topics: one
    n = r.take(">b") - 1
    r.p += n
    r.take(">b")  # partitions: one
    r.take(">i")
    err = r.take(">h")
    return err, r.take(">i"), r.take(">i"), r.take(">q")


def leader_tag(r, tag):
    """Reads a partition's tagged fields: KIP-951's LeaderIdAndEpoch under
    `tag` as (id, epoch), or None when absent (the others are skipped)."""
    leader = None
    for _ in range(r.uvarint()):
        t, size = r.uvarint(), r.uvarint()
        if t == tag:
            leader = (r.take(">i"), r.take(">i"))
            r.tags()
        else:
            r.p += size
    return leader


def produce_v11(bootstrap, topic, partition):
    """Produce v11 (flexible) of no records to one partition, sent to ONE broker:
    (error, current leader (id, epoch) or None, {node id: (host, port)}) — the
    KIP-951 hint a broker that is not the leader gives."""
    t = topic.encode()
    body = b"\x00" + struct.pack(">hi", -1, 5000)  # no transactional id, acks=all, timeout
    body += bytes([2, len(t) + 1]) + t + bytes([2]) + struct.pack(">i", partition)
    body += b"\x00\x00"  # records: null; partition tags
    body += b"\x00\x00"  # topic tags; request tags
    r = call(bootstrap, header(0, 11) + b"\x00" + body)
    r.tags()  # response header
    r.uvarint()  # one topic
    r.compact_string()
    r.uvarint()  # one partition
    r.take(">i")
    err = r.take(">h")
    r.take(">q"), r.take(">q"), r.take(">q")
    for _ in range(r.uvarint() - 1):  # record errors
        r.take(">i")
        r.compact_string()
        r.tags()
    r.compact_string()  # error message
    leader = leader_tag(r, 0)
    r.tags()  # topic
    r.take(">i")  # throttle
    endpoints = {}
    for _ in range(r.uvarint()):
        tag, size = r.uvarint(), r.uvarint()
        if tag != 0:
            r.p += size
            continue
        for _ in range(r.uvarint() - 1):
            node = r.take(">i")
            host = r.compact_string()
            endpoints[node] = (host, r.take(">i"))
            r.compact_string()  # rack
            r.tags()
    return err, leader, endpoints


def fetch_v12(bootstrap, topic, partition):
    """Fetch v12 (flexible, topics by name) of one partition from offset 0, sent
    to ONE broker: (error, current leader (id, epoch) or None) — the KIP-951
    CurrentLeader a broker that is not the leader gives (Fetch v12+)."""
    t = topic.encode()
    body = struct.pack(">iiiib", -1, 100, 1, 1 << 20, 0) + struct.pack(">ii", 0, -1)  # no fetch session
    body += bytes([2, len(t) + 1]) + t + bytes([2])
    body += struct.pack(">iiqiqi", partition, -1, 0, -1, -1, 1 << 20) + b"\x00"  # partition and its tags
    body += b"\x00" + bytes([1, 1]) + b"\x00"  # topic tags; no forgotten topics; rack ""; request tags
    r = call(bootstrap, header(1, 12) + b"\x00" + body)
    r.tags()  # response header
    r.take(">i"), r.take(">h"), r.take(">i")  # throttle, error, session
    r.uvarint()  # one topic
    r.compact_string()
    r.uvarint()  # one partition
    r.take(">i")
    err = r.take(">h")
    r.take(">q"), r.take(">q"), r.take(">q")
    for _ in range(max(r.uvarint() - 1, 0)):  # aborted transactions
        r.take(">q"), r.take(">q")
        r.tags()
    r.take(">i")  # preferred read replica
    size = r.uvarint()
    r.p += max(size - 1, 0)  # records
    return err, leader_tag(r, 1)


def elect_leaders(bootstrap, election_type, partitions, timeout_ms=5000):
    """ElectLeaders v1 to ONE broker. partitions: {topic: [partition, ...]}, or
    None for all. Returns (top-level error, {(topic, partition): (error, message)})."""
    body = struct.pack(">b", election_type)
    if partitions is None:
        body += struct.pack(">i", -1)
    else:
        body += struct.pack(">i", len(partitions))
        for topic, parts in partitions.items():
            t = topic.encode()
            body += struct.pack(">h", len(t)) + t + struct.pack(">i", len(parts))
            body += b"".join(struct.pack(">i", p) for p in parts)
    body += struct.pack(">i", timeout_ms)
    r = call(bootstrap, header(43, 1) + body, timeout=timeout_ms / 1000 + 10)
    r.take(">i")  # throttle
    error = r.take(">h")
    out = {}
    for _ in range(r.take(">i")):
        topic = r.string()
        for _ in range(r.take(">i")):
            p = r.take(">i")
            out[(topic, p)] = (r.take(">h"), r.string())
    return error, out


def alter_reassignments(bootstrap, topic, targets, timeout_ms=10000):
    """AlterPartitionReassignments v0 (flexible) to ONE broker. targets:
    {partition: [replica, ...]}. Returns (top-level error, {partition: (error, message)})."""
    def uv(n):  # unsigned varint, as the compact lengths use
        out = b""
        while n >= 0x80:
            out += bytes([(n & 0x7F) | 0x80])
            n >>= 7
        return out + bytes([n])

    client = b"cluster-test"
    head = struct.pack(">hhih", 45, 0, 1, len(client)) + client + b"\x00"  # request header v2
    name = topic.encode()
    body = struct.pack(">i", timeout_ms) + uv(2) + uv(len(name) + 1) + name + uv(len(targets) + 1)
    for p, replicas in targets.items():
        body += struct.pack(">i", p) + uv(len(replicas) + 1)
        body += b"".join(struct.pack(">i", r) for r in replicas) + b"\x00"
    body += b"\x00\x00"  # the topic's tags, the request's tags
    r = call(bootstrap, head + body, timeout=timeout_ms / 1000 + 10)
    r.tags()  # response header v1
    r.take(">i")  # throttle
    error = r.take(">h")
    r.compact_string()
    out = {}
    for _ in range(r.uvarint() - 1):
        r.compact_string()
        for _ in range(r.uvarint() - 1):
            p = r.take(">i")
            out[p] = (r.take(">h"), r.compact_string())
            r.tags()
        r.tags()
    return error, out
