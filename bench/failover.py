"""FO failover (issue 18): how long an acks=all producer's writes stop when the leader of
its partition is killed with kill -9, on a 3-node cluster (bench/clusters.py), the same
steps against Millrace and Apache Kafka.

Topic `fo`: 3 partitions, replication factor 3, min.insync.replicas=2. One idempotent
acks=all producer hands a record to partition 0 every ~1 ms: librdkafka's (Writer) or
Kafka's own Java producer (JavaWriter, bench/FailoverWriter.java), one run each. Each
of `kills` rounds: look up partition 0's leader (Metadata), kill -9 it, and measure
  failover = first acknowledgement of a record handed to the producer after the kill
             (a record in flight before it may have been committed by the old leader)
             minus the time of the kill;
  elected  = first time a survivor's Metadata names a live new leader for partition 0
             (polled every 50 ms): the broker side of the failover; failover - elected
             is the client's part (noticing, metadata refresh, retry);
then restart the killed node and wait until it is back in every partition's ISR
(rejoin) before the next round. Every wait is bounded.
"""
import math
import os
import struct
import subprocess
import threading
import time

from confluent_kafka import Producer

from clusters import Sampler, wait_until

TOPIC, PARTITIONS, PART = "fo", 3, 0
# The producer's settings (both sides): tests/replication's Writer's. Everything else is
# librdkafka's default (python3-confluent-kafka's librdkafka).
PRODUCER = {"enable.idempotence": True, "acks": "all", "linger.ms": 2, "retry.backoff.ms": 50,
            "topic.metadata.refresh.interval.ms": 1000, "message.timeout.ms": 120000}
# BENCH_FO_PRODUCER="key=value,..." changes them (e.g. to see the client's share).
PRODUCER.update(kv.split("=", 1) for kv in os.environ.get("BENCH_FO_PRODUCER", "").split(",") if "=" in kv)


class Acks:
    """A writer's acknowledgements, (ack time, handed-over time) in acknowledgement order,
    under self.lock."""

    def mark(self):
        with self.lock:
            return len(self.acks)

    def first_ack_after(self, t, start=0):
        """Time of the first acknowledgement of a record handed over after t, or None."""
        with self.lock:
            return next((a for a, sent in self.acks[start:] if sent > t), None)


class Writer(threading.Thread, Acks):
    """An idempotent acks=all producer handing a record to one partition every ~1 ms; each
    value carries the monotonic time it was handed over, so an acknowledgement says
    when its record entered the producer."""

    def __init__(self, bootstrap, topic=TOPIC, partition=PART):
        super().__init__(daemon=True)
        self.p = Producer({"bootstrap.servers": bootstrap, "log_level": 0, **PRODUCER})
        self.topic, self.partition = topic, partition
        self.acks = []      # (ack time, handed-over time), in acknowledgement order
        self.errors = []
        self.halt = threading.Event()
        self.lock = threading.Lock()

    def report(self, err, msg):
        now = time.monotonic()
        if err is not None:
            self.errors.append(str(err))
            return
        with self.lock:
            self.acks.append((now, struct.unpack(">d", msg.value()[:8])[0]))

    def run(self):
        n = 0
        while not self.halt.is_set():
            try:
                self.p.produce(self.topic, struct.pack(">dq", time.monotonic(), n), partition=self.partition,
                               on_delivery=self.report)
                n += 1
            except BufferError:
                self.p.poll(0.05)
            self.p.poll(0)
            time.sleep(0.001)
        self.p.flush(30)

    def stop(self):
        self.halt.set()
        self.join(timeout=60)


# The Java producer's settings (both sides): the same choices as librdkafka's where the two
# share a meaning; everything else is kafka-clients' default (retries, reconnect and
# retry backoffs, metadata.max.age.ms).
JAVA_PRODUCER = {"enable.idempotence": "true", "acks": "all", "linger.ms": 2, "retry.backoff.ms": 50,
                 "delivery.timeout.ms": 120000}
JAVA_PRODUCER.update(kv.split("=", 1) for kv in os.environ.get("BENCH_FO_JAVA_PRODUCER", "").split(",") if "=" in kv)


