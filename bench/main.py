#!/usr/bin/python3
"""make bench: issue 6's workloads against Apache Kafka and Millrace, one broker at a time
on the same disk, the machine's limits in the same run, results in BENCH_OUT/results.json
(rewritten after every step, so a failed run keeps what it measured) and
docs/benchmarks.md regenerated from them (bench/report.py).

Usage: bench/run-all BUILD_DIR
Env (defaults for the real run; shrink them to smoke-test):
  BENCH_SECONDS=60        W1 and W2 duration per case
  BENCH_BACKLOG_GB=10     W3 backlog size
  BENCH_RESTART_GB=5      W4 data before kill -9
  BENCH_LIMIT_SECONDS=10  fio and iperf3 duration each
  BENCH_TARGETS=kafka,millrace,millrace-fsync
  BENCH_WORKLOADS=limits,W1,W2,W3,W4,FO,W5,IDLE10K   (add W1N: W1 driven by `millrace bench produce`, 30 s
                          cases, opt-in so the default run stays under 30 minutes)
                          Replicated workloads of issue 18 (3-node clusters, bench/clusters.py;
                          FO about 16 min with 20 kills per client, W5 about 8 min at 60 s per case,
                          IDLE10K about 4 min):
                          FO  failover after kill -9 of a partition leader (bench/failover.py)
                          W5  W1's and W2's generators against RF 3, acks=all, 16 partitions
                          CATCHUP  a follower that was down catching up (bench/catchup.py), about 5 min
                          IDLE10K  idle CPU and inter-broker bytes/s of many replicated
                                   partitions on 3 Millrace brokers (bench/idle.py)
  BENCH_FAILOVER_KILLS=20 FO rounds per side
  BENCH_FO_CLIENTS=librdkafka,java   FO's producers, each against both sides
  BENCH_CATCHUP_GB=2      CATCHUP: GB written while a follower is down (bench/catchup.py)
  BENCH_W5_RATE           W5's fixed latency rate (default: half of Kafka's W5 throughput)
  BENCH_IDLE_PARTITIONS=10000, BENCH_IDLE_SECONDS=30   IDLE10K's size and window
  BENCH_IDLE_SETTLE=15                                 IDLE10K's wait between all in sync and the window
  BENCH_OUT=build/bench   results.json, broker data (same disk as the checkout), logs
  BENCH_MERGE=1           keep the previous results.json's sections of workloads not rerun
  BENCH_DOC=docs/benchmarks.md   the report written (a smoke test can write elsewhere)
Flush settings: Kafka runs with its defaults (flush.messages and flush.ms unbounded:
the OS writes the page cache back, no fsync per request). "millrace" runs in the mode
matching Kafka's (log.flush.on.acks.all=false: no fsync per request, acks=all answered
from the page cache). "millrace-fsync" is Millrace's default durability: acks=all is
answered after an fdatasync shared by concurrent producers (group commit); it runs
acks=all cases only.
"""
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import limits  # noqa: E402
import report  # noqa: E402
import workloads as wl  # noqa: E402
import clusters  # noqa: E402
import catchup  # noqa: E402
import failover  # noqa: E402
import idle  # noqa: E402
from brokers import Kafka, Millrace  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FLUSH = {
    "kafka": "Kafka defaults: log.flush.interval.messages and log.flush.interval.ms unset (Long.MAX); "
             "no fsync per request, the OS flushes the page cache",
    "millrace": "mode matching Kafka's: log.flush.on.acks.all=false, log.flush.interval.messages/ms = Long.MAX; "
                "no fsync per request",
    "millrace-fsync": "Millrace's default durability: acks=all answered after an fdatasync shared by concurrent "
                      "producers (group commit)",
}
W1_CASES = [(1, "1"), (1, "all"), (16, "1"), (16, "all")]
SECTIONS = ("limits", "W1", "W1N", "W2", "W3", "W4", "FO", "W5", "CATCHUP", "IDLE10K")
REPLICATED_FLUSH = {
    "kafka": "Kafka defaults: no fsync per request (flush.messages/flush.ms unbounded); acks=all answered when "
             "every in-sync replica holds the batch in its page cache",
    "millrace-fsync": "Millrace defaults: log.flush.on.acks.all=true, acks=all answered when a majority of the "
                      "replicas hold the batch fdatasync'd (group commit on each replica)",
    "millrace": "log.flush.on.acks.all=false (Kafka's durability): acks=all answered when a majority holds the "
                "batch, no fsync per request",
}


