import os
import re
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.environ.get("MILLRACE_SOURCE", "."), "broker", "testing"))
from broker_proc import Broker  # noqa: E402
from confluent_kafka import Consumer  # noqa: E402

REQUIRED = [
    "millrace_requests_total", "millrace_request_errors_total", "millrace_request_duration_seconds_bucket",
    "millrace_topic_bytes_in_total", "millrace_topic_bytes_out_total", "millrace_topic_records_in_total",
    "millrace_topic_records_out_total", "millrace_partition_log_end_offset", "millrace_partition_high_watermark",
    "millrace_partition_log_start_offset", "millrace_partition_size_bytes", "millrace_partitions",
    "millrace_consumer_group_lag", "millrace_consumer_group_members", "millrace_connections",
    "millrace_connections_accepted_total", "millrace_fetch_waiting", "millrace_process_resident_memory_bytes",
    "millrace_log_dir_used_bytes", "millrace_log_dir_free_bytes", "millrace_log_dir_capacity_bytes",
    "millrace_broker_ready", "millrace_build_info",
    "millrace_fetch_sessions", "millrace_fetch_session_partitions", "millrace_fetch_sessions_created_total",
    "millrace_fetch_session_evictions_total", "millrace_fetch_incremental_requests_total",
    "millrace_fetch_sessions_declined_total",
    "millrace_connections_refused_total", "millrace_request_memory_bytes", "millrace_request_memory_waits_total",
    "millrace_sendfile_warmups_total",
    "millrace_fetch_follower_reads_total", "millrace_fetch_preferred_read_replica_total",
    "millrace_partition_bytes_in_total", "millrace_partition_bytes_out_total",
]


def value(text, pattern):
    for line in text.splitlines():
        if re.match(pattern, line):
            return float(line.rsplit(" ", 1)[1])
    return None


def main():
    broker = Broker(name="metrics").start()
    try:
        for path, code in (("/healthz", 200), ("/readyz", 200)):
            with urllib.request.urlopen(f"http://127.0.0.1:{broker.admin_port}{path}", timeout=5) as r:
                assert r.status == code, (path, r.status)
        lines = "".join(f"k{i}:value-{i}\n" for i in range(100))
        subprocess.run(["kcat", "-b", broker.bootstrap, "-P", "-t", "metered", "-K:"], input=lines.encode(),
                       check=True, timeout=60)
        out = subprocess.run(["kcat", "-b", broker.bootstrap, "-C", "-t", "metered", "-o", "beginning", "-e", "-q"],
                             check=True, timeout=60, capture_output=True)
        if out.stdout.decode().count("\n") != 100:
            raise SystemExit(f"kcat consumed {out.stdout.decode().count(chr(10))} records, expected 100")
        # A group that commits 40 of 100: lag 60.
        c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "meter-group"})
        from confluent_kafka import TopicPartition
        c.commit(offsets=[TopicPartition("metered", 0, 40)], asynchronous=False)
        c.close()
        # An unknown topic's ListOffsets error is counted.
        subprocess.run(["kcat", "-b", broker.bootstrap, "-Q", "-t", "nosuch:0:-1"], timeout=30,
                       capture_output=True)
        time.sleep(0.2)
        text = broker.metrics()
        check = subprocess.run(["promtool", "check", "metrics"], input=text.encode(), capture_output=True)
        if check.returncode != 0:
            sys.stderr.write(text[:3000])
            raise SystemExit(f"promtool check metrics failed:\n{check.stdout.decode()}{check.stderr.decode()}")
        missing = [n for n in REQUIRED if not re.search(rf"^{n}[{{ ]", text, re.M)]
        if missing:
            raise SystemExit(f"missing metric names: {missing}")
        checks = {
            r'millrace_topic_records_in_total\{topic="metered"\}': 100,
            r'millrace_partition_log_end_offset\{topic="metered",partition="0"\}': 100,
            r'millrace_consumer_group_lag\{group="meter-group",.*topic="metered"': 60,
            r"millrace_broker_ready ": 1,
        }
        for pattern, want in checks.items():
            got = value(text, pattern)
            if got != want:
                raise SystemExit(f"{pattern}: {got}, expected {want}")
        if (value(text, r'millrace_requests_total\{api="Produce"\}') or 0) < 1:
            raise SystemExit("no Produce request counted")
        if (value(text, r'millrace_topic_bytes_out_total\{topic="metered"\}') or 0) <= 0:
            raise SystemExit("no bytes out counted for the consumed topic")
        # Per partition (the rebalance planner's load facts): they add up to the topic's.
        for way in ("in", "out"):
            topic = value(text, rf'millrace_topic_bytes_{way}_total\{{topic="metered"\}}') or 0
            parts = sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                        if re.match(rf'millrace_partition_bytes_{way}_total\{{partition="\d+",topic="metered"\}}', line))
            if parts <= 0 or parts != topic:
                raise SystemExit(f"millrace_partition_bytes_{way}_total over metered's partitions: {parts}, "
                                 f"the topic's series: {topic}")
        print(f"PASS broker-metrics: promtool accepts {len(text.splitlines())} lines; "
              f"all {len(REQUIRED)} contract names present; values match the traffic")
    except BaseException:
        broker.dump_log()
        raise
    finally:
        broker.stop()


main()
