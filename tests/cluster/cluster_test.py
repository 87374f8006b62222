"""A cluster of real broker processes on loopback (issue 17): one view of the
metadata on every broker, topics created through any broker, controller
failover after kill -9, fencing of a broker that stops heartbeating, a
damaged metadata log repaired from the leader, a voter behind the leader's
log start given its snapshot, nodes with one role (controller-only voters,
broker-only observers), and a dynamic quorum grown and shrunk with Kafka's
kafka-metadata-quorum.sh (dynamic_quorum.py).

Every wait is bounded; every loop has a fixed count (MILLRACE_CLUSTER_KILLS,
20 by default). Measured times are printed and written to
$MILLRACE_CLUSTER_REPORT (JSON) when set."""
import json
import os
import struct
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "broker", "testing"))
sys.path.insert(0, HERE)
from cluster_proc import Cluster  # noqa: E402
from cluster_wire import create_topic, fetch_v12, metadata, produce_v11, quorum_leader  # noqa: E402
from dynamic_quorum import controller_only, dynamic_quorum, initial_controllers  # noqa: E402

failures = []
report = {}


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def wait_until(fn, timeout, step=0.02):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except (OSError, ConnectionError):
            pass
        time.sleep(step)
    return last


def create_retrying(node, name, since, limit=30):
    """CreateTopics through `node` until it succeeds (or `limit` s pass since
    `since`); the error code and the seconds since `since`."""
    code = None
    while time.monotonic() - since < limit and code != 0:
        try:
            code = create_topic(node.bootstrap, name, 1, timeout=limit)
        except (OSError, ConnectionError):
            time.sleep(0.02)
    return code, time.monotonic() - since


def kafka_quorum_tool(bootstrap, what):
    """Kafka's own kafka-metadata-quorum.sh (its class, from the peers cache) against one broker: its output lines."""
    cp = subprocess.run(["bash", os.path.join(HERE, "..", "peers", "kafka"), "classpath"], capture_output=True,
                        text=True, timeout=600).stdout.strip()
    r = subprocess.run(["java", "-cp", cp, "org.apache.kafka.tools.MetadataQuorumCommand", "--bootstrap-server",
                        bootstrap, "describe", what], capture_output=True, text=True, timeout=120)
    return r.stdout.splitlines() if r.returncode == 0 else [r.stderr[-300:]]


def views(cluster, ids=None):
    return {i: metadata(cluster.nodes[i].bootstrap) for i in (ids or cluster.alive())}


def all_same(cluster, ids=None):
    v = views(cluster, ids)
    first = next(iter(v.values()))
    return all(x == first for x in v.values()) and first


def leader_of(cluster):
    for i in cluster.alive():
        try:
            err, leader, _, _ = quorum_leader(cluster.nodes[i].bootstrap)
            if err == 0 and leader > 0:
                return leader
        except (OSError, ConnectionError):
            pass
    return -1


def visible_everywhere(cluster, topic, partitions):
    return all(len(v["topics"].get(topic, {})) == partitions for v in views(cluster).values())


def agree(cluster, n):
    """Every live broker gives the same Metadata: n brokers, the offsets topic."""
    return wait_until(lambda: (lambda s: s and len(s["brokers"]) == n and "__consumer_offsets" in s["topics"])(
        all_same(cluster)), 20)


