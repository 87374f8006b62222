import os
import random
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("MILLRACE_SOURCE", "."), "broker", "testing"))
from broker_proc import Broker  # noqa: E402
from frames import frame, recv_frame  # noqa: E402
from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

TOPIC = "bad"


def header(api_key, version, corr=7, client=b"badinput"):
    return struct.pack(">hhih", api_key, version, corr, len(client)) + client



def connect(broker):
    s = socket.create_connection(("127.0.0.1", broker.port), timeout=10)
    return s



def expect_closed(broker, payload, what):
    s = connect(broker)
    s.sendall(payload)
    try:
        s.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    got = recv_frame(s)
    s.close()
    if got is not None:
        raise SystemExit(f"{what}: expected the connection closed, got a {len(got)}-byte response")
    print(f"ok: {what} -> connection closed")


def expect_unsupported_version(broker):
    """A known API at an unadvertised version whose response has a top-level error
    code gets that response with UNSUPPORTED_VERSION (35), in the asked version."""
    # InitProducerId v5 (the broker advertises 0-4): flexible header v2 = v1 + empty
    # tagged fields; body: null compact transactional id, timeout, producer id/epoch, tags.
    req = header(22, 5) + b"\x00" + b"\x00" + struct.pack(">iqh", 60000, -1, -1) + b"\x00"
    s = connect(broker)
    s.sendall(frame(req))
    resp = recv_frame(s)
    if resp is None:
        raise SystemExit("InitProducerId v5: connection closed, expected UNSUPPORTED_VERSION")
    # response header v1: correlation id, tagged fields; body: throttle_time_ms, error_code
    corr, tags, _throttle, err = struct.unpack(">ibih", resp[:11])
    if corr != 7 or tags != 0 or err != 35:
        raise SystemExit(f"InitProducerId v5: correlation {corr} tags {tags} error {err}, expected 7, 0, 35")
    # The connection stays usable: ApiVersions v0 on it still answers.
    s.sendall(frame(struct.pack(">hhih", 18, 0, 8, 1) + b"x"))
    resp = recv_frame(s)
    s.close()
    if resp is None or struct.unpack(">ih", resp[:6]) != (8, 0):
        raise SystemExit("after UNSUPPORTED_VERSION the connection did not answer ApiVersions v0")
    print("ok: InitProducerId v5 (unadvertised) -> UNSUPPORTED_VERSION (35), connection kept")

    # Produce v2 is advertised (librdkafka's codec gate) but not served: every
    # partition gets UNSUPPORTED_VERSION and nothing is stored.
    body = struct.pack(">h", 1) + struct.pack(">i", 5000)  # acks=1, timeout (v0-2: no transactional id)
    body += struct.pack(">i", 1) + struct.pack(">h", len(TOPIC)) + TOPIC.encode()
    body += struct.pack(">i", 1) + struct.pack(">i", 0) + struct.pack(">i", 0)  # partition 0, empty record set
    s = connect(broker)
    s.sendall(frame(header(0, 2) + body))
    resp = recv_frame(s)
    s.close()
    if resp is None:
        raise SystemExit("Produce v2: connection closed, expected UNSUPPORTED_VERSION per partition")
    pos = 4 + 4
    (name_len,) = struct.unpack(">h", resp[pos:pos + 2])
    pos += 2 + name_len + 4 + 4
    (err,) = struct.unpack(">h", resp[pos:pos + 2])
    if err != 35:
        raise SystemExit(f"Produce v2: partition error {err}, expected UNSUPPORTED_VERSION (35)")
    print("ok: Produce v2 (advertised, not served) -> UNSUPPORTED_VERSION (35)")


def zigzag(n):
    return (n << 1) ^ (n >> 63)


def uvarint(n):
    out = b""
    while n >= 0x80:
        out += bytes([(n & 0x7f) | 0x80])
        n >>= 7
    return out + bytes([n])


