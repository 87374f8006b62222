"""Three-node clusters for the replicated benchmarks (issue 18: FO, W5, IDLE10K), one
side at a time on this machine, all traffic on 127.0.0.1, ports from free_ports.

MillraceCluster: broker/testing/cluster_proc.Cluster (what tests/replication starts):
  every node broker + controller, a voter of controller.quorum.voters; the binary is
  <build>/broker/millrace-broker (MILLRACE_BUILD is set for cluster_proc).
KafkaCluster: Apache Kafka 4.x in KRaft mode, 3 combined broker+controller nodes
  (controller.quorum.voters, one cluster id formatted on every node), the jars of
  tests/peers/kafka and its JVM flags and 1 GiB heap per node. Kafka's defaults
  otherwise; the only broker setting added is group.initial.rebalance.delay.ms=0 (as
  the single-node bench). Topics are created with min.insync.replicas=2 on both sides.

Both expose what bench/workloads.py uses from a broker (bootstrap, cpu(), rss():
summed over the live nodes) plus nodes {id: node} with pid, bootstrap, kill9(),
start(), alive(), and leader/ISR look-ups through Metadata (librdkafka).
"""
import base64
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from confluent_kafka.admin import AdminClient, NewTopic

from brokers import ROOT, Kafka, cpu_seconds, free_ports, metadata_ok, rss_bytes

sys.path.insert(0, str(ROOT / "broker" / "testing"))


def wait_until(fn, seconds, step=0.05):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        v = fn()
        if v:
            return v
        time.sleep(step)
    return None


class ClusterBase:
    name = "?"
    nodes = {}

    @property
    def bootstrap(self):
        return ",".join(n.bootstrap for n in self.nodes.values())

    def live(self):
        return [i for i, n in self.nodes.items() if n.alive()]

    def cpu(self):
        vals = [cpu_seconds(n.pid) for n in self.nodes.values() if n.alive()]
        return None if not vals or None in vals else sum(vals)

    def cpu_by_node(self):
        return {i: cpu_seconds(n.pid) for i, n in self.nodes.items() if n.alive()}

    def rss(self):
        vals = [rss_bytes(n.pid) for n in self.nodes.values() if n.alive()]
        return sum(v for v in vals if v) or None

    def admin(self, nodes=None):
        boot = ",".join(self.nodes[i].bootstrap for i in (nodes or self.live()))
        return AdminClient({"bootstrap.servers": boot, "log_level": 0})

    def create_topic(self, topic, partitions, rf=3, config=None, timeout=120):
        admin = self.admin()
        fut = admin.create_topics([NewTopic(topic, partitions, rf, config=config or {})],
                                  operation_timeout=timeout, request_timeout=timeout)[topic]
        fut.result(timeout=timeout)
        if not wait_until(lambda: self.all_in_sync(topic, partitions, rf, admin), timeout, 0.2):
            raise RuntimeError(f"{self.name}: {topic} has not every partition led with an ISR of {rf} "
                               f"after {timeout} s")

    def partitions(self, topic, admin=None, timeout=2.0):
        """{partition: (leader, replicas, isr)} from one Metadata answer, or None."""
        try:
            md = (admin or self.admin()).list_topics(topic, timeout=timeout).topics.get(topic)
        except Exception:  # noqa: BLE001 - no answer (a node just died) is retried by callers
            return None
        if md is None or md.error is not None:
            return None
        return {p: (m.leader, tuple(m.replicas), tuple(m.isrs)) for p, m in md.partitions.items()}

    def all_in_sync(self, topic, partitions, rf, admin=None):
        ps = self.partitions(topic, admin)
        live = set(self.live())
        return bool(ps) and len(ps) == partitions and all(
            leader in live and len(isr) == rf for leader, _, isr in ps.values())


class MillraceCluster(ClusterBase):
    name = "millrace"

    def __init__(self, build, root, n=3, sets=None):
        os.environ["MILLRACE_BUILD"] = str(Path(build).resolve())   # cluster_proc's broker_binary()
        from cluster_proc import Cluster
        self.root = Path(root)
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True)
        extra = {"group.initial.rebalance.delay.ms": "0", "log.level": "warn", **(sets or {})}
        self.c = Cluster(n, root=str(self.root), extra=extra)
        self.nodes = {i: MillraceNode(b) for i, b in self.c.nodes.items()}

    def start(self, timeout=120):
        self.c.start(timeout=timeout)
        return self

    def stop(self):
        stop_all(self.nodes.values())

    def wipe(self):
        shutil.rmtree(self.root, ignore_errors=True)


