"""Jepsen-style rounds against real broker processes, each in its own network
namespace (broker/testing/netns.py), with real faults: kill -9 of the leader
and of random nodes, SIGSTOP longer than the election timeout, the leader
isolated, a minority cut off, the leader's outgoing traffic dropped (one-way),
packet loss, a rolling restart. Workloads, alternating: the controller
quorum's (issue 17: CreateTopics with unique names through random brokers) and
replicated partitions' (issue 18: idempotent acks=all producers, librdkafka's
and the Java client's (ChaosProducer.java; MILLRACE_CHAOS_JAVA=0 leaves it
out), over a topic of three replicas per partition, with a consumer group
member reading and committing every 0.5 s meanwhile).

Proof the checker can fail: a broker built with the CMake option
MILLRACE_UNSAFE_CONTROLLER_ACK answers a write once proposed; against it
(MILLRACE_BUILD=<that tree>) rounds report lost topics: 3 of the 6 rounds
run against it did (seeds 501, 601, 603; timing decides, so a replayed seed
may not lose again).

Produce checker: Jepsen's queue checks (queue_check: every acknowledged value
read, none twice, at the offset acknowledged, offsets increasing, two reads
equal) and the group's (group_check: committed offsets read during the round
never go back; every acknowledged commit is kept after healing).

Topics checker, after healing and restarting everything: every acknowledged topic is
in every broker's Metadata (lost = 0); all brokers show the same topics;
attempts that timed out or lost their connection are counted apart as
indeterminate, and those with an error code as failed (either may or may not
have happened; neither is checked). Each round prints its seed and nemesis
schedule; MILLRACE_CHAOS_SEED=<seed> replays the schedule (timing is real, so
a replay is close, not exact).

  MILLRACE_CHAOS_ROUNDS (2)   rounds; each workload runs on 3 nodes, then on 5, in turn
  MILLRACE_CHAOS_SECONDS (20) workload and nemesis time per round
  MILLRACE_CHAOS_SEED         the first round's seed (default: from the clock)
  MILLRACE_CHAOS_WORKLOAD     topics, produce, or mixed (the default: they alternate)
  MILLRACE_CHAOS_NODES        nodes in every round (default: 3, 3, 5, 5, 3, ...)
  MILLRACE_CHAOS_KEEP=1       keep a passing round's data and logs (a failed round's always stay)
  MILLRACE_CHAOS_JAVA_LOG     the Java producer's log level (warn; info shows its metadata moves)
Every wait is bounded."""
import json
import os
import random
import shutil
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "broker", "testing"))
import netns  # noqa: E402
from broker_proc import Broker, sanitizer_report_in  # noqa: E402

CLIENT = os.path.join(HERE, "client.py")
PEERS = os.path.join(HERE, "..", "peers")
CACHE = os.environ.get("MILLRACE_CACHE", os.path.expanduser("~/.cache/millrace"))
JAVA = os.environ.get("MILLRACE_CHAOS_JAVA", "1") == "1"  # the Java producer beside librdkafka's
# "topics" (the controller quorum's: unique CreateTopics) or "produce" (an
# idempotent librdkafka producer, acks=all, then two full reads of a topic of
# MILLRACE_CHAOS_RF replicas per partition, 3 by default: each partition a
# Raft group over three brokers).
# "mixed" (the default) alternates: even rounds topics, odd rounds produce.
# A produce round also runs a consumer group member reading the topic and
# committing every 0.5 s, with a probe reading the group's committed offsets
# (group_check: acknowledged commits kept, committed offsets never go back).
WORKLOAD_ENV = os.environ.get("MILLRACE_CHAOS_WORKLOAD", "mixed")
KEEP = os.environ.get("MILLRACE_CHAOS_KEEP") == "1"  # keep a passing round's data and logs too
JAVA_LOG = os.environ.get("MILLRACE_CHAOS_JAVA_LOG", "warn")  # the Java client's log level
TOPIC, PARTITIONS = "chaos", 6
REPLICATION = int(os.environ.get("MILLRACE_CHAOS_RF", "3"))
GROUP_WAIT = 12  # seconds a produce round waits for its group's first commit before the nemeses
totals = {}


def bump(key, n=1):
    totals[key] = totals.get(key, 0) + n