def batch_with_bad_crc(value=b"corrupt"):
    rec = bytes([0]) + uvarint(zigzag(0)) + uvarint(zigzag(0)) + uvarint(zigzag(-1)) \
        + uvarint(zigzag(len(value))) + value + uvarint(zigzag(0))
    records = uvarint(zigzag(len(rec))) + rec
    now = int(time.time() * 1000)
    after_crc = struct.pack(">hiqqqhii", 0, 0, now, now, -1, -1, -1, 1) + records
    length = 4 + 1 + 4 + len(after_crc)  # epoch + magic + crc + rest
    return struct.pack(">qi", 0, length) + struct.pack(">ibI", -1, 2, 0xDEADBEEF) + after_crc


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def control_batch():
    """A well-formed (CRC-correct) control batch, as only a broker writes them:
    a COMMIT marker's key (version 0, type 1) with the control bit (0x20) and
    no transactional bit, which is what Raft's own entries look like."""
    key, value = struct.pack(">hh", 0, 1), struct.pack(">hi", 0, 0)
    rec = bytes([0]) + uvarint(zigzag(0)) + uvarint(zigzag(0)) + uvarint(zigzag(len(key))) + key \
        + uvarint(zigzag(len(value))) + value + uvarint(zigzag(0))
    records = uvarint(zigzag(len(rec))) + rec
    now = int(time.time() * 1000)
    after_crc = struct.pack(">hiqqqhii", 0x20, 0, now, now, -1, -1, -1, 1) + records
    length = 4 + 1 + 4 + len(after_crc)
    return struct.pack(">qi", 0, length) + struct.pack(">ibI", -1, 2, crc32c(after_crc)) + after_crc


def produce_error(broker, records, what):
    """The partition error code of a Produce v3 of `records` to TOPIC-0."""
    s = connect(broker)
    s.sendall(produce_v3(TOPIC, 0, records))
    resp = recv_frame(s)
    s.close()
    if resp is None:
        raise SystemExit(f"{what}: connection closed, expected an error code")
    pos = 4 + 4  # corr, topics[1]
    (name_len,) = struct.unpack(">h", resp[pos:pos + 2])
    pos += 2 + name_len + 4 + 4  # name, partitions[1], index
    return struct.unpack(">h", resp[pos:pos + 2])[0]


def produce_v3(topic, partition, records):
    body = struct.pack(">h", -1)  # transactional_id null
    body += struct.pack(">hi", 1, 5000)  # acks=1, timeout
    body += struct.pack(">i", 1) + struct.pack(">h", len(topic)) + topic.encode()
    body += struct.pack(">i", 1) + struct.pack(">i", partition) + struct.pack(">i", len(records)) + records
    return frame(header(0, 3) + body)


