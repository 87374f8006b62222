"""IDLE10K (issue 18): what idle replicated partitions cost 3 Millrace brokers.

Creates `partitions` partitions of replication factor 3 on a 3-node cluster (every
broker holds a replica of each), waits until every partition has a live leader and an
ISR of 3, lets the cluster settle, then measures over `seconds`:
  CPU per broker: utime + stime from /proc/PID/stat, as a share of one core;
  inter-broker bytes/s: the bytes_sent of the TCP connections whose two ends are both
    broker processes of the cluster (`ss -tinp`, kernel tcp_info), summed per sender and
    split by the listener the connection goes to (controller quorum or broker listener:
    replication, heartbeats and the rest). The brokers have no Prometheus counter of
    inter-broker bytes (broker/metrics/broker_metrics.h). A connection opened during the
    window counts from zero; one closed during it is not counted.
"""
import os
import re
import subprocess
import time

from brokers import rss_bytes
from clusters import wait_until
from confluent_kafka.admin import NewTopic

USERS_RE = re.compile(r"pid=(\d+)")
BYTES_RE = re.compile(r"bytes_sent:(\d+)")


def tcp_sockets():
    """[(local, peer, pid, bytes_sent)] of this machine's established TCP sockets that ss
    can attribute to a process."""
    out = subprocess.run(["ss", "-tinpH", "state", "established"], capture_output=True, text=True,
                         timeout=60).stdout
    socks, cur = [], None
    for line in out.splitlines():
        if not line.startswith((" ", "\t")):
            f = line.split()
            # state filter given: Recv-Q Send-Q Local Peer [users:(...)]
            pid = USERS_RE.search(line)
            cur = [f[2], f[3], int(pid.group(1)) if pid else None, 0]
            socks.append(cur)
        elif cur is not None:
            m = BYTES_RE.search(line)
            if m:
                cur[3] = int(m.group(1))
    return [tuple(s) for s in socks if s[2] is not None]


def inter_broker(pids, ctl_ports):
    """{(local, peer): (sender pid, kind, bytes_sent)} for the connections between two
    of `pids`; kind is 'controller' when the listening end is a controller port."""
    socks = tcp_sockets()
    owner = {local: pid for local, _, pid, _ in socks if pid in pids}
    out = {}
    for local, peer, pid, sent in socks:
        if pid in pids and owner.get(peer) in pids and owner[peer] != pid:
            ports = {int(local.rsplit(":", 1)[1]), int(peer.rsplit(":", 1)[1])}
            out[(local, peer)] = (pid, "controller" if ports & ctl_ports else "broker", sent)
    return out


def files_written_since(data_dir, since):
    """{file name: how many of the data dir's files of that name were modified after
    `since`} (e.g. raft.state: one per partition replica): what an idle broker keeps
    writing. A file written twice in the window counts once."""
    out = {}
    for part in os.scandir(data_dir):
        if not part.is_dir():
            continue
        for f in os.scandir(part.path):
            try:
                if f.stat().st_mtime > since:
                    name = f.name if not f.name[0].isdigit() else "*" + os.path.splitext(f.name)[1]
                    out[name] = out.get(name, 0) + 1
            except OSError:
                pass
    return out


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def isr_sizes(cluster, partitions):
    """{'leaderless': n, 'isr1': n, 'isr2': n, 'isr3': n} from one Metadata answer."""
    ps = cluster.partitions("idle", timeout=30) or {}
    live = set(cluster.live())
    out = {"leaderless": partitions - len(ps)}
    for leader, _, isr in ps.values():
        k = "leaderless" if leader not in live else f"isr{len(isr)}"
        out[k] = out.get(k, 0) + 1
    return out


def run(cluster, partitions, seconds, log, settle=15, sync_wait=None):
    """sync_wait (BENCH_IDLE_SYNC_WAIT, 300 s): how long to wait for every partition to be
    led with an ISR of 3; when they are not by then, the window is measured anyway and
    the ISR sizes before and after it say what state it measured."""
    hz = os.sysconf("SC_CLK_TCK")
    sync_wait = sync_wait or int(os.environ.get("BENCH_IDLE_SYNC_WAIT", 300))
    t0 = time.monotonic()
    admin = cluster.admin()
    fut = admin.create_topics([NewTopic("idle", partitions, 3, config={"min.insync.replicas": "2"})],
                              operation_timeout=600, request_timeout=600)["idle"]
    fut.result(timeout=600)
    synced = wait_until(lambda: cluster.all_in_sync("idle", partitions, 3), sync_wait, 1)
    created = time.monotonic() - t0
    log(f"  {partitions} partitions of RF 3 created in {created:.0f} s, "
        + ("all led with an ISR of 3" if synced else f"NOT all led with an ISR of 3 after {sync_wait} s: "
           f"{isr_sizes(cluster, partitions)}") + f"; settling {settle} s")
    time.sleep(settle)
    pids = {i: n.pid for i, n in cluster.nodes.items()}
    ctl_ports = set(cluster.c.ctl_ports.values())
    pidset = set(pids.values())
    rss0 = {i: rss_bytes(p) for i, p in pids.items()}
    c0 = {i: cpu_ticks(p) for i, p in pids.items()}
    isr_before = isr_sizes(cluster, partitions)
    b0, w0 = inter_broker(pidset, ctl_ports), time.monotonic()
    time.sleep(seconds)
    c1 = {i: cpu_ticks(p) for i, p in pids.items()}
    b1, w1 = inter_broker(pidset, ctl_ports), time.monotonic()
    written = {i: files_written_since(n.b.data_dir, time.time() - (w1 - w0)) for i, n in cluster.nodes.items()}
    wall = w1 - w0
    by_pid = {p: i for i, p in pids.items()}
    sent = {i: {"broker": 0, "controller": 0} for i in pids}
    for key, (pid, kind, total) in b1.items():
        before = b0.get(key, (pid, kind, 0))[2]
        sent[by_pid[pid]][kind] += max(0, total - before)
    per = {}
    for i in pids:
        per[i] = {"cpu_share_of_core": round((c1[i] - c0[i]) / hz / wall, 4),
                  "cpu_ms_per_s": round((c1[i] - c0[i]) / hz / wall * 1000, 1),
                  "sent_Bps_broker_listener": round(sent[i]["broker"] / wall),
                  "sent_Bps_controller": round(sent[i]["controller"] / wall),
                  "rss_bytes": rss0[i],
                  "connections_to_peers": sum(1 for (pid, _, _) in b1.values() if pid == pids[i]),
                  "files_written_in_window": written[i]}
        log(f"  node {i}: {per[i]['cpu_ms_per_s']} ms CPU per s, sends {per[i]['sent_Bps_broker_listener']} B/s "
            f"on broker listeners + {per[i]['sent_Bps_controller']} B/s to controllers; files written in the "
            f"window, by name: {written[i]}")
    still = cluster.all_in_sync("idle", partitions, 3)
    isr_after = isr_sizes(cluster, partitions)
    return {"partitions": partitions, "replication_factor": 3, "replicas_per_broker": partitions,
            "create_seconds": round(created, 1), "settle_seconds": settle, "window_seconds": round(wall, 1),
            "clock_ticks_per_s": hz, "all_in_sync_before_window": bool(synced), "in_sync_after": bool(still),
            "isr_sizes_before_window": isr_before, "isr_sizes_after_window": isr_after, "per_broker": per}

