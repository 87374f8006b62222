"""Issue 6's workloads, written once and run against whichever broker is up.

Generators (the same for both brokers):
  W1, W3 writes, W4 data: Kafka's ProducerPerformance (kafka-tools), 1 KiB records,
                           linger.ms=5 batch.size=65536, time-bounded: the tool prints a
                           line every 5 s; the mean of those lines (the first dropped as
                           warm-up when there are more) is the result.
  W2: bench/LatencyBench.java (kafka-clients): fixed rate, latencies from each record's
      due time (produce ack and end-to-end), p50/p99/p99.9.
  W3 reads: Kafka's ConsumerPerformance (MB/s over the fetch time, join excluded), then
      `millrace bench consume` (C++ client, assigned partitions, no group) on the same
      backlog; the CPU seconds the broker and the reader spent show which side limits.
MB are 10^6 bytes everywhere.
"""
import json
import re
import resource
import subprocess
import threading
import time
from pathlib import Path

from brokers import cpu_seconds

RECORD = 1024
INTERVAL_RE = re.compile(r"^(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), ([\d.]+) ms avg latency")
FINAL_RE = re.compile(r"(\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99.9th")


class Java:
    def __init__(self, classpath, bench_classes):
        self.cp = f"{classpath}:{bench_classes}"

    def cmd(self, main, *args):
        return ["java", "-Xms512m", "-Xmx1g", "-cp", self.cp, main, *map(str, args)]


LINGER_MS, BATCH_SIZE = 5, 65536   # every producer generator's settings


def producer_props(bootstrap, acks):
    return [f"bootstrap.servers={bootstrap}", f"acks={acks}", f"linger.ms={LINGER_MS}", f"batch.size={BATCH_SIZE}",
            f"enable.idempotence={'true' if acks == 'all' else 'false'}"]


def produce_for(java, broker, topic, acks, seconds, sample_rss=True):
    """ProducerPerformance at full speed for `seconds`; returns records/s, MB/s, max RSS."""
    args = java.cmd("org.apache.kafka.tools.ProducerPerformance", "--topic", topic,
                    "--num-records", 10**10, "--record-size", RECORD, "--throughput", -1,
                    "--producer-props", *producer_props(broker.bootstrap, acks))
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines, errors = [], []

    def read():
        for line in proc.stdout:
            m = INTERVAL_RE.match(line.strip())
            if m:
                lines.append(float(m.group(2)))
            elif "Exception" in line or "ERROR" in line:
                errors.append(line.strip())
    t = threading.Thread(target=read, daemon=True)
    t.start()
    # The clock starts at the tool's first 5-second report (JVM start and metadata are
    # not the broker's throughput); then `seconds` more, plus one report's worth.
    rss_max, t0 = 0, time.monotonic()
    while not lines and proc.poll() is None and time.monotonic() - t0 < 120:
        time.sleep(0.2)
    t1 = time.monotonic()
    # CPU seconds of the broker and of the generator over the measured window: they
    # say which side limits (a generator near one core per second is the ceiling).
    n1, b1, g1 = len(lines), broker.cpu(), cpu_seconds(proc.pid)
    while time.monotonic() - t1 < seconds + 0.5 and proc.poll() is None:
        time.sleep(1)
        if sample_rss:
            rss_max = max(rss_max, broker.rss() or 0)
    t2, n2, b2, g2 = time.monotonic(), len(lines), broker.cpu(), cpu_seconds(proc.pid)
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    t.join(timeout=5)
    if not lines:
        raise RuntimeError(f"ProducerPerformance reported nothing: {errors[:3]}")
    window = lines[1:] if len(lines) > 1 else lines
    rps = sum(window) / len(window)
    cpu = {}
    if None not in (b1, b2, g1, g2) and n2 > n1:
        gb = sum(lines[n1:n2]) * 5 * RECORD / 1e9          # bytes the tool reported in the window
        wall = t2 - t1
        cpu = {"broker_cores": round((b2 - b1) / wall, 2), "generator_cores": round((g2 - g1) / wall, 2),
               "broker_cpu_s_per_GB": round((b2 - b1) / gb, 2), "generator_cpu_s_per_GB": round((g2 - g1) / gb, 2)}
    return {"records_per_s": round(rps), "MBps": round(rps * RECORD / 1e6, 1),
            "rss_max_bytes": rss_max or None, "intervals": len(lines), "errors": errors[:3], **cpu}


def produce_native_for(build, broker, topic, acks, seconds):
    """`millrace bench produce` (the C++ producer) at full speed for `seconds`, with
    ProducerPerformance's settings (producer_props): a generator that spends less CPU
    per GB, so more of the machine is left to the broker. Returns MB/s (record values)
    and the broker's and the generator's CPU over the run."""
    args = [str(Path(build) / "client/millrace"), "-b", broker.bootstrap, "bench", "produce", "-t", topic,
            "--duration", str(seconds), "--record-size", str(RECORD), "--acks", "-1" if acks == "all" else acks,
            "--batch-size", str(BATCH_SIZE), "--linger-ms", str(LINGER_MS), "-q", "--json"]
    # RUSAGE_CHILDREN counts children once they are waited for: the difference
    # across communicate() is the generator's (the broker is still running).
    c0, b0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), broker.cpu(), time.monotonic()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=seconds + 120)
    c1, b1, wall = resource.getrusage(resource.RUSAGE_CHILDREN), broker.cpu(), time.monotonic() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"millrace bench produce exited {proc.returncode}: {(out + err)[-400:]}")
    r = json.loads(out.strip().splitlines()[-1])
    gb = r["records"] * RECORD / 1e9
    gen = (c1.ru_utime + c1.ru_stime) - (c0.ru_utime + c0.ru_stime)
    res = {"records_per_s": round(r["records_per_sec"]), "MBps": round(r["records_per_sec"] * RECORD / 1e6, 1),
           "failed": r.get("failed", 0), "p99_ms": r.get("latency_ms", {}).get("p99"),
           "generator_cores": round(gen / wall, 2)}
    if gb > 0:
        res["generator_cpu_s_per_GB"] = round(gen / gb, 2)
        if b0 is not None and b1 is not None:
            res["broker_cores"] = round((b1 - b0) / wall, 2)
            res["broker_cpu_s_per_GB"] = round((b1 - b0) / gb, 2)
    return res