def main():
    broker = Broker(name="badinput").start()
    stop = threading.Event()
    acked = set()
    lock = threading.Lock()
    try:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        admin.create_topics([NewTopic(TOPIC, 1, 1)])[TOPIC].result(10)

        def produce_forever():
            p = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "linger.ms": 5})
            i = 0

            def cb(err, msg):
                if err is None:
                    with lock:
                        acked.add(msg.value())
            while not stop.is_set():
                p.produce(TOPIC, value=f"good-{i}".encode(), on_delivery=cb)
                i += 1
                p.poll(0.002)
            p.flush(10)
        t = threading.Thread(target=produce_forever)
        t.start()
        time.sleep(0.5)

        expect_closed(broker, struct.pack(">i", 100) + b"\x00" * 10, "truncated frame (100 promised, 10 sent)")
        expect_closed(broker, struct.pack(">i", 0x7FFFFFFF) + b"\x00" * 64, "2 GB size prefix")
        expect_closed(broker, struct.pack(">i", -5), "negative size prefix")
        expect_closed(broker, frame(header(999, 0)), "unknown API key 999")
        expect_closed(broker, frame(header(3, 99) + b"\x00" * 8), "Metadata v99 (a version no codec knows)")
        # Fetch v3 is below the served range and its response has no error code to carry
        # UNSUPPORTED_VERSION: closed, as Kafka closes a request it cannot parse.
        expect_closed(broker, frame(header(1, 3) + struct.pack(">iiiii", -1, 100, 1, 1 << 20, 0)),
                      "Fetch v3 (below the served range, no top-level error code)")
        expect_unsupported_version(broker)
        expect_closed(broker, frame(b"\x00\x03"), "frame shorter than a request header")
        expect_closed(broker, frame(header(3, 1) + b"\xff\xff\xff\x10"), "Metadata body with a bad array length")
        rnd = random.Random(42)
        for n in range(20):
            junk = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 300)))
            s = connect(broker)
            s.sendall(frame(junk))
            s.shutdown(socket.SHUT_WR)
            recv_frame(s)  # an error reply or a close are both fine; the broker must live
            s.close()
        if not broker.alive():
            raise SystemExit("broker died on random bytes")
        print("ok: 20 random frames -> broker alive")

        # KIP-511: ApiVersions with a version we do not know -> v0 reply, error 35.
        s = connect(broker)
        s.sendall(frame(header(18, 99) + b"\x00"))  # flexible header: empty tagged fields
        resp = recv_frame(s)
        s.close()
        if resp is None:
            raise SystemExit("ApiVersions v99: connection closed, expected a v0 reply with UNSUPPORTED_VERSION")
        corr, err = struct.unpack(">ih", resp[:6])
        if corr != 7 or err != 35:
            raise SystemExit(f"ApiVersions v99: correlation {corr} error {err}, expected 7 and 35")
        print("ok: ApiVersions v99 -> v0 reply with UNSUPPORTED_VERSION (35)")

        # Produce with a bad CRC -> CORRUPT_MESSAGE (2), nothing stored.
        c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "x"})
        _, hi_before = c.get_watermark_offsets(TopicPartition(TOPIC, 0), timeout=10)
        s = connect(broker)
        s.sendall(produce_v3(TOPIC, 0, batch_with_bad_crc()))
        resp = recv_frame(s)
        s.close()
        if resp is None:
            raise SystemExit("bad CRC produce: connection closed, expected CORRUPT_MESSAGE")
        # corr, topics[1], name, partitions[1], index, error_code
        pos = 4 + 4
        (name_len,) = struct.unpack(">h", resp[pos:pos + 2])
        pos += 2 + name_len + 4 + 4
        (err,) = struct.unpack(">h", resp[pos:pos + 2])
        if err != 2:
            raise SystemExit(f"bad CRC produce: error {err}, expected CORRUPT_MESSAGE (2)")
        print("ok: bad CRC -> CORRUPT_MESSAGE (2)")

        # A client's control batch (a marker or a Raft entry lookalike) -> INVALID_RECORD (87), nothing stored.
        err = produce_error(broker, control_batch(), "control batch produce")
        if err != 87:
            raise SystemExit(f"control batch produce: error {err}, expected INVALID_RECORD (87)")
        print("ok: a client's control batch -> INVALID_RECORD (87)")

        time.sleep(1.0)
        stop.set()
        t.join()
        if not acked:
            raise SystemExit("the real producer got nothing acknowledged while bad input flowed")
        # Everything acknowledged is there; the corrupt batch is not.
        lo, hi = c.get_watermark_offsets(TopicPartition(TOPIC, 0), timeout=10)
        c.assign([TopicPartition(TOPIC, 0, lo)])
        seen = []
        deadline = time.time() + 30
        while len(seen) < hi - lo and time.time() < deadline:
            m = c.poll(1.0)
            if m is not None and not m.error():
                seen.append(m.value())
        c.close()
        if b"corrupt" in seen:
            raise SystemExit("the corrupt batch was stored")
        missing = acked - set(seen)
        if missing:
            raise SystemExit(f"lost {len(missing)} acknowledged records")
        if not broker.ready_http():
            raise SystemExit("/readyz is not 200 after the bad input")
        print(f"PASS broker-badinput: {len(acked)} acknowledged records intact while bad input was refused "
              f"(high watermark {hi_before} before the corrupt batch, {hi} at the end)")
    except BaseException:
        stop.set()
        broker.dump_log()
        raise
    finally:
        stop.set()
        broker.stop()


main()
