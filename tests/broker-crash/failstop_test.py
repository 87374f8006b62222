"""Fail-stop at runtime (issue 13; storage/log_dir_health.h): a log dir whose
fsync starts failing while the broker runs goes offline, end to end.

The broker runs with tests/broker-crash/eio_shim.c preloaded: once the trigger
file exists, fsync/fdatasync of anything under the second log dir fail with
EIO. Before the trigger, acks=all produces to a partition of that dir are
acknowledged and recorded. After it:
  - the next produce answers KAFKA_STORAGE_ERROR (56), and no produce after
    that is acknowledged; the partition of the healthy dir still works;
  - Metadata v7 shows the partition offline as Kafka's KRaftMetadataCache does
    (LEADER_NOT_AVAILABLE, leader -1, offline_replicas = [the broker]), and so
    does DescribeTopicPartitions (leader -1, offline_replicas);
    ListOffsets, OffsetForLeaderEpoch, DeleteRecords and DescribeLogDirs
    answer KAFKA_STORAGE_ERROR;
  - /readyz is 503 naming the dir, millrace_log_dir_offline{dir} is 1 for it
    (0 for the other), the log has event=log_dir_offline.
Then the broker restarts without the shim: every acknowledged record is there
at its acknowledged offset.

Under an ASan build broker_proc.py puts libasan before the shim in LD_PRELOAD.
"""
import glob
import os
import re
import shutil
import struct
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.environ.get("MILLRACE_SOURCE", "."), "broker", "testing"))
sys.path.insert(0, os.path.join(os.environ.get("MILLRACE_SOURCE", "."), "tests", "broker-pipeline"))
from broker_proc import Broker  # noqa: E402
from frames import frame, recv_frame  # noqa: E402
import wire  # noqa: E402
from confluent_kafka import Consumer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

KAFKA_STORAGE_ERROR = 56
LEADER_NOT_AVAILABLE = 5
TOPIC = "failstop"


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


def produce(broker, partition, value, corr=1):
    s = wire.connect(broker.port)
    try:
        s.sendall(wire.produce_v3(corr, TOPIC, partition, [value]))
        resp = recv_frame(s)
    finally:
        s.close()
    if resp is None:
        raise SystemExit(f"produce to {TOPIC}-{partition}: the broker closed the connection")
    _, parts = wire.parse_produce_v3(resp)
    return parts[0][2], parts[0][3]


def metadata_v7(broker):
    """-> {partition: (error, leader, leader_epoch, replicas, isr, offline)} of TOPIC."""
    body = struct.pack(">i", 1) + struct.pack(">h", len(TOPIC)) + TOPIC.encode() + b"\x00"
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


def describe_topic_partitions_v0(broker):
    """-> {partition: (leader, leader_epoch, replicas, isr, offline)} of TOPIC."""
    name = TOPIC.encode()
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


def list_offsets_v1(broker, partition):
    """-> (error, offset) for the latest offset of TOPIC-partition."""
    body = struct.pack(">ii", -1, 1) + struct.pack(">h", len(TOPIC)) + TOPIC.encode()
    body += struct.pack(">iiq", 1, partition, -1)
    r = request(broker, wire.header(2, 1, 8, b"failstop") + body)
    r.take(">i"), r.string(), r.take(">i")
    _index, err, _ts, offset = r.take(">ihqq")
    return err, offset


def offset_for_leader_epoch_v2(broker, partition):
    """-> error of TOPIC-partition for epoch 0."""
    body = struct.pack(">i", 1) + struct.pack(">h", len(TOPIC)) + TOPIC.encode() + struct.pack(">iiii", 1, partition, -1, 0)
    r = request(broker, wire.header(23, 2, 11, b"failstop") + body)
    r.take(">i"), r.take(">i"), r.string(), r.take(">i")
    return r.take(">h")


def delete_records_v0(broker, partition):
    """-> error of deleting TOPIC-partition before offset 0 (a no-op when online)."""
    body = struct.pack(">i", 1) + struct.pack(">h", len(TOPIC)) + TOPIC.encode() + struct.pack(">iiq", 1, partition, 0)
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


