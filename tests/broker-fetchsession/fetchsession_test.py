"""KIP-227 fetch sessions, driven with raw Fetch v11 requests against a real broker.

Fetch v11 request:  replica_id i32, max_wait_ms i32, min_bytes i32, max_bytes i32,
  isolation_level i8, session_id i32, session_epoch i32,
  topics [name str, partitions [partition i32, current_leader_epoch i32,
  fetch_offset i64, log_start_offset i64, partition_max_bytes i32]],
  forgotten [name str, partitions [i32]], rack_id str
Fetch v11 response: throttle_time_ms i32, error_code i16, session_id i32,
  responses [name str, partitions [index i32, error i16, high_watermark i64,
  last_stable_offset i64, log_start_offset i64, aborted [..] (nullable),
  preferred_read_replica i32, records bytes]]
Fetch v13 (one empty incremental request, to check FETCH_SESSION_TOPIC_ID_ERROR) is the
flexible form: compact arrays and strings, tagged-field bytes, topics named by id.
"""
import os
import re
import socket
import struct
import sys

sys.path.insert(0, os.path.join(os.environ.get("MILLRACE_SOURCE", "."), "broker", "testing"))
from broker_proc import Broker  # noqa: E402
from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

TOPIC = "fs"
FETCH_SESSION_ID_NOT_FOUND = 70
INVALID_FETCH_SESSION_EPOCH = 71
FETCH_SESSION_TOPIC_ID_ERROR = 106


def s16(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=15)
        self.corr = 0

    def fetch(self, session_id, epoch, partitions=(), forgotten=(), max_wait=0, min_bytes=0):
        """partitions: [(partition, fetch_offset)]; forgotten: [partition]. Returns
        (error, session_id, {partition: (error, hw, log_start, record_bytes)})."""
        self.corr += 1
        body = struct.pack(">iiiibii", -1, max_wait, min_bytes, 1 << 20, 0, session_id, epoch)
        if partitions:
            body += struct.pack(">i", 1) + s16(TOPIC) + struct.pack(">i", len(partitions))
            for p, off in partitions:
                body += struct.pack(">iiqqi", p, -1, off, -1, 1 << 20)
        else:
            body += struct.pack(">i", 0)
        if forgotten:
            body += struct.pack(">i", 1) + s16(TOPIC) + struct.pack(">i", len(forgotten))
            body += b"".join(struct.pack(">i", p) for p in forgotten)
        else:
            body += struct.pack(">i", 0)
        body += s16("")
        req = struct.pack(">hhi", 1, 11, self.corr) + s16("fetchsession") + body
        self.sock.sendall(struct.pack(">i", len(req)) + req)
        return self.parse(self.recv())

    def incremental_v13(self, session_id, epoch):
        """An empty incremental Fetch v13 (topics by id, flexible encoding); returns its error code."""
        self.corr += 1
        body = struct.pack(">iiiibii", -1, 0, 0, 1 << 20, 0, session_id, epoch)
        body += b"\x01" + b"\x01" + b"\x01" + b"\x00"  # no topics, no forgotten, rack "" , tags
        req = struct.pack(">hhi", 1, 13, self.corr) + s16("fetchsession") + b"\x00" + body
        self.sock.sendall(struct.pack(">i", len(req)) + req)
        r = self.recv()
        corr, _tags, _throttle, err, _sid = struct.unpack(">ibihi", r[:15])
        if corr != self.corr:
            raise SystemExit(f"correlation {corr}, expected {self.corr}")
        return err

    def recv(self):
        def exact(n):
            buf = b""
            while len(buf) < n:
                chunk = self.sock.recv(n - len(buf))
                if not chunk:
                    raise SystemExit("broker closed the connection")
                buf += chunk
            return buf
        (size,) = struct.unpack(">i", exact(4))
        return exact(size)

    def parse(self, r):
        corr, _throttle, err, sid = struct.unpack(">iihi", r[:14])
        if corr != self.corr:
            raise SystemExit(f"correlation {corr}, expected {self.corr}")
        pos = 14
        out = {}
        (ntopics,) = struct.unpack(">i", r[pos:pos + 4])
        pos += 4
        for _ in range(ntopics):
            (n,) = struct.unpack(">h", r[pos:pos + 2])
            name = r[pos + 2:pos + 2 + n].decode()
            pos += 2 + n
            if name != TOPIC:
                raise SystemExit(f"response names topic {name!r}")
            (nparts,) = struct.unpack(">i", r[pos:pos + 4])
            pos += 4
            for _ in range(nparts):
                idx, perr, hw, _lso, lstart = struct.unpack(">ihqqq", r[pos:pos + 30])
                pos += 30
                (naborted,) = struct.unpack(">i", r[pos:pos + 4])
                pos += 4 + max(naborted, 0) * 16
                pos += 4  # preferred_read_replica
                (nbytes,) = struct.unpack(">i", r[pos:pos + 4])
                pos += 4 + max(nbytes, 0)
                if idx in out:
                    raise SystemExit(f"partition {idx} twice in one response")
                out[idx] = (perr, hw, lstart, max(nbytes, 0))
        return err, sid, out


