import os
import signal
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get("MILLRACE_SOURCE", "."), "broker", "testing"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from broker_proc import Broker  # noqa: E402
from confluent_kafka import Consumer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402
import wire  # noqa: E402

PIPELINE_BOUND = 16  # Connection::kMaxPendingResponses


def fail(msg):
    raise SystemExit("FAIL " + msg)


def create(broker, *topics):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    for t, f in admin.create_topics([NewTopic(t, 1, 1) for t in topics]).items():
        f.result(10)


def read_values(broker, topic):
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "pipeline-reader",
                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    lo, hi = c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    out = []
    if hi > lo:
        c.assign([TopicPartition(topic, 0, lo)])
        deadline = time.time() + 30
        while len(out) < hi - lo and time.time() < deadline:
            m = c.poll(1.0)
            if m is not None and not m.error():
                out.append(m.value().decode())
    c.close()
    return hi, out


def values(corr, n):
    return [f"c{corr}-{j}".encode() for j in range(n)]


def expect_produce(resp, corr, base, what):
    if resp is None:
        fail(f"{what}: connection closed before the response to {corr}")
    got_corr, parts = wire.parse_produce_v3(resp)
    if got_corr != corr:
        fail(f"{what}: response for correlation {got_corr}, expected {corr} (out of order)")
    if len(parts) != 1 or parts[0][2] != 0 or parts[0][3] != base:
        fail(f"{what}: correlation {corr}: {parts}, expected error 0 at base offset {base}")


def in_order(broker):
    """Produces, an ApiVersions and an acks=0 produce, all sent at once: the answers
    come in request order with the offsets of request order; acks=0 gets none."""
    topic = "order"
    create(broker, topic)
    s = wire.connect(broker.port)
    plan = []  # (corr, kind, record count)
    for i in range(6):
        plan.append((100 + i, "produce", i + 1))
    plan.append((500, "apiversions", 0))
    plan.append((600, "acks0", 3))
    for i in range(6, 12):
        plan.append((100 + i, "produce", i + 1))
    payload = b""
    for corr, kind, n in plan:
        if kind == "apiversions":
            payload += wire.api_versions_v0(corr)
        else:
            payload += wire.produce_v3(corr, topic, 0, values(corr, n), acks=0 if kind == "acks0" else -1)
    s.sendall(payload)
    offset, expected = 0, []
    for corr, kind, n in plan:
        expected += [v.decode() for v in values(corr, n)]
        if kind == "acks0":
            offset += n
            continue
        resp = wire.recv_frame(s)
        if kind == "apiversions":
            if resp is None or struct.unpack(">ih", resp[:6]) != (corr, 0):
                fail(f"in_order: ApiVersions answer missing or out of order: {resp[:6] if resp else None}")
            continue
        expect_produce(resp, corr, offset, "in_order")
        offset += n
    s.close()
    hi, got = read_values(broker, topic)
    if hi != offset or got != expected:
        fail(f"in_order: log holds {hi} records {got[:4]}..., expected {offset} {expected[:4]}...")
    print(f"ok: 12 pipelined acks=all produces + ApiVersions + acks=0: answers in order, offsets 0..{offset - 1}")
    return topic, expected


def beyond_bound(broker):
    """Three times the pipeline bound sent at once: every one answered, in order."""
    topic = "bound"
    create(broker, topic)
    n = 3 * PIPELINE_BOUND
    s = wire.connect(broker.port)
    s.sendall(b"".join(wire.produce_v3(1000 + i, topic, 0, values(1000 + i, 2)) for i in range(n)))
    for i in range(n):
        expect_produce(wire.recv_frame(s), 1000 + i, 2 * i, "beyond_bound")
    s.close()
    print(f"ok: {n} produces in one write (bound {PIPELINE_BOUND}): all answered in order")


