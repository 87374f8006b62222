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
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.environ.get("MILLRACE_SOURCE", "."), "broker", "testing"))
from broker_proc import Broker  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from partition_wire import (KAFKA_STORAGE_ERROR, LEADER_NOT_AVAILABLE, delete_records_v0,  # noqa: E402
                            describe_log_dirs_v1, describe_topic_partitions_v0, list_offsets_v1,
                            metadata_v7, offset_for_leader_epoch_v2, produce)
from confluent_kafka import Consumer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

TOPIC = "failstop"


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
            err, base = produce(broker, TOPIC, bad, value)
            if err != 0:
                raise SystemExit(f"setup: produce before the trigger answered {err}")
            acked[base] = value
        md = metadata_v7(broker, TOPIC)
        if md[bad][0] != 0 or md[bad][1] < 0:
            raise SystemExit(f"setup: Metadata before the trigger: {md[bad]}")

        open(trigger, "w").close()  # from now on fsync under bad_dir fails with EIO
        err, _ = produce(broker, TOPIC, bad, b"at-trigger")
        if err != KAFKA_STORAGE_ERROR:
            failures.append(f"the first produce after the EIO answered {err}, want {KAFKA_STORAGE_ERROR}")
        for i in range(10):
            value = b"after-%d" % i
            err, base = produce(broker, TOPIC, bad, value)
            if err == 0:
                failures.append(f"a produce after the EIO was acknowledged at offset {base}")
                acked[base] = value
            elif err != KAFKA_STORAGE_ERROR:
                failures.append(f"a produce after the EIO answered {err}, want {KAFKA_STORAGE_ERROR}")
        err, _ = produce(broker, TOPIC, good, b"healthy")
        if err != 0:
            failures.append(f"produce to the healthy dir's partition answered {err}")

        md = metadata_v7(broker, TOPIC)
        err, leader, _epoch, replicas, isr, offline = md[bad]
        if (err, leader, offline) != (LEADER_NOT_AVAILABLE, -1, [1]) or replicas != [1] or isr != [1]:
            failures.append(f"Metadata of the offline partition: error {err} leader {leader} replicas {replicas} "
                            f"isr {isr} offline {offline}; want 5, -1, [1], [1], [1]")
        if md[good][:2] != (0, 1) or md[good][5] != []:
            failures.append(f"Metadata of the healthy partition: {md[good]}")
        dtp = describe_topic_partitions_v0(broker, TOPIC)
        if dtp.get(bad, (None,))[0] != -1 or dtp[bad][4] != [1] or dtp.get(good, (None,))[0] != 1:
            failures.append(f"DescribeTopicPartitions: {dtp}; want leader -1 and offline [1] for partition {bad}")
        err, _ = list_offsets_v1(broker, TOPIC, bad)
        if err != KAFKA_STORAGE_ERROR:
            failures.append(f"ListOffsets of the offline partition answered {err}")
        err, _ = list_offsets_v1(broker, TOPIC, good)
        if err != 0:
            failures.append(f"ListOffsets of the healthy partition answered {err}")
        for name, call in (("OffsetForLeaderEpoch", offset_for_leader_epoch_v2), ("DeleteRecords", delete_records_v0)):
            errs = (call(broker, TOPIC, bad), call(broker, TOPIC, good))
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
        err, _ = produce(broker, TOPIC, bad, b"after-restart")
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
