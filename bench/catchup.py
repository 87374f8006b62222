"""CATCHUP (issue 18): how fast a follower that was down catches up, and what it costs the
brokers that feed it, on a 3-node cluster (bench/clusters.py), the same steps against
Millrace and Apache Kafka.

Topic `cu`: 8 partitions, replication factor 3, min.insync.replicas=2. Node 3 is stopped
(SIGTERM: a clean stop, so no log recovery is measured); `gb` GB of 1 KiB records are
written with ProducerPerformance (acks=all, every partition led by nodes 1 and 2); then
node 3 is started and the time is taken until it is back in every partition's ISR:
  catch-up     = back in every ISR - process start (includes the node's start-up:
                 JVM and log loading for Kafka, log loading for Millrace), and from the
                 time it answered as started (ready) to the same end;
  rate         = bytes it was behind (the records written while it was down) / catch-up;
  CPU          = CPU seconds of the two feeding nodes and of the catching-up node over
                 the catch-up, per GB caught up.
What this prices: the leader's side of catch-up (Millrace reads batches from the log
into memory and sends them; Kafka sendfile()s them to the follower's fetch) and the
follower's (append and, for Millrace, fsync before it acknowledges).
"""
import time

from clusters import wait_until
import workloads as wl

TOPIC, PARTITIONS, VICTIM = "cu", 8, 3


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
    behind = records * wl.RECORD
    admin = cluster.admin(feeders)
    cpu0 = cluster.cpu_by_node()
    t_spawn = time.monotonic()
    victim.start()
    t_ready = time.monotonic()
    back = wait_until(lambda: cluster.all_in_sync(TOPIC, PARTITIONS, 3, admin) and time.monotonic(), 900, 0.1)
    cpu1 = cluster.cpu_by_node()
    if not back:
        raise RuntimeError(f"{cluster.name}: node {VICTIM} not back in every ISR 900 s after its start")
    secs = back - t_spawn
    feed_cpu = sum(cpu1[i] - cpu0[i] for i in feeders if cpu0.get(i) is not None and cpu1.get(i) is not None)
    victim_cpu = cpu1.get(VICTIM)
    r = {"gb": gb, "records": records, "produce_MBps": w["MBps"], "catchup_s": round(secs, 2),
         "after_ready_s": round(back - t_ready, 2), "start_s": round(t_ready - t_spawn, 2),
         "MBps": round(behind / secs / 1e6, 1),
         "feeders_cpu_s": round(feed_cpu, 2), "follower_cpu_s": round(victim_cpu, 2) if victim_cpu else None,
         "feeders_cpu_s_per_gb": round(feed_cpu / (behind / 1e9), 2),
         "follower_cpu_s_per_gb": round(victim_cpu / (behind / 1e9), 2) if victim_cpu else None}
    log(f"  node {VICTIM} back in every ISR {r['catchup_s']} s after its start ({r['after_ready_s']} s after "
        f"ready): {r['MBps']} MB/s; feeders {r['feeders_cpu_s']} CPU-s, follower {r['follower_cpu_s']} CPU-s")
    return r