def bad_request_after_produces(broker):
    """A bad frame after pending produces: their answers first, then the close;
    nothing after the bad frame is applied."""
    topic = "badmid"
    create(broker, topic)
    s = wire.connect(broker.port)
    payload = b"".join(wire.produce_v3(10 + i, topic, 0, values(10 + i, 1)) for i in range(4))
    payload += wire.frame(wire.header(999, 0, 77))  # unknown API key: Kafka closes the connection
    payload += wire.produce_v3(20, topic, 0, values(20, 1))
    s.sendall(payload)
    for i in range(4):
        expect_produce(wire.recv_frame(s), 10 + i, i, "bad_request_after_produces")
    if wire.recv_frame(s) is not None:
        fail("bad_request_after_produces: expected the connection closed after the 4 answers")
    s.close()
    hi, _ = read_values(broker, topic)
    if hi != 4:
        fail(f"bad_request_after_produces: high watermark {hi}, expected 4")
    print("ok: 4 produces then an unknown API key: 4 answers in order, then closed; later produce not applied")


def closes_while_pending(broker):
    """Clients that reset or half-close the connection while fsyncs are pending (the
    stage-2 completions then fire after the connection is gone); the broker stays up
    and a half-closed client still gets every answer."""
    topic = "closing"
    create(broker, topic)
    sent = 0
    for round_ in range(30):
        s = wire.connect(broker.port)
        s.sendall(b"".join(wire.produce_v3(i, topic, 0, values(i, 5)) for i in range(8)))
        sent += 8
        wire.abort(s)
    s = wire.connect(broker.port)
    s.sendall(b"".join(wire.produce_v3(i, topic, 0, values(i, 1)) for i in range(8)))
    s.shutdown(2 - 1)  # SHUT_WR
    answers = 0
    while True:
        resp = wire.recv_frame(s)
        if resp is None:
            break
        corr, parts = wire.parse_produce_v3(resp)
        if corr != answers or parts[0][2] != 0:
            fail(f"closes_while_pending: half-closed client got {corr} {parts}, expected correlation {answers}")
        answers += 1
    s.close()
    if answers != 8:
        fail(f"closes_while_pending: half-closed client got {answers} answers, expected 8")
    s = wire.connect(broker.port)
    s.sendall(wire.api_versions_v0(9))
    resp = wire.recv_frame(s)
    s.close()
    if resp is None or not broker.alive():
        fail("closes_while_pending: broker not answering after the resets")
    print(f"ok: 30 connections reset with 8 produces pending each; half-closed client got 8/8; broker fine")


def killed_after_acks(broker, topic, expected):
    """Everything acknowledged survives kill -9."""
    broker.kill9()
    broker.start()
    hi, got = read_values(broker, topic)
    if got[:len(expected)] != expected:
        fail(f"killed_after_acks: after kill -9 read {len(got)} records, expected the {len(expected)} acknowledged")
    print(f"ok: kill -9 after the acknowledgements: all {len(expected)} records present")


def sigterm_while_pending(broker):
    """SIGTERM with produces in flight: the answers that arrive are in order, the
    broker exits cleanly (no sanitizer report), and every answered record is there
    after restart."""
    topic = "drain"
    create(broker, topic)
    s = wire.connect(broker.port)
    s.sendall(b"".join(wire.produce_v3(i, topic, 0, values(i, 10)) for i in range(PIPELINE_BOUND)))
    # The first answer shows the broker is reading this pipeline; the rest are in flight.
    expect_produce(wire.recv_frame(s), 0, 0, "sigterm_while_pending")
    broker.proc.send_signal(signal.SIGTERM)
    answered = 1
    while True:
        resp = wire.recv_frame(s)
        if resp is None:
            break
        expect_produce(resp, answered, 10 * answered, "sigterm_while_pending")
        answered += 1
    s.close()
    rc = broker.stop()
    if rc != 0:
        fail(f"sigterm_while_pending: broker exited {rc}")
    broker.start()
    hi, _ = read_values(broker, topic)
    if hi < 10 * answered:
        fail(f"sigterm_while_pending: {answered} answered ({10 * answered} records), high watermark {hi}")
    print(f"ok: SIGTERM with {PIPELINE_BOUND} produces in flight: {answered} answered in order, exit 0, "
          f"all answered records present after restart")


def main():
    broker = Broker(name="pipeline").start()  # defaults: log.flush.on.acks.all=true
    try:
        topic, expected = in_order(broker)
        beyond_bound(broker)
        bad_request_after_produces(broker)
        closes_while_pending(broker)
        killed_after_acks(broker, topic, expected)
        sigterm_while_pending(broker)
        print("PASS broker-pipeline")
    except BaseException:
        broker.dump_log()
        raise
    finally:
        broker.stop()


main()