def one_view(cluster, n):
    same = agree(cluster, n)
    check(bool(same), f"{n} nodes: every broker returns the same Metadata (brokers, topics, partitions, replicas)")
    if not same:
        for i, v in views(cluster).items():
            print(f"  node {i}: brokers {sorted(v['brokers'])} topics {sorted(v['topics'])}")
    times = []
    for i in cluster.alive():
        name = f"via-{i}-of-{n}"
        t0 = time.monotonic()
        code = create_topic(cluster.nodes[i].bootstrap, name, 2 * n)
        answered = time.monotonic() - t0
        check(code == 0, f"CreateTopics {name} through node {i} (error {code}, {answered * 1000:.0f} ms)")
        # Visible on the broker asked as soon as it answered (read your own write).
        mine = metadata(cluster.nodes[i].bootstrap)["topics"].get(name, {})
        check(len(mine) == 2 * n, f"{name}: node {i} shows it when it answers")
        ok = wait_until(lambda: visible_everywhere(cluster, name, 2 * n), 10, step=0.005)
        times.append(time.monotonic() - t0)
        check(bool(ok), f"{name}: visible on all {n} brokers within {times[-1] * 1000:.0f} ms of the request")
        parts = metadata(cluster.nodes[i].bootstrap)["topics"][name]
        leaders = [p[1] for p in parts.values()]
        check(sorted(set(leaders)) == sorted(cluster.alive()) and all(leaders.count(x) == 2 for x in set(leaders)),
              f"{name}: {2 * n} partitions, each broker leads 2 ({leaders})")
    same = agree(cluster, n)
    check(bool(same), f"{n} nodes: still one view after the creations")
    # KIP-951: a broker that does not lead a partition names the one that does.
    parts = metadata(cluster.nodes[1].bootstrap)["topics"]["via-1-of-%d" % n]
    p, (_, leader, _, _) = next((p, v) for p, v in parts.items() if v[1] != 1)
    err, hint, endpoints = produce_v11(cluster.nodes[1].bootstrap, "via-1-of-%d" % n, p)
    want = ("127.0.0.1", int(cluster.nodes[leader].bootstrap.rsplit(":", 1)[1]))
    check(err == 6 and hint and hint[0] == leader and endpoints.get(leader) == want,
          f"Produce v11 to node 1 for partition {p} (led by {leader}): NOT_LEADER_OR_FOLLOWER naming leader "
          f"{hint} at {endpoints.get(leader)} (KIP-951)")
    err, hint = fetch_v12(cluster.nodes[1].bootstrap, "via-1-of-%d" % n, p)
    check(err == 6 and hint and hint[0] == leader,
          f"Fetch v12 from node 1 for partition {p} (led by {leader}): NOT_LEADER_OR_FOLLOWER with CurrentLeader "
          f"{hint} (KIP-951)")
    err, _ = fetch_v12(cluster.nodes[leader].bootstrap, "via-1-of-%d" % n, p)
    check(err == 0, f"Fetch v12 from the leader, node {leader}: error {err}")
    report[f"visibility_ms_{n}_nodes"] = [round(t * 1000, 1) for t in times]
    print(f"  topic visibility on all {n} brokers: max {max(times) * 1000:.0f} ms, "
          f"median {statistics.median(times) * 1000:.0f} ms", flush=True)


def failover(cluster, kills):
    times = []
    for k in range(kills):
        leader = wait_until(lambda: (lambda x: x if x > 0 else None)(leader_of(cluster)), 15)
        if not check(bool(leader), f"kill {k + 1}: the quorum has a leader"):
            return
        survivor = next(i for i in cluster.alive() if i != leader)
        t0 = time.monotonic()
        cluster.nodes[leader].kill9()
        code, took = create_retrying(cluster.nodes[survivor], f"after-kill-{k}", t0)
        if not check(code == 0 and took < 5, f"kill {k + 1}: -9 of controller {leader}; a topic is created through "
                                             f"node {survivor} {took * 1000:.0f} ms later (bound 5000 ms)"):
            return
        times.append(took)
        new_leader = leader_of(cluster)
        check(new_leader not in (-1, leader), f"kill {k + 1}: node {new_leader} leads the quorum now")
        seen = len(cluster.nodes[leader].lines)
        cluster.nodes[leader].start(timeout=60)
        from_snapshot = any("metadata_snapshot_loaded" in line for line in cluster.nodes[leader].lines[seen:])
        back = wait_until(lambda: (lambda s: s and f"after-kill-{k}" in s["topics"] and len(s["brokers"]) == 3)(
            all_same(cluster)), 20)
        check(bool(back) and from_snapshot, f"kill {k + 1}: node {leader} restarted from its snapshot and log, "
                                            f"caught up, and is unfenced (snapshot loaded: {from_snapshot})")
    report["controller_failover_ms"] = [round(t * 1000, 1) for t in times]
    print(f"  controller failover over {len(times)} kills: median {statistics.median(times) * 1000:.0f} ms, "
          f"worst {max(times) * 1000:.0f} ms", flush=True)