def readyz(broker):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{broker.admin_port}/readyz", timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def gauge(metrics, name, dir_):
    m = re.search(r'^%s\{dir="%s"\} (\S+)$' % (re.escape(name), re.escape(dir_)), metrics, re.M)
    return float(m.group(1)) if m else None


def consume_all(broker, partition):
    """-> {offset: value} of TOPIC-partition up to its high watermark."""
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "failstop-check",
                  "enable.auto.commit": False})
    try:
        _, high = c.get_watermark_offsets(TopicPartition(TOPIC, partition), timeout=10)
        c.assign([TopicPartition(TOPIC, partition, 0)])
        got = {}
        for _ in range(200):
            if high <= 0 or (got and max(got) >= high - 1):
                break
            m = c.poll(0.5)
            if m is None or m.error():
                continue
            got[m.offset()] = m.value()
        return got, high
    finally:
        c.close()


def main():
    build = os.environ.get("MILLRACE_BUILD", "build/release")
    shim = os.path.join(build, "tests", "broker-crash", "libmillrace_eio_shim.so")
    if not os.path.exists(shim):
        raise SystemExit(f"{shim} is missing: build the millrace_eio_shim target")
    failures = []
    broker = Broker(name="failstop")
    data = os.path.realpath(broker.data_dir)
    good_dir, bad_dir = os.path.join(data, "good"), os.path.join(data, "bad")
    trigger = os.path.join(data, "eio.trigger")
    broker.extra["log.dirs"] = ",".join([good_dir, bad_dir])  # topics.json stays in the good one
    broker.preload = [shim]
    broker.env = {"MILLRACE_EIO_DIR": bad_dir, "MILLRACE_EIO_TRIGGER": trigger}
    broker.start()
    try:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        admin.create_topics([NewTopic(TOPIC, 2, 1)])[TOPIC].result(10)
        placed = {p: glob.glob(os.path.join(data, "*", f"{TOPIC}-{p}")) for p in (0, 1)}
        bad = [p for p in (0, 1) if placed[p] == [os.path.join(bad_dir, f"{TOPIC}-{p}")]]
        if len(bad) != 1:
            raise SystemExit(f"setup: expected one partition in {bad_dir}, found {placed}")
        bad, good = bad[0], 1 - bad[0]

        acked = {}  # offset -> value, of the failing dir's partition
        for i in range(20):
            value = b"before-%d" % i
            err, base = produce(broker, bad, value)
            if err != 0:
                raise SystemExit(f"setup: produce before the trigger answered {err}")
            acked[base] = value
        md = metadata_v7(broker)
        if md[bad][0] != 0 or md[bad][1] < 0:
            raise SystemExit(f"setup: Metadata before the trigger: {md[bad]}")

        open(trigger, "w").close()  # from now on fsync under bad_dir fails with EIO
        err, _ = produce(broker, bad, b"at-trigger")
        if err != KAFKA_STORAGE_ERROR:
            failures.append(f"the first produce after the EIO answered {err}, want {KAFKA_STORAGE_ERROR}")
        for i in range(10):
            value = b"after-%d" % i
            err, base = produce(broker, bad, value)
            if err == 0:
                failures.append(f"a produce after the EIO was acknowledged at offset {base}")
                acked[base] = value
            elif err != KAFKA_STORAGE_ERROR:
                failures.append(f"a produce after the EIO answered {err}, want {KAFKA_STORAGE_ERROR}")
        err, _ = produce(broker, good, b"healthy")
        if err != 0:
            failures.append(f"produce to the healthy dir's partition answered {err}")

        md = metadata_v7(broker)
        err, leader, _epoch, replicas, isr, offline = md[bad]
        if (err, leader, offline) != (LEADER_NOT_AVAILABLE, -1, [1]) or replicas != [1] or isr != [1]:
            failures.append(f"Metadata of the offline partition: error {err} leader {leader} replicas {replicas} "
                            f"isr {isr} offline {offline}; want 5, -1, [1], [1], [1]")
        if md[good][:2] != (0, 1) or md[good][5] != []:
            failures.append(f"Metadata of the healthy partition: {md[good]}")
        dtp = describe_topic_partitions_v0(broker)
        if dtp.get(bad, (None,))[0] != -1 or dtp[bad][4] != [1] or dtp.get(good, (None,))[0] != 1:
            failures.append(f"DescribeTopicPartitions: {dtp}; want leader -1 and offline [1] for partition {bad}")
        err, _ = list_offsets_v1(broker, bad)
        if err != KAFKA_STORAGE_ERROR:
            failures.append(f"ListOffsets of the offline partition answered {err}")
        err, _ = list_offsets_v1(broker, good)
        if err != 0:
            failures.append(f"ListOffsets of the healthy partition answered {err}")
        for name, call in (("OffsetForLeaderEpoch", offset_for_leader_epoch_v2), ("DeleteRecords", delete_records_v0)):
            errs = (call(broker, bad), call(broker, good))
            if errs != (KAFKA_STORAGE_ERROR, 0):
                failures.append(f"{name} answered {errs} for the offline and the healthy partition, "
                                f"want ({KAFKA_STORAGE_ERROR}, 0)")
        dirs = describe_log_dirs_v1(broker)
        if dirs.get(bad_dir) != KAFKA_STORAGE_ERROR or dirs.get(good_dir) != 0:
            failures.append(f"DescribeLogDirs: {dirs}")

        status, body = readyz(broker)
        if status != 503 or bad_dir not in body:
            failures.append(f"/readyz answered {status} {body!r}; want 503 naming {bad_dir}")
        metrics = broker.metrics()
        if gauge(metrics, "millrace_log_dir_offline", bad_dir) != 1:
            failures.append(f"millrace_log_dir_offline for {bad_dir} is "
                            f"{gauge(metrics, 'millrace_log_dir_offline', bad_dir)}, want 1")
        in_bad = [d for d in os.listdir(bad_dir) if os.path.isdir(os.path.join(bad_dir, d))]
        if f'millrace_partitions{{state="offline"}} {len(in_bad)}' not in metrics:
            failures.append(f'millrace_partitions{{state="offline"}} is not {len(in_bad)} (the partitions of {bad_dir})')
        if gauge(metrics, "millrace_log_dir_offline", good_dir) != 0:
            failures.append(f"millrace_log_dir_offline for {good_dir} is not 0")
        log = "".join(broker.lines) + open(broker.log_path).read()
        if "event=log_dir_offline" not in log:
            failures.append("no event=log_dir_offline in the broker log")
        if "eio_shim: EIO" not in log:
            failures.append("the shim never failed a call (is LD_PRELOAD in effect?)")
        broker.kill9()  # an offline dir cannot be flushed at shutdown; what is on disk is what counts

        broker.preload, broker.env = [], {}
        os.remove(trigger)
        broker.start()
        got, high = consume_all(broker, bad)
        missing = {o: v for o, v in acked.items() if got.get(o) != v}
        if missing:
            failures.append(f"{len(missing)} of {len(acked)} acknowledged records missing or changed after "
                            f"the restart (high watermark {high}), first {min(missing)}")
        err, _ = produce(broker, bad, b"after-restart")
        if err != 0:
            failures.append(f"produce after the restart without the fault answered {err}")
        broker.stop()
    except BaseException:
        broker.dump_log()
        raise
    finally:
        broker.stop()
        shutil.rmtree(data, ignore_errors=True)
    for f in failures:
        print("FAIL", f)
    if failures:
        raise SystemExit(f"{len(failures)} failure(s)")
    print(f"PASS broker-crash runtime fail-stop: {len(acked)} acknowledged records kept, "
          "KAFKA_STORAGE_ERROR, Metadata offline, /readyz 503, metric 1")


main()