def queue_check(deliveries, reads):
    """Jepsen's queue checks over the producer's delivery reports and two full
    reads: (counts, lost values, values whose offset changed, offsets increase
    per partition, the two reads identical). Pure (checker_test.py plants each fault)."""
    acked = {d["v"]: (d["p"], d["o"]) for d in deliveries if d["outcome"] == "ok"}
    first = reads[0]
    at = {}
    dup = 0
    for r in first:
        dup += r["v"] in at
        at[r["v"]] = (r["p"], r["o"])
    lost = sorted(v for v in acked if v not in at)
    moved = sorted(v for v, po in acked.items() if v in at and at[v] != po)

    def per_partition(read):
        parts = {}
        for r in read:
            parts.setdefault(r["p"], []).append((r["o"], r["v"]))
        return parts
    parts = per_partition(first)
    monotone = all(a[0] < b[0] for seq in parts.values() for a, b in zip(seq, seq[1:]))
    same = all(parts == per_partition(r) for r in reads[1:])  # each partition's sequence, in the order read
    counts = {
        "acknowledged": len(acked),
        "failed": sum(d["outcome"] == "failed" for d in deliveries),
        "indeterminate": sum(d["outcome"] == "unknown" for d in deliveries),
        "lost": len(lost),
        "duplicated": dup,
        "offset_changed": len(moved),
        "read": len(first),
    }
    return counts, lost, moved, monotone, same


def drain(proc):
    """Reads proc's stdout on a thread as it is written; returns a function that
    waits (at most `timeout` s) for proc to exit and gives its lines."""
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()

    def result(timeout):
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(timeout=10)
        return list(lines)
    return result


def java_producer(args):
    """The command running ChaosProducer.java (Apache Kafka's kafka-clients from
    tests/peers/kafka), compiled once into the cache by its source's digest."""
    import hashlib
    cp = subprocess.run([os.path.join(PEERS, "kafka"), "classpath"], check=True, capture_output=True,
                        text=True).stdout.strip()
    src = os.path.join(HERE, "ChaosProducer.java")
    with open(src, "rb") as f:
        classes = os.path.join(CACHE, "java-chaos", hashlib.sha256(f.read()).hexdigest()[:16])
    if not os.path.exists(os.path.join(classes, "ChaosProducer.class")):
        os.makedirs(os.path.dirname(classes), exist_ok=True)
        tmp = tempfile.mkdtemp(dir=os.path.dirname(classes))
        subprocess.run(["javac", "-d", tmp, "-cp", cp, src], check=True)
        os.rename(tmp, classes)
    # The client's warnings and errors (Kafka's tools logging) go to stderr.
    log4j = os.path.join(HERE, "java-log4j2.properties")
    return ["java", "-Xmx256m", "-XX:TieredStopAtLevel=1", f"-Dlog4j2.configurationFile={log4j}",
            f"-Dchaos.java.level={JAVA_LOG}", "-cp",
            f"{classes}:{cp}", "ChaosProducer", *map(str, args)]


def group_check(events, final):
    """The consumer group's commits: every commit the coordinator acknowledged is
    kept (the group's committed offsets read after healing are at least as far,
    per partition) and the committed offsets read during the round never go
    backwards. Returns (counts, regressions, lost commits). Pure (checker_test.py
    plants each fault)."""
    seen, regressions, acked = {}, [], {}
    for e in events:
        if "fetched" in e:
            for p, o in e["fetched"].items():
                if o < seen.get(p, -1):
                    regressions.append((p, seen[p], o))
                seen[p] = max(seen.get(p, -1), o)
        elif e.get("ok"):
            for p, o in e["commit"].items():
                acked[p] = max(acked.get(p, -1), o)
    lost = sorted((p, o, (final or {}).get(p, -1)) for p, o in acked.items() if (final or {}).get(p, -1) < o)
    counts = {
        "commits_acknowledged": sum(1 for e in events if "commit" in e and e.get("ok")),
        "commits_failed": sum(1 for e in events if "commit" in e and not e.get("ok")),
        "commit_regressions": len(regressions),
        "commits_lost": len(lost),
    }
    return counts, regressions, lost


