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
  BENCH_WORKLOADS=limits,W1,W2,W3,W4   (add W1N: W1 driven by `millrace bench produce`, 30 s
                          cases, opt-in so the default run stays under 30 minutes)
  BENCH_OUT=build/bench   results.json, broker data (same disk as the checkout), logs
  BENCH_MERGE=1           keep the previous results.json's sections of workloads not rerun
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
        self.workloads = env.get("BENCH_WORKLOADS", "limits,W1,W2,W3,W4").split(",")
        self.out = Path(env.get("BENCH_OUT", ROOT / "build/bench")).resolve()
        self.data = self.out / "data"
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
        }

    def merge_previous(self):
        """BENCH_MERGE=1: keep the previous results.json's sections for workloads not rerun."""
        prev = self.out / "results.json"
        if os.environ.get("BENCH_MERGE") != "1" or not prev.exists():
            return
        old = json.loads(prev.read_text())
        for w in ("limits", "W1", "W1N", "W2", "W3", "W4"):
            if w not in self.workloads and w in old:
                self.results[w] = old[w]
        if "W2" not in self.workloads and "W2_rate" in old:
            self.results["W2_rate"] = old["W2_rate"]
        self.results["errors"] = [e for e in old.get("errors", [])
                                  if e.split(" ")[0].rstrip(":") not in self.workloads]
        self.results["meta"]["merged_from"] = old["meta"].get("date")
        self.results["meta"]["merged_revision"] = old["meta"].get("merged_revision") or old["meta"].get("millrace_revision")
        # Where each section was measured: kept from the old file for the sections
        # kept, this run for the ones rerun.
        om = old["meta"]
        runs = dict(om.get("workload_runs") or {w: {"date": om.get("date"), "revision": om.get("millrace_revision")}
                                                for w in ("limits", "W1", "W1N", "W2", "W3", "W4") if old.get(w)})
        for w in self.workloads:
            runs[w] = {"date": self.results["meta"]["date"], "revision": self.results["meta"]["millrace_revision"]}
        self.results["meta"]["workload_runs"] = runs
        self.results["meta"]["rerun_workloads"] = [w for w in self.workloads
                                                  if w in ("limits", "W1", "W1N", "W2", "W3", "W4")]
        self.results["meta"]["elapsed_seconds_previous"] = old["meta"].get("elapsed_seconds")

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
        return n

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
    java = wl.Java(cp, wl.compile_latency_bench(cp, run.out / "classes"))
    run.merge_previous()
    print(f"bench: {run.steps} steps, results in {run.out}/results.json", file=sys.stderr)
    if "limits" in run.workloads:
        run.guarded("limits", run.run_limits)
    if "W1" in run.workloads:
        run.run_w1(java)
    if "W1N" in run.workloads:
        run.run_w1n()
    if "W2" in run.workloads:
        run.run_w2(java)
    if "W3" in run.workloads:
        run.run_w3(java)
    if "W4" in run.workloads:
        run.run_w4(java)
    run.save()
    shutil.rmtree(run.data, ignore_errors=True)
    md = report.write(run.out / "results.json", ROOT / "docs/benchmarks.md")
    el = int(time.monotonic() - run.t0)
    print(f"bench: done in {el // 60}m{el % 60:02d}s; wrote {md}", file=sys.stderr)
    if run.results["errors"]:
        print(f"bench: {len(run.results['errors'])} case(s) failed: see errors in results.json", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
