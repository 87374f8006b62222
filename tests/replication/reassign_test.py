"""Partition reassignment on real broker processes (issue 19, first step): 3 nodes,
a topic of 3 partitions with replication factor 3, auto.leader.rebalance.enable on.

Apache Kafka's kafka-reassign-partitions.sh --execute with the same brokers of
partition 0 in another order: every node's Metadata lists them in that order and
the new first replica (the preferred leader) leads it within the check interval
plus a few seconds; --list then finds no reassignment in progress. A target that
names other brokers is refused (INVALID_REPLICA_ASSIGNMENT, saying moves are not
built yet) and changes nothing."""
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import replication_test  # noqa: E402,F401  (the cluster helpers' paths)
from checks import check, finish, wait_until  # noqa: E402
from cluster_proc import Cluster  # noqa: E402
from cluster_wire import create_topic, metadata  # noqa: E402

TOPIC, PARTITIONS, INTERVAL = "reassign", 3, 2


def views(c, nodes):
    """{partition: (leader, replicas)} when every node shows the same, all 3 in sync, else None."""
    out = None
    for i in nodes:
        try:
            parts = metadata(c.nodes[i].bootstrap)["topics"].get(TOPIC)
        except OSError:
            return None
        if not parts or len(parts) != PARTITIONS or any(e != 0 or len(isr) != 3 for e, _, _, isr in parts.values()):
            return None
        mine = {p: (leader, tuple(replicas)) for p, (_, leader, replicas, _) in parts.items()}
        if out is not None and mine != out:
            return None
        out = mine
    return out


def reassign_tool(bootstrap, *args, plan=None):
    """Apache Kafka's kafka-reassign-partitions.sh (its class, from the peers cache): (exit code, output)."""
    peers = os.path.join(HERE, "..", "peers", "kafka")
    cp = subprocess.run(["bash", peers, "classpath"], capture_output=True, text=True, timeout=900).stdout.strip()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(plan or {"version": 1, "partitions": []}, f)
    try:
        extra = ["--reassignment-json-file", f.name] if plan else []
        r = subprocess.run(["java", "-cp", cp, "org.apache.kafka.tools.reassign.ReassignPartitionsCommand",
                            "--bootstrap-server", bootstrap] + list(args) + extra,
                           capture_output=True, text=True, timeout=120)
    finally:
        os.unlink(f.name)
    return r.returncode, (r.stdout + r.stderr).strip()


def main():
    t0 = time.monotonic()
    nodes = [1, 2, 3]
    c = Cluster(3, extra={"leader.imbalance.check.interval.seconds": str(INTERVAL)}).start()
    try:
        check(create_topic(c.nodes[1].bootstrap, TOPIC, PARTITIONS, 3) == 0,
              f"{TOPIC}: {PARTITIONS} partitions, replication factor 3")
        before = wait_until(lambda: (lambda v: v if v and all(ld == r[0] for ld, r in v.values()) else None)(
            views(c, nodes)), 30)
        check(bool(before), f"every partition led by its first replica, all in sync: {before or views(c, nodes)}")
        if not before:
            return
        replicas = list(before[0][1])
        reordered = replicas[1:] + replicas[:1]
        rc, out = reassign_tool(c.nodes[3].bootstrap, "--execute", plan={
            "version": 1, "partitions": [{"topic": TOPIC, "partition": 0, "replicas": reordered}]})
        print(out, flush=True)
        check(rc == 0 and "Successfully started partition reassignment" in out,
              f"kafka-reassign-partitions.sh --execute {TOPIC}-0 {replicas} -> {reordered}: exit {rc}")
        t_exec = time.monotonic()
        led = wait_until(lambda: (views(c, nodes) or {}).get(0) == (reordered[0], tuple(reordered)), INTERVAL + 8)
        check(bool(led), f"every node lists {TOPIC}-0's replicas as {reordered} and {reordered[0]} leads it, "
                         f"{(time.monotonic() - t_exec) * 1000:.0f} ms after the request")
        others = views(c, nodes) or {}
        check(all(others.get(p) == before[p] for p in (1, 2)), f"partitions 1 and 2 unchanged: {others}")
        rc, out = reassign_tool(c.nodes[2].bootstrap, "--list")
        check(rc == 0 and "No partition reassignments found" in out, f"--list: none in progress: {out.splitlines()[:2]}")

        # Replicas on other brokers: not built yet, refused, nothing changes.
        shrink = reordered[:2]
        rc, out = reassign_tool(c.nodes[1].bootstrap, "--execute", plan={
            "version": 1, "partitions": [{"topic": TOPIC, "partition": 1, "replicas": shrink}]})
        check(rc != 0 and "moving replicas to other brokers is not supported yet" in out,
              f"a move to {shrink}: refused, saying why: {[l for l in out.splitlines() if 'not supported' in l][:1]}")
        time.sleep(1)
        check((views(c, nodes) or {}).get(1) == before[1], f"{TOPIC}-1 unchanged: {(views(c, nodes) or {}).get(1)}")
    finally:
        c.stop()
    print(f"reassignment: {time.monotonic() - t0:.0f} s", flush=True)
    finish(c, "reassignment")


if __name__ == "__main__":
    main()