class Run:
    def __init__(self, build):
        env = os.environ
        self.build = Path(build).resolve()
        self.seconds = int(env.get("BENCH_SECONDS", 60))
        self.w1n_seconds = int(env.get("BENCH_W1N_SECONDS", 30))
        self.backlog_gb = float(env.get("BENCH_BACKLOG_GB", 10))
        self.restart_gb = float(env.get("BENCH_RESTART_GB", 5))
        self.limit_seconds = int(env.get("BENCH_LIMIT_SECONDS", 10))
        self.targets = env.get("BENCH_TARGETS", "kafka,millrace,millrace-fsync").split(",")
        self.workloads = env.get("BENCH_WORKLOADS", "limits,W1,W2,W3,W4,FO,W5,CATCHUP,IDLE10K").split(",")
        self.out = Path(env.get("BENCH_OUT", ROOT / "build/bench")).resolve()
        self.data = self.out / "data"
        self.kills = int(env.get("BENCH_FAILOVER_KILLS", 20))
        self.catchup_gb = float(env.get("BENCH_CATCHUP_GB", 2))
        self.w5_rate = int(env["BENCH_W5_RATE"]) if env.get("BENCH_W5_RATE") else None
        self.idle_partitions = int(env.get("BENCH_IDLE_PARTITIONS", 10000))
        self.idle_seconds = int(env.get("BENCH_IDLE_SECONDS", 30))
        self.idle_settle = int(env.get("BENCH_IDLE_SETTLE", 15))
        self.t0 = time.monotonic()
        self.step, self.steps = 0, self.count_steps()
        self.results = {
            "meta": {
                "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                "host": platform.node(), "cpus": os.cpu_count(), "kernel": platform.release(),
                "memory_bytes": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"),
                "loadavg_at_start": [round(x, 1) for x in os.getloadavg()],
                "kafka_version": Kafka.version(), "millrace_revision": git_rev(),
                "bench_seconds": self.seconds, "backlog_gb": self.backlog_gb, "restart_gb": self.restart_gb,
                "record_bytes": wl.RECORD, "flush_settings": {t: FLUSH[t] for t in self.targets},
                "generators": {
                    "W1": "Kafka ProducerPerformance, 1 KiB records, linger.ms=5 batch.size=65536, "
                          "idempotence on for acks=all",
                    "W2": "bench/LatencyBench.java (kafka-clients): fixed rate, latency from each record's due time",
                    "W3": "ProducerPerformance to fill; read by ConsumerPerformance (MB/s over fetch time) and "
                          "by `millrace bench consume` (C++ client, MB/s of values over wall time)",
                    "W4": "RSS from /proc/PID/status VmRSS; cold start = exec until ready and answering Metadata; "
                          "restart = exec after kill -9 until every partition's end offset is served",
                },
            },
            "limits": {}, "W1": [], "W2": [], "W3": [], "W4": {}, "errors": [],
            "FO": {}, "W5": [], "CATCHUP": {}, "IDLE10K": {},
        }

    def merge_previous(self):
        """BENCH_MERGE=1: keep the previous results.json's sections for workloads not rerun."""
        prev = self.out / "results.json"
        if os.environ.get("BENCH_MERGE") != "1" or not prev.exists():
            return
        old = json.loads(prev.read_text())
        for w in SECTIONS:
            if w not in self.workloads and w in old:
                self.results[w] = old[w]
        if "W2" not in self.workloads and "W2_rate" in old:
            self.results["W2_rate"] = old["W2_rate"]
        if "W5" not in self.workloads and "W5_rate" in old:
            self.results["W5_rate"] = old["W5_rate"]
        self.results["errors"] = [e for e in old.get("errors", [])
                                  if e.split(" ")[0].rstrip(":") not in self.workloads]
        self.results["meta"]["merged_from"] = old["meta"].get("date")
        self.results["meta"]["merged_revision"] = old["meta"].get("merged_revision") or old["meta"].get("millrace_revision")
        # Where each section was measured: kept from the old file for the sections
        # kept, this run for the ones rerun.
        om = old["meta"]
        runs = dict(om.get("workload_runs") or {w: {"date": om.get("date"), "revision": om.get("millrace_revision")}
                                                for w in SECTIONS if old.get(w)})
        for w in self.workloads:
            runs[w] = {"date": self.results["meta"]["date"], "revision": self.results["meta"]["millrace_revision"]}
        self.results["meta"]["workload_runs"] = runs
        self.results["meta"]["rerun_workloads"] = [w for w in self.workloads
                                                  if w in SECTIONS]
        self.results["meta"]["elapsed_seconds_previous"] = old["meta"].get("elapsed_seconds")
        # What describes the kept sections stays the old run's: its durations and flush
        # settings when no single-node workload is rerun, the generators and the
        # replicated runs' setup of the sections kept, how long each kept section took.
        meta = self.results["meta"]
        if not {"W1", "W1N", "W2", "W3", "W4"} & set(self.workloads):
            for k in ("bench_seconds", "backlog_gb", "restart_gb", "flush_settings"):
                if k in om:
                    meta[k] = om[k]
        for w, g in (om.get("generators") or {}).items():
            if w not in self.workloads:
                meta["generators"][w] = g
        # IDLE10K alone sets none of them (W5's "s per case" is its own run's).
        if not {"FO", "W5", "CATCHUP"} & set(self.workloads):
            for k in ("replicated_flush", "replicated_setup", "replicated_seconds"):
                if k in om:
                    meta[k] = om[k]
        meta["workload_seconds"] = {w: t for w, t in (om.get("workload_seconds") or {}).items()
                                    if w not in self.workloads}

    def count_steps(self):
        n = 0
        if "limits" in self.workloads:
            n += 3
        for t in self.targets:
            for w in ("W1", "W1N"):
                if w in self.workloads:
                    n += sum(1 for _, a in W1_CASES if self.case_applies(t, a))
            n += ("W2" in self.workloads) + ("W3" in self.workloads and t != "millrace-fsync")
            n += ("W4" in self.workloads) * (1 + (t != "millrace-fsync"))
        n += ("FO" in self.workloads) * len(self.fo_sides()) * len(self.fo_clients()) + ("W5" in self.workloads) * 3 * len(self.w5_sides())
        n += ("CATCHUP" in self.workloads) * len(self.fo_sides())
        n += "IDLE10K" in self.workloads
        return n

    def fo_sides(self):
        """FO's sides: Kafka, then Millrace with its defaults (labelled millrace-fsync)."""
        return (["kafka"] if "kafka" in self.targets else []) + \
            (["millrace-fsync"] if any(t.startswith("millrace") for t in self.targets) else [])

    @staticmethod
    def fo_clients():
        """FO's producers: librdkafka's, then Kafka's own Java producer (BENCH_FO_CLIENTS)."""
        return [c for c in os.environ.get("BENCH_FO_CLIENTS", "librdkafka,java").split(",")
                if c in ("librdkafka", "java")]

    def w5_sides(self):
        """W5's sides, Kafka first (the latency rate is half of its throughput): kafka,
        millrace-fsync (Millrace's defaults), millrace (log.flush.on.acks.all=false)."""
        return [t for t in ("kafka", "millrace-fsync", "millrace") if t in self.targets]

    @staticmethod
    def case_applies(target, acks):
        return target != "millrace-fsync" or acks == "all"

    def progress(self, what, count=True):
        if count:
            self.step += 1
        el = int(time.monotonic() - self.t0)
        print(f"[{el // 60:02d}:{el % 60:02d}] step {self.step}/{self.steps}: {what}", file=sys.stderr, flush=True)

    def save(self):
        self.out.mkdir(parents=True, exist_ok=True)
        self.results["meta"]["elapsed_seconds"] = round(time.monotonic() - self.t0)
        self.results["meta"]["loadavg_at_end"] = [round(x, 1) for x in os.getloadavg()]
        (self.out / "results.json").write_text(json.dumps(self.results, indent=2) + "\n")

    def broker(self, target, name):
        d = self.data / f"{target}-{name}"
        shutil.rmtree(d, ignore_errors=True)
        if target == "kafka":
            return Kafka(d)
        sets = [] if target == "millrace-fsync" else ["log.flush.on.acks.all=false"]
        return Millrace(self.build, d, sets)

    def guarded(self, label, fn):
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - one failed case must not lose the others
            msg = f"{label}: {e}"
            print(f"  error: {msg}", file=sys.stderr)
            self.results["errors"].append(msg)
            traceback.print_exc(limit=2)
        self.save()

    def guarded_value(self, label, fn):
        """fn() or None; a failure is recorded like guarded()'s, the case goes on."""
        try:
            return fn()
        except Exception as e:  # noqa: BLE001
            print(f"  error: {label}: {e}", file=sys.stderr)
            self.results["errors"].append(f"{label}: {e}")
            return None

    # -- workloads ---------------------------------------------------------------------
    def run_limits(self):
        limits.measure(self.data / "fio", self.limit_seconds, self.progress, self.results["limits"])

    def run_w1(self, java):
        self.produce_cases("W1", "", self.seconds, lambda b, topic, acks: wl.produce_for(java, b, topic, acks, self.seconds))

    def run_w1n(self):
        """W1N (opt-in, BENCH_WORKLOADS=...,W1N): W1's cases driven by `millrace bench
        produce` instead of ProducerPerformance."""
        self.produce_cases("W1N", "C++ generator, ", self.w1n_seconds,
                           lambda b, topic, acks: wl.produce_native_for(self.build, b, topic, acks, self.w1n_seconds))

    def produce_cases(self, section, what, seconds, produce):
        """W1's cases (partitions x acks, each target on a fresh broker) through produce(broker, topic, acks)."""
        self.results[section] = []
        topic = section.lower()
        for target in self.targets:
            for parts, acks in W1_CASES:
                if not self.case_applies(target, acks):
                    continue
                self.progress(f"{section} {target}: {parts} partition(s), acks={acks}, {what}{seconds}s")

                def case():
                    b = self.broker(target, f"{topic}-{parts}-{acks}").start()
                    try:
                        b.create_topic(topic, parts)
                        r = produce(b, topic, acks)
                    finally:
                        b.stop()
                        b.wipe()
                    self.results[section].append({"target": target, "partitions": parts, "acks": acks, **r})
                    print(f"  {r['MBps']} MB/s, {r['records_per_s']} records/s", file=sys.stderr)
                self.guarded(f"{section} {target} {parts}p acks={acks}", case)

    def w2_rate(self):
        kafka = [r for r in self.results["W1"] if r["target"] == "kafka"]
        same = [r for r in kafka if r["partitions"] == 16 and r["acks"] == "all"]
        best = max((r["records_per_s"] for r in (same or kafka)), default=0)
        return max(best // 2, 1000), (same or kafka or [{}])[0]

    def run_w2(self, java):
        rate, base = self.w2_rate()
        self.results["W2_rate"] = {"records_per_s": rate, "basis": "half of Kafka's W1 16 partitions acks=all"
                                   if base.get("partitions") == 16 else "fallback 1000/s (no Kafka W1 result)"}
        for target in self.targets:
            self.progress(f"W2 {target}: {rate} records/s, acks=all, 16 partitions, {self.seconds}s")

            def case():
                b = self.broker(target, "w2").start()
                try:
                    b.create_topic("w2", 16)
                    r = wl.latency(java, b, "w2", rate, self.seconds, "all")
                finally:
                    b.stop()
                    b.wipe()
                self.results["W2"].append({"target": target, "acks": "all", "partitions": 16, **r})
                print(f"  produce p99 {r['produce_ms']['p99']} ms, e2e p99 {r['e2e_ms']['p99']} ms", file=sys.stderr)
            self.guarded(f"W2 {target}", case)

    def run_w3(self, java):
        records = int(self.backlog_gb * 1e9 / wl.RECORD)
        for target in [t for t in self.targets if t != "millrace-fsync"]:
            self.progress(f"W3 {target}: write {self.backlog_gb} GB, then read it")

            def case():
                b = self.broker(target, "w3").start()
                try:
                    b.create_topic("w3", 16)
                    w = wl.produce_count(java, b, "w3", records)
                    r = wl.consume_all(java, b, "w3", records)
                    n = self.guarded_value(f"W3 {target} native reader",
                                           lambda: wl.consume_native(self.build, b, "w3", records))
                finally:
                    b.stop()
                    b.wipe()
                self.results["W3"].append({"target": target, "backlog_bytes": records * wl.RECORD,
                                           "write": w, **r, "native": n})
                print(f"  read {r['MBps']} MB/s (ConsumerPerformance), "
                      f"{n and n['MBps']} MB/s (millrace bench consume)", file=sys.stderr)
            self.guarded(f"W3 {target}", case)

    def run_w4(self, java):
        records = int(self.restart_gb * 1e9 / wl.RECORD)
        for target in self.targets:
            entry = self.results["W4"].setdefault(target, {})
            w1 = [r["rss_max_bytes"] for r in self.results["W1"] if r["target"] == target and r.get("rss_max_bytes")]
            entry["rss_under_w1_bytes"] = max(w1) if w1 else None
            self.progress(f"W4 {target}: cold start and idle RSS")

            def cold():
                b = self.broker(target, "w4-cold").start()   # first start (Kafka formats here)
                b.stop()
                b.start()                                      # the measured start: empty, initialised dir
                entry["cold_start_seconds"] = round(b.start_seconds, 3)
                time.sleep(5)
                entry["idle_rss_bytes"] = b.rss()
                b.stop()
                b.wipe()
            self.guarded(f"W4 {target} cold start", cold)
            if target == "millrace-fsync":
                continue
            self.progress(f"W4 {target}: restart after kill -9 with {self.restart_gb} GB")

            def restart():
                b = self.broker(target, "w4-restart").start()
                try:
                    b.create_topic("w4", 16)
                    wl.produce_count(java, b, "w4", records)
                    before = wl.end_offsets(b, "w4")
                    b.stop(kill=True)
                    t0 = time.monotonic()
                    b.start(timeout=600)
                    after = wl.end_offsets(b, "w4", timeout=600)   # every partition served again
                    entry["restart_after_kill_seconds"] = round(time.monotonic() - t0, 3)
                    entry["restart_records_before"] = before
                    entry["restart_records_after"] = after
                finally:
                    b.stop()
                    b.wipe()
            self.guarded(f"W4 {target} restart", restart)

    # -- replicated workloads (issue 18): 3-node clusters -------------------------------
    def cluster(self, side, name):
        kind = "kafka" if side == "kafka" else "millrace"
        sets = {"log.flush.on.acks.all": "false"} if side == "millrace" else None
        return clusters.cluster(kind, self.build, self.data / f"{side}-{name}", sets)

    def describe_replicated(self):
        m = self.results["meta"]
        m["replicated_seconds"] = self.seconds
        m["replicated_kills"] = self.kills
        m["replicated_flush"] = {s: REPLICATED_FLUSH[s] for s in dict.fromkeys(self.fo_sides() + self.w5_sides())}
        m["replicated_setup"] = (
            "3 nodes per side on this machine, each broker+controller (KRaft quorum of the 3), on 127.0.0.1; "
            "topics of replication factor 3 with min.insync.replicas=2. Kafka: defaults plus "
            "group.initial.rebalance.delay.ms=0, 1 GiB heap per node (tests/peers/kafka's JVM flags). "
            "Millrace: defaults plus group.initial.rebalance.delay.ms=0 (broker/testing/cluster_proc.py).")
        if "FO" in self.workloads:
            m["generators"]["FO"] = (f"an idempotent acks=all producer, one record per ~1 ms to one partition: "
                                     f"librdkafka's ({', '.join(f'{k}={v}' for k, v in failover.PRODUCER.items())}), "
                                     f"then Kafka's Java producer, bench/FailoverWriter.java "
                                     f"({', '.join(f'{k}={v}' for k, v in failover.JAVA_PRODUCER.items())})")
        if "W5" in self.workloads:
            m["generators"]["W5"] = ("W1's ProducerPerformance (acks=all, idempotence) for throughput, then W2's "
                                     "LatencyBench at a fixed rate on a second topic")
        if "CATCHUP" in self.workloads:
            m["generators"]["CATCHUP"] = (f"W1's ProducerPerformance (acks=all, idempotence, 1 KiB records), "
                                          f"{self.catchup_gb} GB to 8 partitions while node 3 is stopped")
        if "IDLE10K" in self.workloads:
            m["generators"]["IDLE10K"] = ("none: CPU from /proc/PID/stat, inter-broker bytes from `ss -tin` "
                                          "bytes_sent of the TCP connections between the broker processes")

    def run_fo(self, java):
        """FO per side and per client (BENCH_FO_CLIENTS): librdkafka's results under
        results["FO"][side], the Java producer's under results["FO"]["java"][side]; a fresh
        cluster for each."""
        self.results["FO"] = {"kills_asked": self.kills}
        for client in self.fo_clients():
            for side in self.fo_sides():
                self.progress(f"FO {side} ({client}): 3 nodes, {self.kills} kill -9 of partition fo-0's leader")
                r0 = time.monotonic()
                into = self.results["FO"] if client == "librdkafka" else self.results["FO"].setdefault("java", {})

                def case():
                    c = self.cluster(side, "fo")
                    try:
                        into[side] = failover.run(c, self.kills, lambda s: print(s, file=sys.stderr, flush=True),
                                                  java if client == "java" else None)
                    finally:
                        c.stop()
                        c.wipe()
                    r = into[side]
                    r["seconds_total"] = round(time.monotonic() - r0)
                    print(f"  failover median {r['median_s']} s, p90 {r['p90_s']} s, worst {r['worst_s']} s",
                          file=sys.stderr)
                self.guarded(f"FO {side} ({client})", case)

    def run_catchup(self, java):
        """CATCHUP per side (Kafka, Millrace's defaults): a fresh cluster for each."""
        self.results["CATCHUP"] = {}
        for side in self.fo_sides():
            self.progress(f"CATCHUP {side}: 3 nodes, {self.catchup_gb} GB written while node 3 is down")

            def case():
                c = self.cluster(side, "catchup")
                try:
                    self.results["CATCHUP"][side] = catchup.run(c, java, self.catchup_gb,
                                                                lambda s: print(s, file=sys.stderr, flush=True))
                finally:
                    c.stop()
                    c.wipe()
            self.guarded(f"CATCHUP {side}", case)

    def run_w5(self, java):
        self.results["W5"] = []
        self.results.pop("W5_rate", None)
        rate = self.w5_rate
        for side in self.w5_sides():
            c = None

            def throughput():
                nonlocal c
                self.progress(f"W5 {side}: 3 nodes, RF 3, 16 partitions, acks=all, ProducerPerformance {self.seconds}s")
                c = self.cluster(side, "w5")
                c.create_topic("w5", 16, 3, {"min.insync.replicas": "2"})
                r = wl.produce_for(java, c, "w5", "all", self.seconds)
                self.results["W5"].append({"target": side, "kind": "throughput", "partitions": 16, "acks": "all",
                                           "replication_factor": 3, **r})
                print(f"  {r['MBps']} MB/s, {r['records_per_s']} records/s", file=sys.stderr)

            def latency():
                nonlocal rate
                if rate is None:
                    k = next((r for r in self.results["W5"] if r["target"] == "kafka"), None)
                    rate = max(k["records_per_s"] // 2, 1000) if k else 1000
                    self.results["W5_rate"] = {"records_per_s": rate, "basis": "half of Kafka's W5 throughput"
                                               if k else "fallback 1000/s (no Kafka W5 result)"}
                elif "W5_rate" not in self.results or self.results["W5_rate"]["records_per_s"] != rate:
                    self.results["W5_rate"] = {"records_per_s": rate, "basis": "BENCH_W5_RATE"}
                self.progress(f"W5 {side}: LatencyBench {rate} records/s, {self.seconds}s")
                c.create_topic("w5-latency", 16, 3, {"min.insync.replicas": "2"})
                r = wl.latency(java, c, "w5-latency", rate, self.seconds, "all")
                self.results["W5"].append({"target": side, "kind": "latency", "partitions": 16, "acks": "all",
                                           "replication_factor": 3, **r})
                print(f"  produce p99 {r['produce_ms']['p99']} ms, e2e p99 {r['e2e_ms']['p99']} ms", file=sys.stderr)

            def low_rate():
                # The same at a low rate (1,000 records/s = 1 MB/s, at most 10 s): service
                # times without queueing, to tell what the rate costs from what a write costs.
                secs = min(10, self.seconds)
                self.progress(f"W5 {side}: LatencyBench 1000 records/s, {secs}s (low-rate probe)")
                c.create_topic("w5-low", 16, 3, {"min.insync.replicas": "2"})
                r = wl.latency(java, c, "w5-low", 1000, secs, "all")
                self.results["W5"].append({"target": side, "kind": "latency-low", "partitions": 16, "acks": "all",
                                           "replication_factor": 3, **r})
                print(f"  produce p50 {r['produce_ms']['p50']} ms, p99 {r['produce_ms']['p99']} ms", file=sys.stderr)
            try:
                self.guarded(f"W5 {side} throughput", throughput)
                if c is not None:
                    self.guarded(f"W5 {side} latency", latency)
                    self.guarded(f"W5 {side} low-rate latency", low_rate)
            finally:
                if c is not None:
                    c.stop()
                    c.wipe()

    def run_idle(self):
        self.progress(f"IDLE10K millrace: {self.idle_partitions} partitions of RF 3 on 3 nodes, "
                      f"idle, {self.idle_seconds}s window")

        def case():
            c = self.cluster("millrace-fsync", "idle")   # Millrace's defaults
            try:
                self.results["IDLE10K"] = idle.run(c, self.idle_partitions, self.idle_seconds,
                                                   lambda s: print(s, file=sys.stderr, flush=True),
                                                   settle=self.idle_settle)
            finally:
                c.stop()
                c.wipe()
        self.guarded("IDLE10K millrace", case)


def git_rev():
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: bench/run-all BUILD_DIR")
    run = Run(sys.argv[1])
    if not (run.build / "broker/millrace-broker").exists() and any(t.startswith("millrace") for t in run.targets):
        sys.exit(f"bench: {run.build}/broker/millrace-broker is not built")
    subprocess.run(["bash", str(ROOT / "tests/peers/fetch"), "kafka"], check=True, stdout=subprocess.DEVNULL)
    cp = Kafka.classpath()
    java = wl.Java(cp, wl.compile_java_generators(cp, run.out / "classes"))
    run.merge_previous()
    print(f"bench: {run.steps} steps, results in {run.out}/results.json", file=sys.stderr)
    kept_errors = len(run.results["errors"])
    steps = [("limits", lambda: run.guarded("limits", run.run_limits)), ("W1", lambda: run.run_w1(java)),
             ("W1N", run.run_w1n), ("W2", lambda: run.run_w2(java)), ("W3", lambda: run.run_w3(java)),
             ("W4", lambda: run.run_w4(java)), ("FO", lambda: run.run_fo(java)), ("W5", lambda: run.run_w5(java)),
             ("CATCHUP", lambda: run.run_catchup(java)),
             ("IDLE10K", run.run_idle)]
    # FO's and W5's setup; IDLE10K alone keeps theirs from the merged run.
    if {"FO", "W5", "CATCHUP"} & set(run.workloads):
        run.describe_replicated()
    took = run.results["meta"].setdefault("workload_seconds", {})
    for w, fn in steps:
        if w in run.workloads:
            t0 = time.monotonic()
            fn()
            took[w] = round(time.monotonic() - t0)
    run.save()
    shutil.rmtree(run.data, ignore_errors=True)
    md = report.write(run.out / "results.json", os.environ.get("BENCH_DOC", ROOT / "docs/benchmarks.md"))
    el = int(time.monotonic() - run.t0)
    print(f"bench: done in {el // 60}m{el % 60:02d}s; wrote {md}", file=sys.stderr)
    if len(run.results["errors"]) > kept_errors:   # this run's, not those kept by BENCH_MERGE
        print(f"bench: {len(run.results['errors']) - kept_errors} case(s) failed: see errors in results.json",
              file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
