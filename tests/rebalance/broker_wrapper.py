#!/usr/bin/python3
"""Stands in for millrace-broker in the test cluster's harness ($MILLRACE_BROKER)
so that the broker of a Millrace's pod joins a multi-node cluster whose other
nodes the test runs itself (the test predates the multi-broker StatefulSet;
see README.md).

Reads the pod's node id (--set-from-file node.id=<file>) and Kafka port (the
harness' --set listeners=PLAINTEXT://127.0.0.1:<port>), waits for the test to
write $MILLRACE_RB_DIR/cluster.json ({"voters": "...", "controller_ports":
{"<node id>": port}, "extra": {key: value}}), then execs the real broker
($MILLRACE_REAL_BROKER) with the harness' arguments plus the controller
listener, the voters and the extra settings (last, so they win)."""
import json
import os
import sys
import time


def main(argv):
    node_id, kafka = None, None
    for i, a in enumerate(argv):
        nxt = argv[i + 1] if i + 1 < len(argv) else ""
        if a == "--set-from-file" and nxt.startswith("node.id="):
            with open(nxt.split("=", 1)[1]) as f:
                node_id = f.read().strip()
        if a == "--set" and nxt.startswith("listeners=PLAINTEXT://"):
            # the harness' listeners, PLAINTEXT first (then CONTROLLER when
            # the pod has a controller port): keep the Kafka one
            kafka = nxt.split("=", 1)[1].split(",")[0]
    path = os.path.join(os.environ["MILLRACE_RB_DIR"], "cluster.json")
    deadline = time.monotonic() + 300
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            sys.exit(f"broker_wrapper: {path} never came")
        time.sleep(0.2)
    with open(path) as f:
        cluster = json.load(f)
    args = list(argv)
    port = cluster["controller_ports"].get(node_id)
    if port is None:
        sys.exit(f"broker_wrapper: node {node_id} has no controller port in {path}")
    args += ["--set", "process.roles=broker,controller",
             "--set", f"listeners={kafka},CONTROLLER://127.0.0.1:{port}",
             "--set", f"controller.quorum.voters={cluster['voters']}"]
    for k, v in cluster.get("extra", {}).items():
        args += ["--set", f"{k}={v}"]
    real = os.environ["MILLRACE_REAL_BROKER"]
    print(f"broker_wrapper: node {node_id}: exec {real} {' '.join(args)}", flush=True)
    os.execv(real, [real] + args)


if __name__ == "__main__":
    main(sys.argv[1:])
