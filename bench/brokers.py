"""Start, watch and stop the two brokers under test, one at a time, on the same disk.

Kafka: tests/peers/kafka (single-node KRaft, the heap of Kafka's start script).
Millrace: <build>/broker/millrace-broker with --set overrides.
Both report: pid, bootstrap address, cold start seconds (exec -> ready), RSS.
Ready means: Millrace's admin /readyz answers 200; Kafka's log says "Kafka Server
started" and its port accepts (what tests/peers/kafka waits for). Both then must
answer a Metadata request (librdkafka list_topics) before the clock stops.
"""
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from confluent_kafka.admin import AdminClient, NewTopic

ROOT = Path(__file__).resolve().parent.parent


def free_ports(n):
    """Free ports from below the ephemeral range (broker_proc.free_ports says why)."""
    out = subprocess.run([str(ROOT / "tests" / "peers" / "free-port"), str(n)], check=True,
                         capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


def rss_bytes(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def cpu_seconds(pid):
    """User + system CPU seconds the process has used so far (/proc/PID/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def metadata_ok(bootstrap, timeout=1.0):
    try:
        AdminClient({"bootstrap.servers": bootstrap, "log_level": 0}).list_topics(timeout=timeout)
        return True
    except Exception:  # noqa: BLE001 - not answering yet is an expected outcome here
        return False


class Broker:
    """Common shape: start() -> self, stop(kill=False), bootstrap, pid, start_seconds."""
    name = "?"
    pid = None
    bootstrap = None
    start_seconds = None

    def rss(self):
        return rss_bytes(self.pid) if self.pid else None

    def cpu(self):
        return cpu_seconds(self.pid) if self.pid else None

    def create_topic(self, topic, partitions, config=None):
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        fut = admin.create_topics([NewTopic(topic, partitions, 1, config=config or {})],
                                  operation_timeout=30)[topic]
        fut.result(timeout=60)
        deadline = time.time() + 30   # wait until every partition has a leader
        while time.time() < deadline:
            md = admin.list_topics(topic, timeout=5).topics.get(topic)
            if md and md.error is None and len(md.partitions) == partitions and \
                    all(p.leader >= 0 for p in md.partitions.values()):
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.name}: topic {topic} has no leaders after 30 s")


class Millrace(Broker):
    name = "millrace"

    def __init__(self, build, data_dir, sets=()):
        self.binary = Path(build) / "broker/millrace-broker"
        self.data_dir = Path(data_dir)
        self.sets = list(sets)
        self.proc = None
        self.kport, self.aport = free_ports(2)
        self.bootstrap = f"127.0.0.1:{self.kport}"

    def start(self, timeout=60):
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [str(self.binary),
                "--set", f"listeners=PLAINTEXT://127.0.0.1:{self.kport}",
                "--set", f"admin.listeners=http://127.0.0.1:{self.aport}",
                "--set", f"log.dirs={self.data_dir / 'log'}",
                "--set", "group.initial.rebalance.delay.ms=0",
                "--set", "log.level=warn"]
        for s in self.sets:
            args += ["--set", s]
        log = open(self.data_dir / "broker.log", "ab")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        self.pid = self.proc.pid
        url = f"http://127.0.0.1:{self.aport}/readyz"
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"millrace-broker exited ({self.proc.returncode}); see {self.data_dir}/broker.log")
            try:
                with urllib.request.urlopen(url, timeout=0.5) as r:
                    if r.status == 200 and metadata_ok(self.bootstrap):
                        self.start_seconds = time.monotonic() - t0
                        return self
            except OSError:
                pass
            time.sleep(0.005)
        raise RuntimeError(f"millrace-broker not ready in {timeout}s")

    def stop(self, kill=False):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.pid = None

    def wipe(self):
        shutil.rmtree(self.data_dir, ignore_errors=True)


class Kafka(Broker):
    name = "kafka"
    script = ROOT / "tests/peers/kafka"

    def __init__(self, data_dir, sets=()):
        self.data_dir = Path(data_dir)
        self.sets = list(sets)
        self.port = None

    def start(self, timeout=120):
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = ["bash", str(self.script), "start", "--dir", str(self.data_dir),
                "--timeout", str(timeout)]
        for s in ["group.initial.rebalance.delay.ms=0", *self.sets]:
            args += ["--set", s]
        t0 = time.monotonic()
        out = subprocess.run(args, check=True, capture_output=True, text=True).stdout.split()
        self.pid, self.port = int(out[0]), int(out[1])
        self.bootstrap = f"127.0.0.1:{self.port}"
        while not metadata_ok(self.bootstrap):
            if time.monotonic() - t0 > timeout:
                raise RuntimeError("kafka does not answer Metadata")
            time.sleep(0.05)
        self.start_seconds = time.monotonic() - t0
        return self

    def stop(self, kill=False):
        args = ["bash", str(self.script), "stop", "--dir", str(self.data_dir)] + (["--kill"] if kill else [])
        subprocess.run(args, check=False, capture_output=True)
        self.pid = None

    def wipe(self):
        shutil.rmtree(self.data_dir, ignore_errors=True)

    @staticmethod
    def classpath():
        return subprocess.run(["bash", str(Kafka.script), "classpath"], check=True,
                              capture_output=True, text=True).stdout.strip()

    @staticmethod
    def version():
        for line in (ROOT / "tests/peers/versions").read_text().splitlines():
            if line.startswith("KAFKA_VERSION="):
                return line.split("=", 1)[1].strip()
        return "?"


def wait_gone(pid, timeout=30):
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