class JavaWriter(Acks):
    """Writer's interface over bench/FailoverWriter.java: its acknowledgement lines are
    read as they come (a full pipe would stall the producer's callbacks)."""

    def __init__(self, java, bootstrap, topic=TOPIC, partition=PART):
        self.proc = subprocess.Popen(java.cmd("FailoverWriter", bootstrap, topic, partition,
                                              *(f"{k}={v}" for k, v in JAVA_PRODUCER.items())),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.acks, self.errors, self.stderr = [], [], []
        self.lock = threading.Lock()
        self.readers = [threading.Thread(target=self.read, daemon=True),
                        threading.Thread(target=lambda: self.stderr.extend(self.proc.stderr), daemon=True)]

    def read(self):
        for line in self.proc.stdout:
            kind, _, rest = line.rstrip("\n").partition(" ")
            if kind == "a":
                ack, sent = rest.split()
                with self.lock:
                    self.acks.append((int(ack) / 1e9, int(sent) / 1e9))
            elif kind == "e":
                self.errors.append(rest)

    def start(self):
        for t in self.readers:
            t.start()

    def stop(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for t in self.readers:
            t.join(timeout=10)
        if self.proc.returncode not in (0, None) and not self.acks:
            raise RuntimeError(f"FailoverWriter exited {self.proc.returncode}: {''.join(self.stderr)[-800:]}")


def pct(values, q):
    s = sorted(values)
    return s[max(0, math.ceil(q * len(s)) - 1)] if s else None


def run(cluster, kills, log, java=None):
    """The failover rounds against a started cluster, with librdkafka's producer, or with
    the Java producer when `java` (bench/workloads.Java) is given; returns the section's result."""
    cluster.create_topic(TOPIC, PARTITIONS, 3, {"min.insync.replicas": "2"})
    w = JavaWriter(java, cluster.bootstrap) if java else Writer(cluster.bootstrap)
    w.start()
    rounds, t_start = [], time.monotonic()
    try:
        if not wait_until(lambda: w.first_ack_after(t_start), 30):
            raise RuntimeError(f"no acknowledged write in 30 s: {w.errors[:3]}")
        time.sleep(1)
        for k in range(kills):
            admin = cluster.admin()
            info = wait_until(lambda: (cluster.partitions(TOPIC, admin) or {}).get(PART), 30)
            victim = info and info[0]
            if victim not in cluster.live():
                raise RuntimeError(f"round {k + 1}: partition {PART} has no live leader ({info})")
            rest = [i for i in cluster.nodes if i != victim]
            survivors = cluster.admin(rest)

            def new_leader():
                ps = cluster.partitions(TOPIC, survivors, timeout=1)
                leader = ps and ps.get(PART, (None,))[0]
                return leader if leader in rest else None
            mark = w.mark()
            t_kill = time.monotonic()
            cluster.nodes[victim].kill9()
            watch = Sampler(new_leader, 0.05)
            watch.start()
            back = wait_until(lambda: w.first_ack_after(t_kill, mark), 120, 0.01)
            elected = wait_until(lambda: next((t for t, v in watch.samples if v), None), 10, 0.05)
            watch.stop()
            if back is None:
                raise RuntimeError(f"round {k + 1}: no write acknowledged in 120 s after killing node {victim}: "
                                   f"{w.errors[-3:]}")
            t_restart = time.monotonic()
            cluster.nodes[victim].start()
            if not wait_until(lambda: cluster.all_in_sync(TOPIC, PARTITIONS, 3), 180, 0.1):
                raise RuntimeError(f"round {k + 1}: node {victim} not back in every ISR in 180 s")
            r = {"victim": victim, "failover_s": round(back - t_kill, 3),
                 "elected_s": round(elected - t_kill, 3) if elected else None,
                 "rejoin_s": round(time.monotonic() - t_restart, 1)}
            rounds.append(r)
            log(f"  kill {k + 1}/{kills}: node {victim}, writes acknowledged again after {r['failover_s']:.3f} s "
                f"(new leader in Metadata after {r['elected_s']} s); restarted, back in the ISR after "
                f"{r['rejoin_s']} s")
            time.sleep(1)
    finally:
        w.stop()
    f = [r["failover_s"] for r in rounds]
    e = [r["elected_s"] for r in rounds if r["elected_s"] is not None]
    return {"client": "java" if java else "librdkafka",
            "producer": {k: str(v) for k, v in (JAVA_PRODUCER if java else PRODUCER).items()}, "kills": len(rounds), "median_s": pct(f, 0.5), "p90_s": pct(f, 0.9), "worst_s": max(f, default=None),
            "elected_median_s": pct(e, 0.5), "elected_worst_s": max(e, default=None),
            "acknowledged": len(w.acks), "delivery_errors": len(w.errors), "errors_sample": w.errors[:3],
            "rounds": rounds}