def paused_controller(cluster):
    """SIGSTOP of the active controller (a long GC pause, a frozen VM): the others
    elect a new one and keep heartbeating to it (never fenced for the old one's
    silence); once resumed, the old one steps down and catches up."""
    leader = leader_of(cluster)
    others = [i for i in cluster.alive() if i != leader]
    t0 = time.monotonic()
    cluster.nodes[leader].proc.send_signal(signal.SIGSTOP)
    code, took = create_retrying(cluster.nodes[others[0]], "while-paused", t0)
    # Bounded: a forward waiting on the paused controller is failed once another
    # node leads (it used to wait out a 10 s request timeout).
    check(code == 0 and took < 5, f"controller {leader} paused: a topic is created through node {others[0]} "
                                  f"{took * 1000:.0f} ms later (bound 5000 ms)")
    report["paused_controller_ms"] = round(took * 1000, 1)
    time.sleep(4)  # longer than a session: the others must have heartbeaten the new controller
    brokers = metadata(cluster.nodes[others[0]].bootstrap)["brokers"]
    check(all(i in brokers for i in others), f"nodes {others} stay unfenced while {leader} is paused "
                                             f"(Metadata lists {sorted(brokers)})")
    cluster.nodes[leader].proc.send_signal(signal.SIGCONT)
    back = wait_until(lambda: (lambda s: s and "while-paused" in s["topics"] and len(s["brokers"]) == 3)(
        all_same(cluster)), 20)
    check(bool(back), f"node {leader} resumed: it follows the new controller, caught up and unfenced")


def fencing(cluster):
    leader = leader_of(cluster)
    victim = next(i for i in cluster.alive() if i != leader)
    watcher = leader
    led = [p for p, v in metadata(cluster.nodes[watcher].bootstrap)["topics"]["via-1-of-3"].items() if v[1] == victim]
    t0 = time.monotonic()
    cluster.nodes[victim].proc.send_signal(signal.SIGSTOP)
    gone = wait_until(lambda: victim not in metadata(cluster.nodes[watcher].bootstrap)["brokers"], 15)
    took = time.monotonic() - t0
    check(bool(gone), f"node {victim} stopped heartbeating (SIGSTOP): fenced, gone from Metadata after "
                      f"{took * 1000:.0f} ms (session 3000 ms)")
    report["fence_ms"] = round(took * 1000, 1)
    parts = metadata(cluster.nodes[watcher].bootstrap)["topics"]["via-1-of-3"]
    check(all(parts[p][1] == -1 for p in led), f"the partitions node {victim} led have no leader while it is fenced")
    cluster.nodes[victim].proc.send_signal(signal.SIGCONT)
    back = wait_until(lambda: victim in metadata(cluster.nodes[watcher].bootstrap)["brokers"], 15)
    check(bool(back), f"node {victim} heartbeats again: unfenced, back in Metadata")
    again = wait_until(lambda: all(metadata(cluster.nodes[watcher].bootstrap)["topics"]["via-1-of-3"][p][1] == victim
                                   for p in led), 10)
    check(bool(again), f"node {victim} leads its partitions again")
    cluster.nodes[victim].kill9()
    gone = wait_until(lambda: victim not in metadata(cluster.nodes[watcher].bootstrap)["brokers"], 15)
    check(bool(gone), f"node {victim} killed: fenced")
    cluster.nodes[victim].start(timeout=60)
    back = wait_until(lambda: victim in metadata(cluster.nodes[watcher].bootstrap)["brokers"], 15)
    check(bool(back), f"node {victim} restarted: unfenced, back in Metadata")


