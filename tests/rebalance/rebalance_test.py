"""The Rebalance resource end to end (issue 19): the real kube-apiserver of
tests/k8s, millrace-operator from $MILLRACE_BUILD, and one Millrace cluster of
broker processes: the Millrace's own pod (run by the harness, through
broker_wrapper.py) joined by nodes this test starts (two more voters, then
broker-only nodes one at a time), every broker with
leader.replication.throttled.rate set so that moves take seconds.

1. A topic of 6 partitions, replication factor 2, written with 6 MB, on the three
   voters; a fourth broker joins empty (the skew).
2. Rebalance `manual` (mode full, no autoApprove): ProposalReady with a proposal
   (moves, bytes, throttle, estimated time = bytes / throttle, replicas balanced
   after and not before), the plan's ConfigMap; it stays there for 10 s with no
   replica moved; annotation millrace.io/rebalance-approve: "true" starts it;
   Ready with every move done, the annotation removed, every broker within the
   planner's band (3 replicas each), all in sync, every record still readable.
   A second pass over the converged object writes nothing.
3. A fifth broker joins; Rebalance `auto` (autoApprove, one move at a time per
   receiving broker) starts at once; the operator is killed (-9) while moves run
   and started again: Ready, balanced (2 or 3 replicas each), and no partition
   submitted twice over both operator processes (their logs).
4. 8 MB more a partition; Rebalance `drain` (mode remove-brokers, the fifth
   broker) approved by millrace.io/rebalance=approve, stopped (=stop) while moves
   run: Stopped with the moves in flight cancelled (the operator's cancel
   requests), every partition of the plan on its old or its new replicas, and
   nothing more moves; refresh: a new, smaller proposal; approve: Ready, the
   drained broker holds no replica, the others within the band, every record read.
5. A Rebalance naming a broker that does not exist: NotReady naming it; one naming
   a Millrace that does not exist: ClusterReachable=False/ClusterNotFound; the
   CRD refuses mode full with brokers.

The checkers were shown to fail: with the moves in flight hidden from the state
machine (the reconciler's in_flight left empty, planted), step 2 ends with 34 of
40 moves done and 6 skipped, and step 3 finds 13 partitions submitted twice; with
DescribeLogDirs' sizes zeroed in the admin client (planted), step 2's proposal
check (0 bytes) and the size check fail.
"""
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "broker", "testing"))
sys.path.insert(0, os.path.join(ROOT, "tests", "cluster"))
from broker_proc import Broker, free_port, free_ports  # noqa: E402
from checks import check, failures, wait_until  # noqa: E402
from cluster_wire import create_topic, metadata  # noqa: E402
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition  # noqa: E402

BUILD = os.path.abspath(os.environ.get("MILLRACE_BUILD", os.path.join(ROOT, "build", "release")))
os.environ["MILLRACE_BUILD"] = BUILD
TOPIC, PARTITIONS, RF = "skewed", 6, 2
RATE = 2_000_000             # leader.replication.throttled.rate, bytes/s
VALUE = b"x" * 10_000
PER_PARTITION = 100          # records of 10 kB: 1 MB a partition
RUN = tempfile.mkdtemp(prefix="millrace-rebalance-e2e.")
RB_DIR = os.path.join(RUN, "rb")
os.makedirs(RB_DIR)


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def sh(*args, timeout=60, check_rc=False, input=None):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, input=input)
    if check_rc and r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {r.stdout}{r.stderr}")
    return r


def k(*args, **kw):
    return sh("kubectl", "--request-timeout=20s", *args, **kw)


def obj(kind, name):
    r = k("get", kind, name, "-o", "json")
    return json.loads(r.stdout) if r.returncode == 0 else None


def status_of(name):
    o = obj("rebalance", name)
    return (o or {}).get("status", {})


def state_of(name):
    return status_of(name).get("state")


def events_of(name, reason):
    r = k("get", "events", "--field-selector", f"involvedObject.name={name},reason={reason}", "-o", "json")
    return json.loads(r.stdout)["items"] if r.returncode == 0 else []


