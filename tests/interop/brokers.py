"""Brokers the interop suite runs against: Millrace (default) or Apache Kafka.

Both start on free ports with data in a temp dir, restart on the same port and
data (SIGTERM, wait for exit, start again) and stop. Millrace is ready when its
admin listener answers /readyz with 200 or it prints `millrace-broker ready`.
Against a sanitizer build, Millrace's stop raises when its log holds a sanitizer
report or a SIGTERM stop exits non-zero (the rules of broker/testing/broker_proc.py).
"""
import os
import signal
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("MILLRACE_SOURCE") or os.path.dirname(os.path.dirname(HERE))
PEERS = os.path.join(SRC, "tests", "peers")
sys.path.insert(0, os.path.join(SRC, "broker", "testing"))
from broker_proc import SANITIZER_ENV, sanitizer_report_in  # noqa: E402


def free_ports(n):
    out = subprocess.run([os.path.join(PEERS, "free-port"), str(n)], check=True,
                         capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


class KafkaBroker:
    name = "kafka"

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "kafka")
        self.port = None

    def start(self):
        run = subprocess.run([os.path.join(PEERS, "kafka"), "start", "--dir", self.dir],
                             capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError(f"kafka did not start (exit {run.returncode}): {run.stderr.strip()}\n"
                               f"log tail:\n{self.log_tail(15)}")
        self.port = int(run.stdout.split()[1])

    def dead(self):
        try:
            with open(os.path.join(self.dir, "kafka.pid")) as f:
                os.kill(int(f.read()), 0)
            return None
        except (OSError, ValueError):
            return "kafka exited; log tail:\n" + self.log_tail(8)

    def stop(self, sig="TERM"):
        args = [os.path.join(PEERS, "kafka"), "stop", "--dir", self.dir]
        subprocess.run(args + (["--kill"] if sig == "KILL" else []), check=True)

    def restart(self):
        self.stop()
        self.start()

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.port}"

    def log_tail(self, n=30):
        try:
            with open(os.path.join(self.dir, "kafka.log"), errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""


class MillraceBroker:
    name = "millrace"

    def __init__(self, workdir, node=None, extra=None):
        build = os.environ.get("MILLRACE_BUILD") or os.path.join(SRC, "build", "release")
        self.binary = os.path.join(build, "broker", "millrace-broker")
        suffix = f"-node{node}" if node else ""
        self.dir = os.path.join(workdir, "millrace" + suffix)
        self.log_path = os.path.join(workdir, f"millrace{suffix}.log")
        self.port, self.admin_port = free_ports(2)
        self.extra = list(extra or [])  # more --set arguments (a cluster node's)
        self.ctl_port = None  # a cluster node's controller listener
        self.proc = None

    def start(self, timeout=60):
        if not os.access(self.binary, os.X_OK):
            raise RuntimeError(f"{self.binary} is not built")
        os.makedirs(self.dir, exist_ok=True)
        self._ready_lines = self._count_ready_lines()  # this start waits for one more
        log = open(self.log_path, "a")
        self.log_start = log.tell()
        self.proc = subprocess.Popen(
            [self.binary, "--config", os.path.join(SRC, "config", "local.yaml"),
             "--set", f"listeners=PLAINTEXT://127.0.0.1:{self.port}"
             + (f",CONTROLLER://127.0.0.1:{self.ctl_port}" if self.ctl_port else ""),
             "--set", f"log.dirs={self.dir}",
             "--set", f"admin.listeners=http://127.0.0.1:{self.admin_port}"] + self.extra,
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**SANITIZER_ENV, **os.environ})
        log.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"millrace-broker exited with {self.proc.returncode}:\n"
                                   + self.log_tail())
            if self._ready():
                return
            time.sleep(0.2)
        raise RuntimeError(f"millrace-broker not ready within {timeout}s:\n" + self.log_tail())

    def _ready(self):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}/readyz",
                                        timeout=1) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        return self._count_ready_lines() > self._ready_lines

    def _count_ready_lines(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read().count("millrace-broker ready")
        except OSError:
            return 0

    def dead(self):
        """None while running, else a sentence saying how the broker ended."""
        if self.proc is None or self.proc.poll() is None:
            return None
        rc = self.proc.returncode
        how = f"killed by signal {-rc}" if rc < 0 else f"exited with {rc}"
        return f"millrace-broker {how}; log tail:\n{self.log_tail(8)}"

    def stop(self, sig="TERM", timeout=30):
        if not self.proc:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM if sig == "TERM" else signal.SIGKILL)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError(f"millrace-broker ignored SIGTERM for {timeout}s")
            if sig == "TERM" and self.proc.returncode != 0:
                raise RuntimeError(f"millrace-broker exited {self.proc.returncode} after SIGTERM:\n"
                                   + (self.sanitizer_report() or self.log_tail(15)))
        report = self.sanitizer_report()
        if report:
            raise RuntimeError(f"millrace-broker wrote a sanitizer report:\n{report}")

    def sanitizer_report(self):
        """The sanitizer report this run of the broker logged, or ''."""
        return sanitizer_report_in(self.log_path, getattr(self, "log_start", 0), 4000)

    def fetch_session_counts(self):
        """Millrace's fetch-session counters from /metrics: {name: value}."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.admin_port}/metrics", timeout=5) as r:
            text = r.read().decode()
        out = {}
        for line in text.splitlines():
            for name in ("millrace_fetch_incremental_requests_total", "millrace_fetch_sessions_created_total"):
                if line.startswith(name + " "):
                    out[name] = float(line.split()[1])
        return out

    def restart(self):
        self.stop()
        self.start()

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.port}"

    def log_tail(self, n=30):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""


class MillraceCluster:
    """Three Millrace nodes as one cluster (each broker and controller, one
    metadata quorum), started and restarted together; the interop suite sees
    one broker whose bootstrap lists all three. Topics the clients create get
    MILLRACE_INTEROP_RF replicas (3 by default). live_fault() kills one node with
    kill -9 (in turn) and starts it again: with replicated topics its
    partitions' leadership moves to the other two."""
    name = "millrace"

    def __init__(self, workdir, nodes=3):
        ctl = free_ports(nodes)
        voters = ",".join(f"{i + 1}@127.0.0.1:{p}" for i, p in enumerate(ctl))
        self.nodes = []
        self.faults = 0
        # The clients create their topics with INTEROP_RF replicas:
        # MILLRACE_INTEROP_RF (3 by default: each partition a Raft group over
        # the three; 1 gives each partition one broker's log).
        os.environ["INTEROP_RF"] = os.environ.get("MILLRACE_INTEROP_RF", "3")
        for i in range(nodes):
            n = MillraceBroker(workdir, node=i + 1)
            n.extra = ["--set", f"node.id={i + 1}", "--set", f"controller.quorum.voters={voters}",
                       "--set", f"default.replication.factor={nodes}"]
            n.ctl_port = ctl[i]
            self.nodes.append(n)

    def _each(self, fn):
        import threading
        errors = []

        def one(n):
            try:
                fn(n)
            except Exception as e:  # noqa: BLE001 - collected and raised below
                errors.append(e)
        threads = [threading.Thread(target=one, args=(n,)) for n in self.nodes]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]

    def start(self, timeout=60):
        self._each(lambda n: n.start(timeout))

    def stop(self, sig="TERM", timeout=30):
        self._each(lambda n: n.stop(sig, timeout))

    def restart(self):
        self.stop()
        self.start()

    def live_fault(self):
        """kill -9 of one node (each call the next), then the same node started again."""
        n = self.nodes[self.faults % len(self.nodes)]
        self.faults += 1
        n.stop("KILL")
        time.sleep(1)
        n.start()
        return f"kill -9 of node {self.nodes.index(n) + 1}, restarted"

    def dead(self):
        for n in self.nodes:
            why = n.dead()
            if why:
                return why
        return None

    def sanitizer_report(self):
        return "".join(n.sanitizer_report() for n in self.nodes)

    def fetch_session_counts(self):
        out = {}
        for n in self.nodes:
            for k, v in n.fetch_session_counts().items():
                out[k] = out.get(k, 0) + v
        return out

    @property
    def bootstrap(self):
        return ",".join(n.bootstrap for n in self.nodes)

    def log_tail(self, n=30):
        return "".join(f"--- {x.log_path}\n" + x.log_tail(n) for x in self.nodes)
