"""Durable node identity (cluster/identity/node_identity.h): a broker writes
meta.properties in each log dir at its first start; a restart with the same
ids keeps the directory id; a restart on that data with another node.id or
another cluster.id refuses to start and says why (naming the dir and both ids);
a damaged file refuses too; and the data written before is still there after a
good restart."""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.environ.get("MILLRACE_SOURCE", "."), "broker", "testing"))
from broker_proc import Broker  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from partition_wire import list_offsets_v1, produce  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402


def directory_id(path):
    m = re.search(r"^directory\.id=(\S+)$", open(path).read(), re.M)
    return m.group(1) if m else None


def refused(broker, want):
    """Starts the broker expecting it to exit; returns a failure string or None."""
    try:
        broker.start(timeout=20)
    except RuntimeError:
        log = "".join(broker.lines)
        missing = [w for w in want if w not in log]
        if "event=startup_failed" not in log or missing:
            return f"refused, but the log lacks {missing or 'event=startup_failed'}: {log[-600:]}"
        return None
    broker.stop()
    return f"the broker started with {broker.extra}; want a refusal naming {want}"


def main():
    failures = []
    broker = Broker(name="identity", extra={"node.id": "5", "cluster.id": "cluster-a"})
    meta = os.path.join(broker.data_dir, "meta.properties")
    broker.start()
    try:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        admin.create_topics([NewTopic("kept", 1, 1)])["kept"].result(10)
        err, _ = produce(broker, "kept", 0, b"v", 1)
        if err != 0:
            raise SystemExit(f"setup: produce answered {err}")
        broker.stop()
        first = directory_id(meta)
        if not first or len(first) != 22:
            failures.append(f"meta.properties has no Kafka-shaped directory.id: {first}")
        text = open(meta).read()
        for want in ("cluster.id=cluster-a", "node.id=5", "crc32c="):
            if want not in text:
                failures.append(f"meta.properties lacks {want}")

        broker.lines = []
        broker.extra["node.id"] = "6"
        if (f := refused(broker, ["belongs to node.id 5", "node.id 6", broker.data_dir])):
            failures.append("another node.id: " + f)
        broker.lines = []
        broker.extra.update({"node.id": "5", "cluster.id": "cluster-b"})
        if (f := refused(broker, ["belongs to cluster.id cluster-a", "cluster-b"])):
            failures.append("another cluster.id: " + f)

        broker.lines = []
        broker.extra["cluster.id"] = "cluster-a"
        open(meta, "w").write(text.replace("node.id=5", "node.id=7"))  # edited: the checksum disagrees
        if (f := refused(broker, ["is damaged", "checksum mismatch"])):
            failures.append("damaged file: " + f)
        open(meta, "w").write(text)

        broker.lines = []
        broker.start()  # the right ids again: starts, same directory, data kept
        if directory_id(meta) != first:
            failures.append("a good restart changed the directory id")
        err, end = list_offsets_v1(broker, "kept", 0)
        if err != 0 or end != 1:
            failures.append(f"after the refusals the partition's end is {end} (error {err}), want 1")
        broker.stop()
    except BaseException:
        broker.dump_log()
        raise
    finally:
        broker.stop()
    for f in failures:
        print("FAIL identity:", f)
    if not failures:
        print("ok identity: refuses another node.id, another cluster.id, a damaged file; keeps its directory id")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