class Operator:
    def __init__(self):
        self.metrics_port = free_port()
        self.proc, self.logs, self.n = None, [], 0

    def start(self):
        self.n += 1
        path = os.path.join(RUN, f"operator-{self.n}.log")
        self.logs.append(path)
        self.proc = subprocess.Popen(
            [os.path.join(BUILD, "operator", "millrace-operator"), "--kubeconfig", os.environ["KUBECONFIG"],
             "--metrics-bind-address", f"127.0.0.1:{self.metrics_port}", "--leader-election-namespace", "default",
             "--kafka-addressing", "pod-ip", "--identity", f"op-{self.n}"],
            stdout=open(path, "a"), stderr=subprocess.STDOUT)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def writes(self):
        """API writes so far to anything but Leases and Events (one scrape)."""
        import urllib.request
        text = urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).read().decode()
        total = 0
        for line in text.splitlines():
            if line.startswith("millrace_operator_api_writes_total") and \
                    not re.search(r'resource="(leases|events)"', line):
                total += float(line.split()[-1])
        return int(total)

    def submitted(self):
        """[(rebalance, partition)] of every submit line in every log so far."""
        out = []
        for path in self.logs:
            with open(path, errors="replace") as f:
                for line in f:
                    m = re.search(r"rebalance (\S+): submitting (\S+) ", line)
                    if m:
                        out.append((m.group(1), m.group(2)))
        return out


def views(bootstraps):
    """{partition: replicas} when every broker answers the same with every replica in sync, else None."""
    out = None
    for bs in bootstraps:
        try:
            parts = metadata(bs)["topics"].get(TOPIC)
        except OSError:
            return None
        if not parts or len(parts) != PARTITIONS or any(
                e != 0 or sorted(isr) != sorted(replicas) for e, _, replicas, isr in parts.values()):
            return None
        mine = {p: tuple(replicas) for p, (_, _, replicas, _) in parts.items()}
        if out is not None and mine != out:
            return None
        out = mine
    return out


def all_partitions(bootstraps):
    """{(topic, partition): replicas} of every topic, internal ones too, when every
    broker answers the same, else None."""
    out = None
    for bs in bootstraps:
        try:
            topics = metadata(bs)["topics"]
        except OSError:
            return None
        mine = {(t, p): tuple(v[2]) for t, parts in topics.items() for p, v in parts.items()}
        if out is not None and mine != out:
            return None
        out = mine
    return out


def landed(name, bootstraps):
    """After a Rebalance is Ready: every move of its plan ended on its target's
    brokers (checked), and whether in the target's order (a broker may reorder;
    printed, since the preferred leader is the first replica)."""
    moves = json.loads(obj("configmap", f"{name}-plan")["data"]["moves.json"])
    every = wait_until(lambda: all_partitions(bootstraps), 30, step=0.5) or {}
    wrong, reordered = [], []
    for m in moves:
        now = list(every.get((m["topic"], m["partition"]), ()))
        if sorted(now) != sorted(m["to"]):
            wrong.append(f"{m['topic']}-{m['partition']} {now} (planned {m['to']})")
        elif now != m["to"]:
            reordered.append(f"{m['topic']}-{m['partition']} {now} (planned {m['to']})")
    check(bool(every) and not wrong, f"{name}: every planned move on its target brokers: {wrong[:5]}")
    if reordered:
        log(f"NOTE {name}: {len(reordered)} moves landed on their brokers in another order: {reordered[:5]}")


def per_broker(view, brokers):
    count = {b: 0 for b in brokers}
    for replicas in view.values():
        for b in replicas:
            count[b] = count.get(b, 0) + 1
    return count


def in_band(count):
    """The planner's replica band with countTolerance 0: [floor(mean), ceil(mean)]."""
    mean = sum(count.values()) / len(count)
    return all(math.floor(mean) <= c <= math.ceil(mean) for c in count.values())


