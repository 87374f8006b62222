"""Start N millrace-broker processes on loopback as one cluster (every node
broker and controller, a voter of controller.quorum.voters), for the cluster
suites and `make cluster`. Each node gets its own data dir and ports; nodes are
started together (a node is ready only once a quorum has registered and
unfenced it)."""
import os
import tempfile
import threading

from broker_proc import Broker, free_port


class Cluster:
    def __init__(self, n, root=None, extra=None):
        self.root = root or tempfile.mkdtemp(prefix="millrace-cluster-")
        self.ctl_ports = {i: free_port() for i in range(1, n + 1)}
        voters = ",".join(f"{i}@127.0.0.1:{p}" for i, p in self.ctl_ports.items())
        self.nodes = {}
        for i in range(1, n + 1):
            b = Broker(data_dir=os.path.join(self.root, f"node{i}"), name=f"node{i}")
            os.makedirs(b.data_dir, exist_ok=True)
            b.extra.update({
                "node.id": str(i),
                "listeners": f"PLAINTEXT://127.0.0.1:{b.port},CONTROLLER://127.0.0.1:{self.ctl_ports[i]}",
                "controller.quorum.voters": voters,
            })
            b.extra.update(extra or {})
            self.nodes[i] = b

    def start(self, ids=None, timeout=60):
        errors = []

        def one(b):
            try:
                b.start(timeout=timeout)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(f"{b.name}: {e}")
        threads = [threading.Thread(target=one, args=(self.nodes[i],)) for i in (ids or self.nodes)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise RuntimeError("; ".join(errors))
        return self

    def bootstrap(self):
        return ",".join(b.bootstrap for b in self.nodes.values())

    def alive(self):
        return [i for i, b in self.nodes.items() if b.alive()]

    def stop(self):
        for b in self.nodes.values():
            if b.alive():
                try:
                    b.stop()
                except Exception:  # noqa: BLE001 - best effort at teardown
                    b.kill9()
