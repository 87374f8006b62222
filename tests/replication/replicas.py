"""What the replication suites share: bounded waits, the leader every node
agrees on, and a replica's log read back batch by batch from its files."""
import os
import struct

from checks import wait_until
from cluster_wire import metadata
from confluent_kafka import KafkaException


def wait(fn, seconds, step=0.1):
    """wait_until, riding over a broker that is down or not answering yet."""
    return wait_until(fn, seconds, step, ignore=(OSError, KafkaException))


def agreed_leader(c, nodes, topic, partition=0):
    """`topic`-`partition`'s leader when every node in `nodes` names the same one,
    it is one of them and all of them are in its ISR; else None."""
    views = [metadata(c.nodes[i].bootstrap)["topics"].get(topic, {}).get(partition) for i in nodes]
    if not views[0] or any(v != views[0] for v in views):
        return None
    err, leader, replicas, isr = views[0]
    return leader if err == 0 and leader in nodes and len(isr) == len(nodes) else None


def log_batches(node, topic, partition=0):
    """[(base offset, batch bytes)] of a replica's log, in order, whole (segment
    files may split at other offsets on each replica: a roll is each broker's own
    choice; and an active segment may end in preallocated zeros). Raft's control
    batches (LeaderChange, Voters, LogStart) are encoded by each replica with its
    own clock: their CRC and timestamps are zeroed so replicas compare equal."""
    d = os.path.join(node.data_dir, f"{topic}-{partition}")
    out = []
    for f in sorted(os.listdir(d)):
        if not f.endswith(".log"):
            continue
        with open(os.path.join(d, f), "rb") as fh:
            data = fh.read()
        pos = 0
        while pos + 12 <= len(data):
            size = struct.unpack_from(">i", data, pos + 8)[0]
            if size <= 0 or pos + 12 + size > len(data):
                break
            b = bytearray(data[pos:pos + 12 + size])
            if struct.unpack_from(">h", b, 21)[0] & 0x20:
                b[17:21] = bytes(4)
                b[27:43] = bytes(16)
            out.append((struct.unpack_from(">q", b, 0)[0], bytes(b)))
            pos += 12 + size
    return out