def produce(bootstrap, per_partition=PER_PARTITION):
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True, "linger.ms": 5})
    acked, errors = [0], []

    def done(e, _m):
        if e:
            errors.append(str(e))
        else:
            acked[0] += 1
    for part in range(PARTITIONS):
        for _ in range(per_partition):
            p.produce(TOPIC, VALUE, partition=part, on_delivery=done)
            p.poll(0)
    p.flush(120)
    return acked[0], errors


def read_all(bootstrap):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "rebalance-read", "enable.auto.commit": False,
                  "auto.offset.reset": "earliest", "enable.partition.eof": True})
    c.assign([TopicPartition(TOPIC, p, 0) for p in range(PARTITIONS)])
    got, eof, deadline = 0, set(), time.monotonic() + 120
    while len(eof) < PARTITIONS and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                eof.add(m.partition())
            continue
        got += 1
    c.close()
    return got


def apply(yaml_text):
    return k("apply", "-f", "-", input=yaml_text)


OP = Operator()
NODES = {}  # node id -> Broker: the nodes this test starts


def main():
    op, nodes = OP, NODES
    cluster_env = dict(os.environ, MILLRACE_RB_DIR=RB_DIR,
                       MILLRACE_REAL_BROKER=os.path.join(BUILD, "broker", "millrace-broker"),
                       MILLRACE_BROKER=os.path.join(HERE, "broker_wrapper.py"))
    log(f"starting the test cluster in {RUN}")
    r = subprocess.run(["bash", os.path.join(ROOT, "tests", "k8s", "cluster"), "up", RUN], env=cluster_env,
                       capture_output=True, text=True, timeout=1800)
    if r.returncode != 0:
        print(r.stdout, r.stderr)
        check(False, "test cluster up")
        return
    env = subprocess.run(["bash", os.path.join(ROOT, "tests", "k8s", "cluster"), "env", RUN], capture_output=True,
                         text=True).stdout
    for m in re.finditer(r'export (\w+)="?([^"\n]*)"?', env):
        os.environ[m.group(1)] = os.path.expandvars(m.group(2))  # PATH="...:$PATH"

    # Server-side, as helm and the chart suite apply them: strict about the schema itself.
    check(k("apply", "--server-side", "-f", os.path.join(ROOT, "charts", "millrace", "crds")).returncode == 0,
          "CRDs apply (server-side)")
    check(k("wait", "--for=condition=Established", "--timeout=60s", "crd/rebalances.millrace.io",
            "crd/millraces.millrace.io").returncode == 0, "CRDs established")
    op.start()
    apply("""apiVersion: millrace.io/v1alpha1
kind: Millrace
metadata: {name: demo}
spec: {brokers: 1, image: millrace/millrace:test, config: {auto.create.topics.enable: "false"}}
""")
    ids = wait_until(lambda: (obj("configmap", "demo-node-ids") or {}).get("data"), 60, step=0.5)
    check(bool(ids), f"node ids recorded: {ids}")
    if not ids:
        return
    pod_id = int(ids["demo-0"])
    voters = [pod_id, pod_id + 1, pod_id + 2]
    observers = [pod_id + 3, pod_id + 4]
    ctl = dict(zip(voters, free_ports(len(voters))))
    voters_text = ",".join(f"{i}@127.0.0.1:{p}" for i, p in ctl.items())
    extra = {"leader.replication.throttled.rate": str(RATE), "auto.create.topics.enable": "false"}
    with open(os.path.join(RB_DIR, "cluster.json"), "w") as f:
        json.dump({"voters": voters_text, "controller_ports": {str(i): p for i, p in ctl.items()}, "extra": extra}, f)

    def node(i, voter):
        b = Broker(data_dir=os.path.join(RUN, f"node{i}"), name=f"node{i}")
        os.makedirs(b.data_dir, exist_ok=True)
        b.extra.update(extra)
        b.extra.update({"node.id": str(i), "controller.quorum.voters": voters_text,
                        "process.roles": "broker,controller" if voter else "broker",
                        "listeners": f"PLAINTEXT://127.0.0.1:{b.port}" +
                                     (f",CONTROLLER://127.0.0.1:{ctl[i]}" if voter else "")})
        nodes[i] = b
        return b

    starts = [threading.Thread(target=node(i, True).start, kwargs={"timeout": 120}) for i in voters[1:]]
    for t in starts:
        t.start()
    for t in starts:
        t.join()
    pod_ready = wait_until(lambda: k("get", "millrace", "demo", "-o",
                                     "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}").stdout == "True",
                           120, step=1)
    check(bool(pod_ready) and all(nodes[i].alive() for i in voters[1:]),
          f"the Millrace's pod (node {pod_id}) and nodes {voters[1:]} run as one cluster")
    bootstrap = ",".join(nodes[i].bootstrap for i in voters[1:])
    check(create_topic(nodes[voters[1]].bootstrap, TOPIC, PARTITIONS, RF) == 0,
          f"topic {TOPIC}: {PARTITIONS} partitions, replication factor {RF}")
    acked, errors = produce(bootstrap)
    check(acked == PARTITIONS * PER_PARTITION and not errors, f"{acked} records acknowledged (acks=all), errors {errors[:3]}")
    node(observers[0], False).start(timeout=120)
    brokers = voters + observers[:1]
    all_bs = [nodes[i].bootstrap for i in voters[1:] + observers[:1]]
    before = wait_until(lambda: views(all_bs), 30, step=0.5)
    count = per_broker(before or {}, brokers)
    check(bool(before) and count[observers[0]] == 0 and not in_band(count),
          f"skewed: replicas per broker {count}")

    # --- 2. Proposal, approval by annotation, Ready and balanced -------------
    apply("""apiVersion: millrace.io/v1alpha1
kind: Rebalance
metadata: {name: manual}
spec: {cluster: demo, mode: full}
""")
    check(bool(wait_until(lambda: state_of("manual") == "ProposalReady", 60, step=0.5)),
          f"manual: ProposalReady ({state_of('manual')})")
    st = status_of("manual")
    prop = st.get("proposal", {})
    goals = {g["goal"]: g for g in prop.get("goals", [])}
    log(f"manual proposal: {json.dumps(prop)}")
    check(prop.get("reassignments", 0) > 0 and prop.get("replicaMoves", 0) > 0 and prop.get("bytesToMove", 0) > 0,
          f"proposal: {prop.get('reassignments')} reassignments, {prop.get('replicaMoves')} replicas, "
          f"{prop.get('bytesToMove')} bytes")
    check(prop.get("throttleBytesPerSecond") == RATE and
          prop.get("estimatedSeconds") == -(-prop.get("bytesToMove", 0) // RATE),
          f"estimated {prop.get('estimatedSeconds')} s at the brokers' throttle {prop.get('throttleBytesPerSecond')}")
    check(goals.get("replicas", {}).get("before", {}).get("balanced") is False and
          goals.get("replicas", {}).get("after", {}).get("balanced") is True,
          f"replicas goal unbalanced before, balanced after: {goals.get('replicas')}")
    cond = st.get("conditions", [{}])
    check(len(cond) == 1 and cond[0].get("type") == "ProposalReady" and cond[0].get("status") == "True",
          f"one condition, ProposalReady=True: {cond}")
    plan = obj("configmap", "manual-plan")
    moves = json.loads(plan["data"]["moves.json"]) if plan else []
    check(len(moves) == prop.get("reassignments") and
          plan["metadata"]["ownerReferences"][0]["kind"] == "Rebalance",
          f"the plan ConfigMap holds the {len(moves)} moves and is owned by the Rebalance")
    # Sizes come from every broker's DescribeLogDirs: a move copies the partition once per new replica.
    small = [f"{m['topic']}-{m['partition']}: {m['bytes']}" for m in moves if m["topic"] == TOPIC and
             m["bytes"] < PER_PARTITION * len(VALUE) * len(set(m["to"]) - set(m["from"]))]
    check(any(m["topic"] == TOPIC for m in moves) and not small,
          f"every move of {TOPIC} carries its partition's size (>= {PER_PARTITION * len(VALUE)} bytes a replica): {small}")
    time.sleep(10)
    check(state_of("manual") == "ProposalReady" and views(all_bs) == before,
          "unapproved after 10 s: still ProposalReady, no replica moved")
    check(len(events_of("manual", "ProposalReady")) == 1, "one ProposalReady event")
    t0 = time.monotonic()
    k("annotate", "rebalance", "manual", "millrace.io/rebalance-approve=true")
    ready = wait_until(lambda: state_of("manual") == "Ready", 180, step=0.5)
    st = status_of("manual")
    log(f"manual: {time.monotonic() - t0:.1f} s from approval to {st.get('state')}: {json.dumps(st.get('progress'))}")
    check(bool(ready), f"manual: Ready after approval ({st.get('state')}: {st.get('message')})")
    pr = st.get("progress", {})
    check(pr.get("movesDone") == pr.get("movesTotal") == prop.get("reassignments") and pr.get("bytesLeft") == 0,
          f"progress: {pr.get('movesDone')}/{pr.get('movesTotal')} done, {pr.get('bytesLeft')} bytes left")
    ann = (obj("rebalance", "manual") or {}).get("metadata", {}).get("annotations", {})
    check("millrace.io/rebalance-approve" not in ann, f"the approval annotation is removed: {ann}")
    after = wait_until(lambda: views(all_bs), 30, step=0.5)
    count = per_broker(after or {}, brokers)
    check(bool(after) and in_band(count), f"balanced within the planner's band: replicas per broker {count}")
    landed("manual", all_bs)
    check(read_all(bootstrap) == acked, "every acknowledged record is read back")
    check(len(events_of("manual", "RebalanceFinished")) == 1, "one RebalanceFinished event")
    w0 = op.writes()
    k("label", "rebalance", "manual", "touched=yes")  # a reconcile of the converged object
    time.sleep(6)
    w1 = op.writes()
    check(w1 == w0, f"a converged Rebalance's reconcile writes nothing ({w1 - w0} writes)")

    # --- 3. autoApprove, operator killed mid-way ------------------------------
    node(observers[1], False).start(timeout=120)
    brokers = voters + observers
    all_bs = [nodes[i].bootstrap for i in voters[1:] + observers]
    before = wait_until(lambda: views(all_bs), 30, step=0.5)
    count = per_broker(before or {}, brokers)
    check(bool(before) and count[observers[1]] == 0, f"a fifth broker, empty: {count}")
    apply("""apiVersion: millrace.io/v1alpha1
kind: Rebalance
metadata: {name: auto}
spec: {cluster: demo, mode: full, autoApprove: true, concurrentMoves: 1}
""")
    running = wait_until(lambda: state_of("auto") in ("Rebalancing", "Ready") and state_of("auto"), 60, step=0.2)
    check(running == "Rebalancing", f"auto: Rebalancing at once ({running})")
    op.kill9()
    log(f"operator killed (-9) with auto {state_of('auto')}: {json.dumps(status_of('auto').get('progress'))}")
    time.sleep(2)
    op.start()
    ready = wait_until(lambda: state_of("auto") == "Ready", 180, step=0.5)
    st = status_of("auto")
    check(bool(ready), f"auto: Ready after the restart ({st.get('state')}: {st.get('message')})")
    after = wait_until(lambda: views(all_bs), 30, step=0.5)
    count = per_broker(after or {}, brokers)
    check(bool(after) and in_band(count), f"balanced over five brokers: {count}")
    landed("auto", all_bs)
    subs = [p for r, p in op.submitted() if r == "default/auto"]
    twice = sorted({p for p in subs if subs.count(p) > 1})
    check(bool(subs) and not twice, f"{len(subs)} submits over two operator processes, none twice: {twice}")
    check(not events_of("auto", "PlanLost"), "the plan survived the restart (no PlanLost event)")
    check(read_all(bootstrap) == acked, "every acknowledged record is still read back")

    # --- 4. remove-brokers, stopped mid-way, refreshed, approved ---------------
    more, errors = produce(bootstrap, per_partition=800)  # 8 MB a partition: a move takes ~4 s
    acked += more
    check(not errors, f"{more} more records acknowledged")
    leaving = observers[1]
    apply(f"""apiVersion: millrace.io/v1alpha1
kind: Rebalance
metadata: {{name: drain}}
spec: {{cluster: demo, mode: remove-brokers, brokers: [{leaving}], concurrentMoves: 1}}
""")
    check(bool(wait_until(lambda: state_of("drain") == "ProposalReady", 60, step=0.5)), "drain: ProposalReady")
    k("annotate", "rebalance", "drain", "millrace.io/rebalance=approve")
    flying = wait_until(lambda: state_of("drain") == "Rebalancing" and
                        status_of("drain").get("progress", {}).get("movesInFlight", 0) > 0, 60, step=0.2)
    check(bool(flying), f"drain: Rebalancing with moves in flight ({state_of('drain')})")
    k("annotate", "--overwrite", "rebalance", "drain", "millrace.io/rebalance=stop")
    stopped = wait_until(lambda: state_of("drain") == "Stopped" and
                         status_of("drain").get("progress", {}).get("movesInFlight") == 0, 60, step=0.5)
    st = status_of("drain")
    pr = st.get("progress", {})
    log(f"drain stopped: {st.get('message')}")
    check(bool(stopped) and pr.get("movesDone", 0) < pr.get("movesTotal", 0),
          f"drain: Stopped part way, nothing in flight ({pr.get('movesDone')}/{pr.get('movesTotal')} done)")
    cancelled = [line for path in op.logs for line in open(path, errors="replace")
                 if "rebalance default/drain: cancelling" in line]
    check(bool(cancelled), f"the moves in flight were cancelled: {len(cancelled)} cancel requests")
    plan = {(m["topic"], m["partition"]): m for m in json.loads(obj("configmap", "drain-plan")["data"]["moves.json"])}
    # A cancelled move goes back to the replicas it started from. Kafka keeps their
    # order too; Millrace's brokers may not (a broker change asked for in the
    # report of this work), so the order is shown, the set is checked.
    every = wait_until(lambda: all_partitions(all_bs), 30, step=0.5) or {}
    for line in cancelled:
        name = line.rsplit(" ", 1)[-1].strip()
        topic, part = name.rsplit("-", 1)
        was = plan.get((topic, int(part)), {}).get("from")
        to = plan.get((topic, int(part)), {}).get("to")
        now = every.get((topic, int(part)))
        reverted = was is not None and now is not None and sorted(now) == sorted(was)
        # A move that ended before the cancel reached the controller stays done.
        check(reverted or (now is not None and list(now) == to),
              f"cancelled {name}: on {list(now or [])} (it started from {was}" +
              (", order kept)" if now and list(now) == was else ", order changed)" if reverted else
               f", finished before the cancel: {to})"))
    view = wait_until(lambda: views(all_bs), 30, step=0.5)
    half = [p for p, r in (view or {}).items()
            if (TOPIC, p) in plan and list(r) not in (plan[(TOPIC, p)]["from"], plan[(TOPIC, p)]["to"])]
    check(bool(view) and not half, f"every partition of the plan on its old or its new replicas, none half moved: {half}")
    time.sleep(6)
    check(state_of("drain") == "Stopped" and
          status_of("drain").get("progress", {}).get("movesDone") == pr.get("movesDone"),
          "stopped stays stopped: nothing more moves")
    k("annotate", "--overwrite", "rebalance", "drain", "millrace.io/rebalance=refresh")
    refreshed = wait_until(lambda: state_of("drain") == "ProposalReady" and
                           status_of("drain").get("proposal", {}).get("computedAt") != st["proposal"]["computedAt"],
                           60, step=0.5)
    left = status_of("drain").get("proposal", {}).get("reassignments", 0)
    # What is left: fewer moves when some finished before the stop, all of them
    # when the stop came first (seen with 32 moves, 4 in flight, none done).
    done = pr.get("movesDone", 0)
    check(bool(refreshed) and 0 < left <= st["proposal"]["reassignments"] and (done == 0 or left < st["proposal"]["reassignments"]),
          f"refresh: a new proposal of what is left ({left} of {st['proposal']['reassignments']}, {done} done before the stop)")
    k("annotate", "--overwrite", "rebalance", "drain", "millrace.io/rebalance=approve")
    ready = wait_until(lambda: state_of("drain") == "Ready", 240, step=0.5)
    check(bool(ready), f"drain: Ready after approval ({state_of('drain')}: {status_of('drain').get('message')})")
    view = wait_until(lambda: views(all_bs), 30, step=0.5)
    count = per_broker(view or {}, brokers)
    check(bool(view) and count.get(leaving) == 0, f"broker {leaving} holds no replica of {TOPIC}: {count}")
    every = all_partitions(all_bs) or {}
    named = sorted(f"{t}-{p}" for (t, p), r in every.items() if leaving in r)
    check(bool(every) and not named, f"no partition of any topic (internal ones too) names broker {leaving}: {named[:5]}")
    every = wait_until(lambda: all_partitions(all_bs), 30, step=0.5) or {}
    moves = json.loads(obj("configmap", "drain-plan")["data"]["moves.json"])
    reordered = [f"{m['topic']}-{m['partition']} {list(every.get((m['topic'], m['partition']), ()))} "
                 f"(planned {m['to']})" for m in moves
                 if list(every.get((m["topic"], m["partition"]), ())) != m["to"]]
    if reordered:  # the final list may differ from a plan made before later moves: shown only
        log(f"NOTE drain: {len(reordered)} partitions of the last plan not on its exact list: {reordered[:5]}")
    rest = {b: c for b, c in count.items() if b != leaving}
    check(in_band(rest), f"the other four within the band: {rest}")
    check(read_all(bootstrap) == acked, f"all {acked} acknowledged records read back")

    # --- 5. Bad input ----------------------------------------------------------
    apply("""apiVersion: millrace.io/v1alpha1
kind: Rebalance
metadata: {name: ghost-broker}
spec: {cluster: demo, mode: add-brokers, brokers: [999]}
""")
    check(bool(wait_until(lambda: state_of("ghost-broker") == "NotReady", 60, step=0.5)),
          f"a broker that does not exist: NotReady ({status_of('ghost-broker').get('message')})")
    check("999" in status_of("ghost-broker").get("message", ""), "the message names broker 999")
    apply("""apiVersion: millrace.io/v1alpha1
kind: Rebalance
metadata: {name: no-cluster}
spec: {cluster: nope}
""")

    def unreachable():
        for c in status_of("no-cluster").get("conditions", []):
            if c.get("type") == "ClusterReachable" and c.get("reason") == "ClusterNotFound":
                return True
        return False
    check(bool(wait_until(unreachable, 60, step=0.5)), "a Millrace that does not exist: ClusterReachable=False/ClusterNotFound")
    r = apply("""apiVersion: millrace.io/v1alpha1
kind: Rebalance
metadata: {name: refused}
spec: {cluster: demo, mode: full, brokers: [1]}
""")
    check(r.returncode != 0 and "spec.brokers" in r.stderr, f"the CRD refuses brokers with mode full: {r.stderr.strip()}")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - reported as a failure, then torn down
        import traceback
        traceback.print_exc()
        check(False, f"unexpected {e!r}")
    finally:
        OP.stop()
        for b in NODES.values():
            if b.alive():
                b.stop()
        subprocess.run(["bash", os.path.join(ROOT, "tests", "k8s", "cluster"), "down", RUN], capture_output=True)
    if failures:
        print(f"rebalance: {len(failures)} check(s) failed; logs in {RUN}")
        sys.exit(1)
    print("rebalance: all checks passed")
    subprocess.run(["rm", "-rf", RUN])
