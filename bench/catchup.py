"""CATCHUP (issue 18): how fast a follower that was down catches up, and what it costs the
brokers that feed it, on a 3-node cluster (bench/clusters.py), the same steps against
Millrace and Apache Kafka.

Topic `cu`: 8 partitions, replication factor 3, min.insync.replicas=2. Node 3 is stopped
(SIGTERM: a clean stop, so no log recovery is measured); `gb` GB of 1 KiB records are
written with ProducerPerformance (acks=all, every partition led by nodes 1 and 2); then
node 3 is started and the time is taken until its log files hold as many bytes of
record batches, over the topic's partitions, as a node that stayed up (headers walked:
the same batch format on both sides; preallocated space not counted):
  catch-up     = caught up - process start (includes the node's start-up: JVM and log
                 loading for Kafka, log loading for Millrace), and from the time it
                 answered as started (ready) to the same end;
  in ISR       = when Metadata first shows it in every partition's ISR, beside it
                 (a broker may list a follower in sync before it holds everything);
  rate         = bytes it holds once caught up / catch-up;
  CPU          = CPU seconds of the two feeding nodes and of the catching-up node over
                 the catch-up, per GB caught up.
What this prices: the leader's side of catch-up (Millrace reads batches from the log
into memory and sends them; Kafka sendfile()s them to the follower's fetch) and the
follower's (append and, for Millrace, fsync before it acknowledges).
"""
import os
import threading
import time

from clusters import wait_until
from segment_files import batch_bytes
import workloads as wl

TOPIC, PARTITIONS, VICTIM = "cu", 8, 3


def log_bytes(data_dir):
    """Bytes of whole record batches in a node's segment files of topic TOPIC."""
    return sum(batch_bytes(os.path.join(data_dir, f"{TOPIC}-{p}")) for p in range(PARTITIONS))


def run(cluster, java, gb, log):
    cluster.create_topic(TOPIC, PARTITIONS, 3, {"min.insync.replicas": "2"})
    victim = cluster.nodes[VICTIM]
    feeders = [i for i in cluster.nodes if i != VICTIM]
    victim.stop()
    if not wait_until(lambda: all(leader in feeders for leader, _, _ in
                                  (cluster.partitions(TOPIC) or {0: (None, (), ())}).values()), 60, 0.2):
        raise RuntimeError(f"{cluster.name}: partitions still led by the stopped node {VICTIM} after 60 s")
    records = int(gb * 1e9 / wl.RECORD)
    log(f"  node {VICTIM} stopped; writing {records} records of {wl.RECORD} B (acks=all)")
    w = wl.produce_count(java, cluster, TOPIC, records, acks="all")
    want = log_bytes(cluster.nodes[feeders[0]].data_dir)
    admin = cluster.admin(feeders)
    cpu0 = cluster.cpu_by_node()
    t_spawn = time.monotonic()
    isr_at = []

    def watch_isr():
        while not isr_at and time.monotonic() - t_spawn < 900:
            if cluster.all_in_sync(TOPIC, PARTITIONS, 3, admin):
                isr_at.append(time.monotonic())
            time.sleep(0.1)
    isr_thread = threading.Thread(target=watch_isr, daemon=True)
    victim_dir = victim.data_dir
    samples = []

    def sample():
        while time.monotonic() - t_spawn < 900:
            have = log_bytes(victim_dir)
            samples.append((time.monotonic(), have))
            if have >= want:
                return
            time.sleep(0.05)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    victim.start()
    t_ready = time.monotonic()
    isr_thread.start()
    sampler.join(900)
    cpu1 = cluster.cpu_by_node()
    isr_thread.join(60)
    back = samples[-1][0] if samples and samples[-1][1] >= want else None
    if not back:
        raise RuntimeError(f"{cluster.name}: node {VICTIM} holds {samples[-1][1] if samples else 0} of {want} bytes "
                           f"900 s after its start")
    secs = back - t_spawn
    feed_cpu = sum(cpu1[i] - cpu0[i] for i in feeders if cpu0.get(i) is not None and cpu1.get(i) is not None)
    victim_cpu = cpu1.get(VICTIM)
    r = {"gb": gb, "records": records, "produce_MBps": w["MBps"], "catchup_s": round(secs, 2),
         "after_ready_s": round(back - t_ready, 2), "start_s": round(t_ready - t_spawn, 2),
         "isr_s": round(isr_at[0] - t_spawn, 2) if isr_at else None, "bytes": want,
         "MBps": round(want / secs / 1e6, 1),
         "feeders_cpu_s": round(feed_cpu, 2), "follower_cpu_s": round(victim_cpu, 2) if victim_cpu else None,
         "feeders_cpu_s_per_gb": round(feed_cpu / (want / 1e9), 2),
         "follower_cpu_s_per_gb": round(victim_cpu / (want / 1e9), 2) if victim_cpu else None}
    log(f"  node {VICTIM} holds all {want / 1e6:.0f} MB {r['catchup_s']} s after its start ({r['after_ready_s']} s "
        f"after ready): {r['MBps']} MB/s; in every ISR per Metadata after {r['isr_s']} s; feeders "
        f"{r['feeders_cpu_s']} CPU-s, follower {r['follower_cpu_s']} CPU-s")
    return r