class Round:
    def __init__(self, seed, n, seconds, workload):
        self.seed, self.n, self.seconds, self.workload = seed, n, seconds, workload
        self.rng = random.Random(seed)
        self.net = netns.TestNet(n + 1)  # the last namespace is the client's
        self.client = n + 1
        self.root = tempfile.mkdtemp(prefix="millrace-chaos-")
        voters = ",".join(f"{i}@{self.net.addr(i)}:9093" for i in range(1, n + 1))
        self.nodes = {}
        for i in range(1, n + 1):
            b = Broker(data_dir=os.path.join(self.root, f"node{i}"), name=f"node{i}")
            os.makedirs(b.data_dir, exist_ok=True)
            b.prefix = self.net.exec_prefix(i)
            b.listeners = f"PLAINTEXT://{self.net.addr(i)}:9092,CONTROLLER://{self.net.addr(i)}:9093"
            b.extra.update({"node.id": str(i), "controller.quorum.voters": voters})
            self.nodes[i] = b
        self.schedule = []

    def addrs(self):
        return [f"{self.net.addr(i)}:9092" for i in range(1, self.n + 1)]

    def start_all(self):
        errors = []

        def one(b):
            try:
                b.start(timeout=60)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(f"{b.name}: {e}")
        threads = [threading.Thread(target=one, args=(b,)) for b in self.nodes.values() if not b.alive()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise RuntimeError("; ".join(errors))

    def leader(self):
        """The active controller the nodes last announced (highest term)."""
        best, term = None, -1
        for i, b in self.nodes.items():
            for line in b.lines[-400:]:
                m = re.search(r"event=controller_active node=(\d+) term=(\d+)", line)
                if m and int(m.group(2)) > term and self.nodes[int(m.group(1))].alive():
                    best, term = int(m.group(1)), int(m.group(2))
        return best or self.rng.choice([i for i, b in self.nodes.items() if b.alive()] or [1])

    def restart(self, i):
        try:
            self.nodes[i].start(timeout=60)
        except RuntimeError as e:
            self.schedule.append(f"restart of node {i} failed: {e}")

    # Each nemesis: applied now, undone after `hold` seconds.
    def nemesis(self, name, hold):
        target = self.leader() if "leader" in name else self.rng.randint(1, self.n)
        if name != "rolling-restart" and not self.nodes[target].alive():
            self.restart(target)  # a node a failed restart left down: bring it back instead
            return
        what = "every node in turn" if name == "rolling-restart" else f"node {target} for {hold:.1f}s"
        self.schedule.append(f"{time.monotonic() - self.t0:6.1f}s {name} {what}")
        bump(f"nemesis {name}")
        if name in ("kill-leader", "kill-random"):
            self.nodes[target].kill9()
            time.sleep(hold)
            self.restart(target)
        elif name == "pause-leader":
            self.nodes[target].proc.send_signal(signal.SIGSTOP)
            time.sleep(hold)
            self.nodes[target].proc.send_signal(signal.SIGCONT)
        elif name in ("isolate-leader", "isolate-random"):
            self.net.isolate(target)
            time.sleep(hold)
            self.net.heal()
        elif name == "oneway-leader":
            for b in range(1, self.n + 1):
                if b != target:
                    self.net.cut(target, b, oneway=True)
            time.sleep(hold)
            self.net.heal()
        elif name == "loss":
            self.net.loss(target, 30)
            time.sleep(hold)
            self.net.heal()
        elif name == "rolling-restart":
            for i in range(1, self.n + 1):
                self.nodes[i].stop()
                self.restart(i)

    def client_run(self, *args, timeout=120):
        r = subprocess.run(self.net.exec_prefix(self.client) + [sys.executable, CLIENT, *map(str, args)],
                           capture_output=True, text=True, timeout=timeout)
        return [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]

    def run(self):
        self.start_all()
        if self.workload == "produce":
            code = None
            for _ in range(50):  # the offsets topic and a leader first
                code = self.client_run("create", self.addrs()[0], TOPIC, PARTITIONS, REPLICATION)
                if code and code[-1].get("code") == 0:
                    break
                time.sleep(0.2)
            # The workloads run GROUP_WAIT longer: the nemeses start once the
            # group has committed (or GROUP_WAIT passed), and last self.seconds.
            argv = ["produce", self.seed, self.seconds + GROUP_WAIT, ",".join(self.addrs()), TOPIC, PARTITIONS]
        else:
            argv = ["workload", self.seed, self.seconds, ",".join(self.addrs())]
        # The workloads' reports are read as they come: a producer whose stdout
        # pipe is full blocks in its delivery callback (the Java client's, on its
        # network thread), and its writes would time out for that alone.
        wl = self.net.popen(self.client, [sys.executable, CLIENT, *map(str, argv)], stdout=subprocess.PIPE, text=True)
        wl_lines = drain(wl)
        jw = None
        if self.workload == "produce" and JAVA:  # Java's idempotent producer on the same topic
            self.java_log = os.path.join(self.root, "java-producer.log")
            jw = self.net.popen(self.client, java_producer(argv[1:]), stdout=subprocess.PIPE,
                                stderr=open(self.java_log, "w"), text=True)
            jw_lines = drain(jw)
        # Produce rounds: a consumer group reads and commits meanwhile.
        gr, self.group_events, gerr = None, [], []
        if self.workload == "produce":
            gr = self.net.popen(self.client, [sys.executable, CLIENT, "group", str(self.seconds + GROUP_WAIT),
                                              ",".join(self.addrs()), TOPIC, str(PARTITIONS), f"chaos-{self.seed}"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            committed = threading.Event()

            def pump():
                for line in gr.stdout:
                    if line.startswith("{"):
                        e = json.loads(line)
                        self.group_events.append(e)
                        if e.get("ok"):
                            committed.set()
            threading.Thread(target=pump, daemon=True).start()
            threading.Thread(target=lambda: gerr.append(gr.stderr.read()), daemon=True).start()
            committed.wait(GROUP_WAIT)
        self.t0 = time.monotonic()
        names = ["kill-leader", "kill-random", "pause-leader", "isolate-leader", "isolate-random",
                 "oneway-leader", "loss"]
        rolled = False
        while time.monotonic() - self.t0 < self.seconds - 4:
            name = self.rng.choice(names)
            if not rolled and self.rng.random() < 0.1:
                name, rolled = "rolling-restart", True
            self.nemesis(name, 1.5 + 2 * self.rng.random())
            time.sleep(0.5 + self.rng.random())
        attempts = [json.loads(line) for line in wl_lines(timeout=self.seconds + 60) if line.startswith("{")]
        if jw:
            java = [json.loads(line) for line in jw_lines(timeout=self.seconds + 90) if line.startswith("{")]
            bump("java deliveries", len(java))
            attempts += java
        if gr:
            gr.wait(timeout=self.seconds + GROUP_WAIT + 60)
            time.sleep(0.2)  # the pump's last lines
            if not self.group_events:
                print(f"    the group client said nothing; its stderr: {''.join(gerr)[-2000:]}", flush=True)
            if os.environ.get("MILLRACE_CHAOS_VERBOSE"):
                for e in self.group_events:
                    if "commit" in e:
                        print("    group:", json.dumps(e), flush=True)
        # Heal: whole network, every node up, then the final reads.
        self.net.heal()
        for i, b in self.nodes.items():
            if not b.alive():
                self.restart(i)
        if self.workload == "produce":
            return self.check_produce(attempts)
        acked = {a["name"] for a in attempts if a["outcome"] == "ok"}
        finals = {}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            finals = {i: self.topics(i) for i in self.nodes}
            if all(f is not None and acked <= f for f in finals.values()) and \
                    len({tuple(sorted(f)) for f in finals.values()}) == 1:
                break
            time.sleep(0.5)
        seen = set.union(*[f or set() for f in finals.values()])
        lost = sorted(acked - seen)
        missing_somewhere = sorted(n for n in acked if any(f is None or n not in f for f in finals.values()))
        agree = len({tuple(sorted(f or [])) for f in finals.values()}) == 1
        counts = {
            "acknowledged": len(acked),
            "failed": sum(a["outcome"] == "failed" for a in attempts),
            "indeterminate": sum(a["outcome"] == "unknown" for a in attempts),
            "lost": len(lost),
        }
        ok = not lost and not missing_somewhere and agree
        return self.report(counts, ok, f"lost: {lost[:20]}; missing on some broker: {missing_somewhere[:20]}; "
                                       f"brokers agree: {agree}")

    def report(self, counts, ok, why):
        """Adds a round's counts to the totals and prints its verdict, schedule and,
        when it failed, why and how to replay it. A round that acknowledged
        nothing proved nothing: it fails too."""
        for k, v in counts.items():
            bump(k, v)
        ok = ok and counts["acknowledged"] > 0
        print(f"round seed={self.seed} nodes={self.n} workload={self.workload}: {json.dumps(counts)} "
              f"{'ok' if ok else 'FAIL'}", flush=True)
        for line in self.schedule:
            print("   ", line, flush=True)
        if not ok:
            print(f"    {why}; acknowledged: {counts['acknowledged']}", flush=True)
            print(f"    replay: MILLRACE_CHAOS_WORKLOAD={self.workload} MILLRACE_CHAOS_NODES={self.n} "
                  f"MILLRACE_CHAOS_SEED={self.seed} MILLRACE_CHAOS_ROUNDS=1 tests/chaos/run", flush=True)
        return ok

    def check_produce(self, deliveries):
        """Jepsen's queue checks: every acknowledged value read (lost), none read twice
        (duplicated), each at the offset its acknowledgement gave, offsets increasing
        per partition, and two reads identical."""
        reads = [self.client_run("consume", ",".join(self.addrs()), TOPIC, PARTITIONS) for _ in range(2)]
        counts, lost, moved, monotone, same = queue_check(deliveries, reads)
        for name, mine in (("java", lambda v: v.startswith("j")), ("librdkafka", lambda v: not v.startswith("j"))):
            for outcome in ("ok", "unknown", "failed"):
                n = sum(1 for d in deliveries if mine(d["v"]) and d["outcome"] == outcome)
                if n:
                    counts[f"{name} {outcome}"] = n
        errors = {}
        for d in deliveries:
            if d["outcome"] != "ok":
                errors[d.get("error", "?")] = errors.get(d.get("error", "?"), 0) + 1
        if errors:
            print(f"    delivery errors: {json.dumps(errors)}", flush=True)
        final = self.client_run("committed", ",".join(self.addrs()), TOPIC, PARTITIONS, f"chaos-{self.seed}")
        gcounts, regressions, commits_lost = group_check(self.group_events, final[-1]["fetched"] if final else None)
        counts.update(gcounts)
        ok = not lost and not counts["duplicated"] and not moved and monotone and same and not regressions \
            and not commits_lost and gcounts["commits_acknowledged"] > 0
        return self.report(counts, ok, f"lost: {lost[:10]}; offsets changed: {moved[:10]}; offsets increase per "
                                       f"partition: {monotone}; two reads identical: {same}; committed offsets "
                                       f"going back: {regressions[:5]}; acknowledged commits lost: "
                                       f"{commits_lost[:5]}")

    def topics(self, i):
        docs = self.client_run("topics", f"{self.net.addr(i)}:9092", timeout=30)
        return set(docs[-1]["topics"]) if docs and "topics" in docs[-1] else None

    def close(self):
        """Stops everything; True when no run of any node wrote a sanitizer report."""
        for b in self.nodes.values():
            if b.alive():
                try:
                    b.proc.send_signal(signal.SIGCONT)
                    b.kill9()
                except Exception:  # noqa: BLE001 - teardown; reports are read below
                    pass
        self.net.close()
        clean = True
        for b in self.nodes.values():
            report = sanitizer_report_in(b.log_path, 0)
            if report:
                print(f"    sanitizer report from {b.name} ({b.log_path}):\n{report[:3000]}", flush=True)
                clean = False
        return clean


def main():
    why = netns.available()
    if why:
        print(f"FAIL this machine cannot run the chaos suite: {why}")
        sys.exit(1)
    rounds = int(os.environ.get("MILLRACE_CHAOS_ROUNDS", "2"))
    seconds = float(os.environ.get("MILLRACE_CHAOS_SECONDS", "20"))
    seed = int(os.environ.get("MILLRACE_CHAOS_SEED", str(int(time.time()) % 1000000)))
    failed = 0
    for r in range(rounds):
        workload = WORKLOAD_ENV if WORKLOAD_ENV != "mixed" else ("topics" if r % 2 == 0 else "produce")
        # Each workload on 3 nodes, then on 5: topics/3, produce/3, topics/5, produce/5, ...
        nodes = int(os.environ.get("MILLRACE_CHAOS_NODES", "0")) or (3 if (r // 2) % 2 == 0 else 5)
        rnd = Round(seed + r, nodes, seconds, workload)
        ok = False
        try:
            ok = rnd.run()
        finally:
            ok = rnd.close() and ok
        if ok and not KEEP:  # a failed round's data and logs stay for the replay
            shutil.rmtree(rnd.root, ignore_errors=True)
        elif not ok:
            print(f"    data and logs kept in {rnd.root}", flush=True)
        failed += 0 if ok else 1
    print(f"chaos: {rounds} rounds from seed {seed}, {failed} failed; totals {json.dumps(totals, sort_keys=True)}",
          flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
