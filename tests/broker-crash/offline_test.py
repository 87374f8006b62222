"""Fail-stop at the broker (REVIEW C3): a partition whose files cannot be loaded,
or whose directory is gone although topics.json lists it, keeps the broker
starting, answers KAFKA_STORAGE_ERROR (56) to Produce and ListOffsets, shows in
Metadata as offline (leader -1, LEADER_NOT_AVAILABLE), is never re-created empty
(in its own log dir or another one), says so in the broker's log and in
millrace_partitions{state="offline"}, and the other partitions work."""
import glob
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.environ.get("MILLRACE_SOURCE", "."), "broker", "testing"))
from broker_proc import Broker  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from partition_wire import KAFKA_STORAGE_ERROR, LEADER_NOT_AVAILABLE, list_offsets_v1, metadata_v7, produce  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402


def main():
    failures = []
    broker = Broker(name="offline")
    data = broker.data_dir
    dirs = [os.path.join(data, "a"), os.path.join(data, "b")]
    broker.extra["log.dirs"] = ",".join(dirs)
    broker.start()
    try:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        admin.create_topics([NewTopic("bad", 3, 1)])["bad"].result(10)
        for p in (0, 1, 2):
            err, _ = produce(broker, "bad", p, b"x%d" % p, 1 + p)
            if err != 0:
                raise SystemExit(f"setup: produce to bad-{p} answered {err}")
        broker.stop()
        copies = glob.glob(os.path.join(data, "*", "bad-0"))
        if len(copies) != 1:
            raise SystemExit(f"setup: expected one bad-0, found {copies}")
        seg = os.path.join(copies[0], "00000000000000000000.log")
        os.remove(seg)
        os.mkdir(seg)  # cannot be opened as a segment file: bad-0 fails to load
        lost = glob.glob(os.path.join(data, "*", "bad-1"))
        shutil.rmtree(lost[0])  # bad-1: listed in topics.json, gone from disk

        broker.start()  # the broker starts anyway
        err, _ = produce(broker, "bad", 0, b"x20", 20)
        if err != KAFKA_STORAGE_ERROR:
            failures.append(f"produce to the broken partition answered {err}, want {KAFKA_STORAGE_ERROR}")
        err, _ = produce(broker, "bad", 1, b"x22", 22)
        if err != KAFKA_STORAGE_ERROR:
            failures.append(f"produce to the lost partition answered {err}, want {KAFKA_STORAGE_ERROR}")
        md = metadata_v7(broker, "bad")  # the stand-ins are offline there too (partition_state.h)
        for p in (0, 1):
            if md[p][:2] != (LEADER_NOT_AVAILABLE, -1) or md[p][5] != [1]:
                failures.append(f"Metadata of offline bad-{p}: {md[p]}; want error 5, leader -1, offline [1]")
            err, _ = list_offsets_v1(broker, "bad", p)
            if err != KAFKA_STORAGE_ERROR:
                failures.append(f"ListOffsets of offline bad-{p} answered {err}")
        if md[2][:2] != (0, 1):
            failures.append(f"Metadata of healthy bad-2: {md[2]}")
        if glob.glob(os.path.join(data, "*", "bad-1")):
            failures.append("the lost partition was re-created empty")
        err, base = produce(broker, "bad", 2, b"x21", 21)
        if err != 0 or base < 1:
            failures.append(f"produce to the healthy partition answered error {err} at offset {base}")
        copies = glob.glob(os.path.join(data, "*", "bad-0"))
        if copies != [os.path.dirname(seg)] or not os.path.isdir(seg):
            failures.append(f"the broken partition was re-created or touched: {copies}")
        log = "".join(broker.lines) + open(broker.log_path).read()  # spdlog writes to stdout
        if "event=partition_load_failed" not in log:
            failures.append("no event=partition_load_failed in the broker log")
        metrics = broker.metrics()
        if 'millrace_partitions{state="offline"} 2' not in metrics:
            failures.append("millrace_partitions{state=\"offline\"} is not 2")
        if 'millrace_log_dir_offline{' not in metrics:
            failures.append("no millrace_log_dir_offline metric")
        broker.stop()  # a clean stop: the broken partition was reported at load
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
    print("PASS broker-crash offline partition: starts, KAFKA_STORAGE_ERROR, not re-created, reported")


main()