def stop_all(nodes, timeout=30):
    """SIGTERM to every live node at once, SIGKILL to those still up after `timeout`
    (a benchmark's data is wiped after: a clean shutdown is not what is measured)."""
    live = [n for n in nodes if n.alive()]
    for n in live:
        n.proc_handle().send_signal(signal.SIGTERM)
    end = time.monotonic() + timeout
    for n in live:
        try:
            n.proc_handle().wait(max(0.1, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            n.proc_handle().kill()
            n.proc_handle().wait()


class MillraceNode:
    def __init__(self, b):
        self.b = b
        self.bootstrap = b.bootstrap
        self.admin_port = b.admin_port

    @property
    def pid(self):
        return self.b.proc.pid if self.b.alive() else None

    def alive(self):
        return self.b.alive()

    def kill9(self):
        self.b.proc.send_signal(signal.SIGKILL)
        self.b.proc.wait(30)

    def start(self, timeout=120):
        self.b.start(timeout=timeout)

    def stop(self):
        if self.b.alive():
            self.b.proc.send_signal(signal.SIGTERM)
            try:
                self.b.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.b.proc.kill()
                self.b.proc.wait()

    def metrics(self):
        return self.b.metrics()

    @property
    def data_dir(self):
        return Path(self.b.data_dir)

    def proc_handle(self):
        return self.b.proc


class KafkaCluster(ClusterBase):
    name = "kafka"

    def __init__(self, root, n=3, sets=None):
        self.root = Path(root)
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True)
        self.libs = Kafka.classpath()            # "<cache>/kafka-<v>/libs/*", fetched on demand
        ports = free_ports(2 * n)
        ids = list(range(1, n + 1))
        voters = ",".join(f"{i}@127.0.0.1:{ports[n + i - 1]}" for i in ids)
        self.nodes = {i: KafkaNode(self, i, self.root / f"node{i}", ports[i - 1], ports[n + i - 1], voters,
                                   sets or {}) for i in ids}
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        procs = [subprocess.Popen(["java", "-cp", self.libs, f"-Dlog4j2.configurationFile={nd.dir / 'log4j2.properties'}",
                                   "kafka.tools.StorageTool", "format", f"--cluster-id={cid}", "-c", str(nd.props)],
                                  stdout=open(nd.dir / "format.log", "w"), stderr=subprocess.STDOUT)
                 for nd in self.nodes.values()]
        for p, nd in zip(procs, self.nodes.values()):
            if p.wait(timeout=120) != 0:
                raise RuntimeError(f"kafka storage format failed: {(nd.dir / 'format.log').read_text()[-600:]}")

    def start(self, timeout=180):
        for nd in self.nodes.values():
            nd.spawn()
        for nd in self.nodes.values():
            nd.wait_started(timeout)
        if not wait_until(lambda: metadata_ok(self.bootstrap, 2), timeout):
            raise RuntimeError("kafka cluster does not answer Metadata")
        return self

    def stop(self):
        stop_all(self.nodes.values())

    def wipe(self):
        shutil.rmtree(self.root, ignore_errors=True)


class KafkaNode:
    def __init__(self, cluster, node_id, d, port, cport, voters, sets):
        self.cluster, self.id, self.dir, self.port = cluster, node_id, Path(d), port
        self.bootstrap = f"127.0.0.1:{port}"
        self.proc = None
        self.dir.mkdir(parents=True)
        self.props = self.dir / "server.properties"
        lines = [
            "process.roles=broker,controller", f"node.id={node_id}", f"controller.quorum.voters={voters}",
            f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}", "inter.broker.listener.name=PLAINTEXT",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            f"log.dirs={self.dir / 'data'}", "group.initial.rebalance.delay.ms=0",
        ] + [f"{k}={v}" for k, v in sets.items()]
        self.props.write_text("\n".join(lines) + "\n")
        (self.dir / "log4j2.properties").write_text(
            "status = error\nappender.out.type = Console\nappender.out.name = OUT\n"
            "appender.out.layout.type = PatternLayout\nappender.out.layout.pattern = [%d] %p %m (%c)%n\n"
            "rootLogger.level = INFO\nrootLogger.appenderRef.out.ref = OUT\n"
            "logger.state.name = state.change.logger\nlogger.state.level = WARN\n")

    @property
    def pid(self):
        return self.proc.pid if self.alive() else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def proc_handle(self):
        return self.proc

    def started_lines(self):
        try:
            return (self.dir / "kafka.log").read_text(errors="replace").count("Kafka Server started")
        except OSError:
            return 0

    def spawn(self):
        """The JVM as tests/peers/kafka starts it (its heap and GC flags)."""
        self.before = self.started_lines()
        heap = os.environ.get("KAFKA_HEAP_OPTS", "-Xmx1G -Xms1G").split()
        args = ["java", *heap, "-server", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
                "-XX:InitiatingHeapOccupancyPercent=35", "-XX:+ExplicitGCInvokesConcurrent",
                "-Djava.awt.headless=true", f"-Dlog4j2.configurationFile={self.dir / 'log4j2.properties'}",
                f"-Dkafka.logs.dir={self.dir}", "-cp", self.cluster.libs, "kafka.Kafka", str(self.props)]
        self.proc = subprocess.Popen(args, stdout=open(self.dir / "kafka.log", "ab"), stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def wait_started(self, timeout=180):
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if not self.alive():
                raise RuntimeError(f"kafka node {self.id} exited; see {self.dir}/kafka.log")
            if self.started_lines() > self.before:
                return
            time.sleep(0.2)
        raise RuntimeError(f"kafka node {self.id} not started in {timeout} s; see {self.dir}/kafka.log")

    def start(self, timeout=180):
        self.spawn()
        self.wait_started(timeout)

    @property
    def data_dir(self):
        return self.dir / "data"

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def cluster(kind, build, root, sets=None):
    """A started 3-node cluster of `kind` ("millrace" or "kafka")."""
    c = MillraceCluster(build, root, sets=sets) if kind == "millrace" else KafkaCluster(root, sets=sets)
    try:
        return c.start()
    except Exception:
        c.stop()
        raise


class Sampler(threading.Thread):
    """Calls fn() every `step` seconds until stop(); keeps (monotonic time, value)."""

    def __init__(self, fn, step=0.05):
        super().__init__(daemon=True)
        self.fn, self.step, self.samples, self.halt = fn, step, [], threading.Event()

    def run(self):
        while not self.halt.is_set():
            self.samples.append((time.monotonic(), self.fn()))
            self.halt.wait(self.step)

    def stop(self):
        self.halt.set()
        self.join(timeout=10)
        return self.samples
