"""Start N millrace-broker processes on loopback as one cluster (every node
broker and controller, a voter of controller.quorum.voters), for the cluster
suites and `make cluster`. Each node gets its own data dir and ports; nodes are
started together (a node is ready only once a quorum has registered and
unfenced it)."""
import os
import shutil
import tempfile
import threading

from broker_proc import Broker, free_port


class Cluster:
    """`controllers` / `brokers`: the node ids with each role (default: every
    node has both). A controller-only node listens on its controller port
    only; a broker-only node follows the voters as an observer (those in
    `by_bootstrap` find them through controller.quorum.bootstrap.servers)."""

    def __init__(self, n, root=None, extra=None, controllers=None, brokers=None, by_bootstrap=()):
        self.root = root or tempfile.mkdtemp(prefix="millrace-cluster-")
        self.ids = list(range(1, n + 1))
        self.controllers = list(controllers or self.ids)
        self.brokers = list(brokers or self.ids)
        self.extra, self.by_bootstrap = extra, by_bootstrap
        self._build()

    def _build(self):
        """Ports, data dirs and configs of every node (again on a port clash)."""
        self.ctl_ports = {i: free_port() for i in self.controllers}
        voters = ",".join(f"{i}@127.0.0.1:{p}" for i, p in self.ctl_ports.items())
        self.nodes = {}
        for i in self.ids:
            b = Broker(data_dir=os.path.join(self.root, f"node{i}"), name=f"node{i}")
            os.makedirs(b.data_dir, exist_ok=True)
            listeners = []
            if i in self.brokers:
                listeners.append(f"PLAINTEXT://127.0.0.1:{b.port}")
            if i in self.controllers:
                listeners.append(f"CONTROLLER://127.0.0.1:{self.ctl_ports[i]}")
            roles = ",".join(r for r, has in (("broker", i in self.brokers), ("controller", i in self.controllers))
                             if has)
            b.extra.update({
                "node.id": str(i),
                "process.roles": roles,
                "listeners": ",".join(listeners),
                "controller.quorum.voters": voters,
            })
            if i in self.by_bootstrap:  # a broker-only node that knows the controllers by address only
                b.extra["controller.quorum.voters"] = ""
                b.extra["controller.quorum.bootstrap.servers"] = ",".join(
                    f"127.0.0.1:{p}" for p in self.ctl_ports.values())
            b.extra.update(self.extra or {})
            self.nodes[i] = b
        self._built = {i: dict(b.extra) for i, b in self.nodes.items()}

    def start(self, ids=None, timeout=60):
        # The first start of the whole cluster: a port taken between drawing it
        # and binding it (suites run side by side) is drawn again, with fresh
        # data dirs, at most twice; a restart keeps its ports, and so does a
        # cluster whose nodes' configs the caller changed after building it.
        first = ids is None and not any(b.alive() or b.lines for b in self.nodes.values()) and \
            all(b.extra == self._built[i] for i, b in self.nodes.items())
        for attempt in range(3):
            try:
                return self._start(ids, timeout)
            except RuntimeError:
                clash = any("Address already in use" in line for b in self.nodes.values() for line in b.lines)
                if not (first and clash and attempt < 2):
                    raise
                for b in self.nodes.values():
                    if b.alive():
                        b.kill9()
                for i in self.ids:
                    shutil.rmtree(os.path.join(self.root, f"node{i}"), ignore_errors=True)
                self._build()

    def _start(self, ids, timeout):
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
        return ",".join(b.bootstrap for i, b in self.nodes.items() if i in self.brokers)

    def alive(self):
        return [i for i, b in self.nodes.items() if b.alive()]

    def stop(self):
        for b in self.nodes.values():
            if b.alive():
                try:
                    b.stop()
                except Exception:  # noqa: BLE001 - best effort at teardown
                    b.kill9()