def damaged_log(cluster):
    leader = leader_of(cluster)
    victim = next(i for i in cluster.alive() if i != leader)
    node = cluster.nodes[victim]
    node.stop()
    seg_dir = os.path.join(node.data_dir, "__cluster_metadata-0")
    # The newest segment's last batch: what lies below the snapshots may no
    # longer be read at start, and a segment may end in preallocated zeros.
    seg = sorted(f for f in os.listdir(seg_dir) if f.endswith(".log"))[-1]
    path = os.path.join(seg_dir, seg)
    with open(path, "rb") as f:
        data = f.read()
    pos, last = 0, None
    while pos + 61 <= len(data):
        size = struct.unpack_from(">i", data, pos + 8)[0]
        if size <= 0 or pos + 12 + size > len(data):
            break
        last, pos = (pos, size), pos + 12 + size
    at = last[0] + 12 + last[1] // 2 if last else len(data) // 2  # inside its CRC-covered bytes
    with open(path, "r+b") as f:
        f.seek(at)
        b = f.read(8)
        f.seek(at)
        f.write(bytes(x ^ 0xFF for x in b))
    create_topic(cluster.nodes[leader].bootstrap, "while-damaged", 3)
    seen = len(node.lines)
    node.start(timeout=60)
    repaired = any("metadata_log_repaired" in line for line in node.lines[seen:])
    check(repaired, f"node {victim}: bytes flipped in its metadata log are detected at start and cut")
    same = wait_until(lambda: (lambda s: s and "while-damaged" in s["topics"] and len(s["brokers"]) == 3)(
        all_same(cluster)), 20)
    check(bool(same), f"node {victim}: repaired from the leader, the same Metadata as the others")
    node.stop()
    path = os.path.join(seg_dir, sorted(f for f in os.listdir(seg_dir) if f.endswith(".log"))[-1])
    with open(path, "r+b") as f:  # cut the file short
        f.truncate(os.path.getsize(path) // 3)
    node.start(timeout=60)
    same = wait_until(lambda: (lambda s: s and len(s["brokers"]) == 3)(all_same(cluster)), 20)
    check(bool(same), f"node {victim}: a metadata log cut short is filled in from the leader")


def snapshot_transfer(cluster):
    """A voter down while the others move on: their logs are cut below their
    snapshots past what it holds, so it must get the leader's snapshot
    (FetchSnapshot) before the rest of the log."""
    leader = leader_of(cluster)
    victim = next(i for i in cluster.alive() if i != leader)
    node = cluster.nodes[victim]
    node.stop()
    # More entries than the leader keeps in flight to it (64 appends, which the
    # link holds while the node is down), so catching up needs the cut part.
    codes = [create_topic(cluster.nodes[leader].bootstrap, f"behind-{n}", 1) for n in range(100)]
    check(codes == [0] * 100, f"100 topics created while node {victim} is down "
                              f"({sum(c != 0 for c in codes)} failed)")
    seen = len(node.lines)
    t0 = time.monotonic()
    node.start(timeout=60)
    same = wait_until(lambda: (lambda s: s and "behind-99" in s["topics"] and len(s["brokers"]) == 3)(
        all_same(cluster)), 30)
    took = time.monotonic() - t0
    installed = [line for line in node.lines[seen:] if "metadata_snapshot_installed" in line]
    check(bool(installed), f"node {victim}: behind the leader's log start, it fetched and installed the leader's "
                           f"snapshot ({installed[0].split('event=')[-1].strip() if installed else 'none'})")
    check(bool(same), f"node {victim}: the same Metadata as the others {took * 1000:.0f} ms after its restart")


def one_role_nodes():
    """Three controller-only voters and two broker-only nodes (observers of the
    metadata log; node 5 knows the controllers only through
    controller.quorum.bootstrap.servers): the brokers alone are in Metadata, they agree, a topic made
    through one is on the other, the quorum survives kill -9 of its leader,
    and a broker restarted catches up."""
    c = Cluster(5, controllers=[1, 2, 3], brokers=[4, 5], by_bootstrap=[5])
    t0 = time.monotonic()
    c.start()
    report["one_role_start_ms"] = round((time.monotonic() - t0) * 1000, 1)
    try:
        v = views(c, [4, 5])
        check(v[4] == v[5] and sorted(v[4]["brokers"]) == [4, 5],
              f"controller-only 1-3, broker-only 4-5: both brokers return the same Metadata, listing brokers "
              f"{sorted(v[4]['brokers'])} only")
        t0 = time.monotonic()
        code = create_topic(c.nodes[4].bootstrap, "observed", 4)
        seen = wait_until(lambda: "observed" in metadata(c.nodes[5].bootstrap)["topics"], 5, 0.005)
        took = time.monotonic() - t0
        check(code == 0 and bool(seen), f"a topic created through broker-only node 4 is on node 5 "
                                        f"{took * 1000:.0f} ms after the request")
        report["observer_visibility_ms"] = round(took * 1000, 1)
        found = [line.split("event=")[-1].strip() for line in c.nodes[5].lines
                 if "quorum_bootstrap_server_identified" in line]
        check(len(found) >= 1, f"node 5 found the controllers by address and learnt their ids ({found[:3]})")
        _, leader, _, _ = quorum_leader(c.nodes[4].bootstrap)
        check(leader in (1, 2, 3), f"DescribeQuorum through node 4 names controller {leader} as leader")
        rows = kafka_quorum_tool(c.nodes[4].bootstrap, "--replication")
        observers = sorted(int(r.split()[0]) for r in rows if r.split() and r.split()[-1] == "Observer")
        check(observers == [4, 5], f"kafka-metadata-quorum.sh describe --replication lists brokers 4 and 5 as "
                                   f"observers ({observers})")
        c.nodes[leader].kill9()
        t0 = time.monotonic()
        code, took = create_retrying(c.nodes[5], "after-controller-kill", t0)
        check(code == 0 and took < 5, f"kill -9 of controller {leader}: a topic is created through broker-only node 5 "
                                      f"{took * 1000:.0f} ms later (bound 5000 ms)")
        report["observer_failover_ms"] = round(took * 1000, 1)
        c.nodes[leader].start(timeout=60)
        c.nodes[5].stop()
        create_topic(c.nodes[4].bootstrap, "while-5-away", 2)
        c.nodes[5].start(timeout=60)
        same = wait_until(lambda: (lambda s: s and "while-5-away" in s["topics"] and sorted(s["brokers"]) == [4, 5])(
            all_same(c, [4, 5])), 20)
        check(bool(same), "broker-only node 5 restarted: caught up, unfenced, the same Metadata as node 4")
    finally:
        c.stop()


def main():
    kills = int(os.environ.get("MILLRACE_CLUSTER_KILLS", "20"))
    # A snapshot of the metadata state after every few records, so restarts load one.
    three = Cluster(3, extra={"metadata.log.max.record.bytes.between.snapshots": "2000"}).start()
    try:
        one_view(three, 3)
        fencing(three)
        damaged_log(three)
        snapshot_transfer(three)
        paused_controller(three)
        failover(three, kills)
    finally:
        three.stop()
    five = Cluster(5).start()
    try:
        one_view(five, 5)
    finally:
        five.stop()
    one_role_nodes()
    dynamic_quorum(check, wait_until)
    initial_controllers(check, wait_until)
    controller_only(check, wait_until)
    if os.environ.get("MILLRACE_CLUSTER_REPORT"):
        with open(os.environ["MILLRACE_CLUSTER_REPORT"], "w") as f:
            json.dump(report, f, indent=1)
    print(json.dumps(report), flush=True)
    if failures:
        print(f"{len(failures)} check(s) failed", flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