def produce(broker, partition, n=1):
    p = Producer({"bootstrap.servers": broker.bootstrap})
    for i in range(n):
        p.produce(TOPIC, value=f"v{partition}-{i}".encode(), partition=partition)
    if p.flush(15) != 0:
        raise SystemExit("produce did not complete")


def metric(broker, name):
    m = re.search(rf"^{name} (\S+)$", broker.metrics(), re.M)
    return float(m.group(1)) if m else None


def expect(cond, what):
    if not cond:
        raise SystemExit(f"FAIL: {what}")
    print(f"ok: {what}")


def main():
    broker = Broker(name="fetchsession", extra={"max.incremental.fetch.session.cache.slots": 1}).start()
    try:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        admin.create_topics([NewTopic(TOPIC, 3, 1)])[TOPIC].result(15)
        for p in range(3):
            produce(broker, p)
        c = Conn(broker.port)

        err, sid, parts = c.fetch(0, 0, [(0, 0), (1, 0), (2, 0)])
        expect(err == 0 and sid > 0, f"full fetch at epoch 0 opens a session (id {sid})")
        expect(sorted(parts) == [0, 1, 2] and all(v[3] > 0 and v[1] == 1 for v in parts.values()),
               "the full response carries every partition with its record")

        err, sid1, parts = c.fetch(sid, 1, [(0, 1), (1, 1), (2, 1)], max_wait=100, min_bytes=1)
        expect(err == 0 and sid1 == sid and parts == {},
               "incremental fetch with nothing new answers no partitions")

        produce(broker, 1)
        err, _, parts = c.fetch(sid, 2)
        expect(err == 0 and sorted(parts) == [1] and parts[1][3] > 0 and parts[1][1] == 2,
               "after a produce to partition 1 the incremental response carries only partition 1")

        err, sid_dup, parts = c.fetch(sid, 2)
        expect(err == INVALID_FETCH_SESSION_EPOCH and parts == {},
               "a repeated epoch gets INVALID_FETCH_SESSION_EPOCH (71)")

        err, _, parts = c.fetch(sid, 3, [(1, 2)], forgotten=[2])
        expect(err == 0 and parts == {}, "moving partition 1's offset and forgetting partition 2 answers nothing")
        produce(broker, 2)
        err, _, parts = c.fetch(sid, 4)
        expect(err == 0 and parts == {}, "new data in the forgotten partition 2 is not sent")
        produce(broker, 0)
        err, _, parts = c.fetch(sid, 5)
        expect(err == 0 and sorted(parts) == [0], "new data in partition 0, still in the session, is sent")

        err = c.incremental_v13(sid, 6)
        expect(err == FETCH_SESSION_TOPIC_ID_ERROR,
               "continuing a by-name session with Fetch v13 (topic ids) gets FETCH_SESSION_TOPIC_ID_ERROR (106)")
        err, _, parts = c.fetch(sid, 6, [(0, 2)])
        expect(err == 0 and parts == {}, "the refused request did not move the session's epoch")

        err, _, _ = c.fetch(12345678, 1)
        expect(err == FETCH_SESSION_ID_NOT_FOUND, "an unknown session id gets FETCH_SESSION_ID_NOT_FOUND (70)")

        expect(metric(broker, "millrace_fetch_sessions") == 1 and
               metric(broker, "millrace_fetch_session_partitions") == 2,
               "metrics: 1 session holding 2 partitions")
        expect(metric(broker, "millrace_fetch_incremental_requests_total") == 6,
               "metrics: 6 incremental fetches served")

        # One slot: a second session is declined while the first is young.
        err, other, parts = c.fetch(0, 0, [(0, 0)])
        expect(err == 0 and other == 0 and sorted(parts) == [0],
               "with max.incremental.fetch.session.cache.slots=1 a second session is declined (id 0)")
        expect(metric(broker, "millrace_fetch_sessions_declined_total") == 1, "metrics: 1 declined")

        err, closed, parts = c.fetch(sid, -1, [(0, 0)])
        expect(err == 0 and closed == 0 and sorted(parts) == [0],
               "epoch -1 closes the session and answers sessionless")
        err, _, _ = c.fetch(sid, 7)
        expect(err == FETCH_SESSION_ID_NOT_FOUND, "the closed session is gone")
        expect(metric(broker, "millrace_fetch_sessions") == 0 and
               metric(broker, "millrace_fetch_session_partitions") == 0, "metrics: no sessions left")
        c.sock.close()
        print("PASS broker-fetchsession")
    except BaseException:
        broker.dump_log()
        raise
    finally:
        broker.stop()


main()