def produce_count(java, broker, topic, records, acks="1"):
    """ProducerPerformance for exactly `records` records; returns its final line's numbers."""
    args = java.cmd("org.apache.kafka.tools.ProducerPerformance", "--topic", topic,
                    "--num-records", records, "--record-size", RECORD, "--throughput", -1,
                    "--producer-props", *producer_props(broker.bootstrap, acks))
    t0 = time.monotonic()
    out = subprocess.run(args, capture_output=True, text=True, timeout=1800)
    secs = time.monotonic() - t0
    if out.returncode != 0 or not FINAL_RE.search(out.stdout):
        raise RuntimeError(f"ProducerPerformance failed: {(out.stdout + out.stderr)[-800:]}")
    return {"records": records, "seconds": round(secs, 1), "MBps": round(records * RECORD / secs / 1e6, 1)}


def consume_all(java, broker, topic, records):
    args = java.cmd("org.apache.kafka.tools.ConsumerPerformance", "--bootstrap-server", broker.bootstrap,
                    "--topic", topic, "--messages", records, "--timeout", 60000,
                    "--group", f"bench-{int(time.time())}")
    out = subprocess.run(args, capture_output=True, text=True, timeout=1800)
    rows = [l for l in out.stdout.splitlines() if l.count(",") >= 8]
    if out.returncode != 0 or len(rows) < 2:
        raise RuntimeError(f"ConsumerPerformance failed: {(out.stdout + out.stderr)[-800:]}")
    head = [h.strip() for h in rows[0].split(",")]
    vals = dict(zip(head, [v.strip() for v in rows[-1].split(",")]))
    mib = float(vals["data.consumed.in.MB"])      # the tool's MB are MiB
    fetch_ms = float(vals["fetch.time.ms"])
    got = int(vals["data.consumed.in.nMsg"])
    return {"records": got, "complete": got >= records,
            "MBps": round(mib * 1048576 / 1e6 / (fetch_ms / 1000), 1) if fetch_ms > 0 else None,
            "MBps_with_join": round(float(vals["MB.sec"]) * 1048576 / 1e6, 1),
            "fetch_seconds": round(fetch_ms / 1000, 2)}


def consume_native(build, broker, topic, records):
    """`millrace bench consume` over the whole backlog; MB/s of record values over wall time,
    with the broker's and the reader's CPU seconds during the read."""
    cli = Path(build) / "client/millrace"
    args = [str(cli), "-b", broker.bootstrap, "bench", "consume", "-t", topic, "--records", str(records),
            "--timeout", "900", "--json", "-q"]
    cpu0, kids0 = broker.cpu(), resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=1000)
    cpu1, kids1 = broker.cpu(), resource.getrusage(resource.RUSAGE_CHILDREN)
    reader_cpu = (kids1.ru_utime + kids1.ru_stime) - (kids0.ru_utime + kids0.ru_stime)
    line = next((l for l in out.splitlines() if l.startswith("{")), None)
    if proc.returncode != 0 or not line:
        raise RuntimeError(f"millrace bench consume failed: {(out + err)[-800:]}")
    r = json.loads(line)
    return {"records": r["records"], "complete": r["records"] >= records, "MBps": round(r["mb_per_sec"], 1),
            "seconds": round(r["seconds"], 2),
            "broker_cpu_seconds": round(cpu1 - cpu0, 2) if cpu0 is not None and cpu1 is not None else None,
            "reader_cpu_seconds": round(reader_cpu, 2)}


def latency(java, broker, topic, rate, seconds, acks):
    args = java.cmd("LatencyBench", broker.bootstrap, topic, rate, seconds, RECORD, acks)
    out = subprocess.run(args, capture_output=True, text=True, timeout=seconds * 3 + 120)
    line = next((l for l in out.stdout.splitlines() if l.startswith("{")), None)
    if out.returncode != 0 or not line:
        raise RuntimeError(f"LatencyBench failed: {(out.stdout + out.stderr)[-800:]}")
    return json.loads(line)


def end_offsets(broker, topic, timeout=120):
    """Sum of the topic's log end offsets; retried while partitions have no leader yet
    (right after a restart both brokers answer Metadata before every log is loaded)."""
    from confluent_kafka import Consumer, KafkaException, TopicPartition
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "bench-offsets", "log_level": 0})
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                md = c.list_topics(topic, timeout=10).topics[topic]
                return sum(c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in md.partitions)
            except KafkaException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
    finally:
        c.close()


def compile_java_generators(classpath, out_dir):
    """bench/*.java (LatencyBench for W2 and W5, FailoverWriter for FO) compiled into
    out_dir, again whenever a source is newer than its class."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for src in sorted(Path(__file__).resolve().parent.glob("*.java")):
        cls = out_dir / (src.stem + ".class")
        if not cls.exists() or cls.stat().st_mtime < src.stat().st_mtime:
            subprocess.run(["javac", "-d", str(out_dir), "-cp", classpath, str(src)], check=True)
    return out_dir
