"""A dynamic controller quorum (KIP-853) of real broker processes on
loopback, driven by Kafka's own kafka-metadata-quorum.sh: a controller with
controller.quorum.bootstrap.servers refuses an unformatted directory; one
formatted --standalone starts alone; two formatted --no-initial-controllers
join as observers and are made voters with `add-controller` (through the
controller listener, and through a broker listener, which forwards it); the
grown quorum survives kill -9 of its leader; `remove-controller` demotes a
voter; a duplicate add and a wrong directory id are refused with Kafka's
errors. A second quorum starts from `format --initial-controllers` with three
voters and the directory ids it gave; a third of controller-only nodes serves a
broker-only node that knows them by address. Every wait is bounded."""
import base64
import os
import re
import subprocess
import tempfile
import time

from cluster_proc import Cluster
from cluster_wire import create_topic, metadata


def quorum_tool(check, args, timeout=120):
    """kafka-metadata-quorum.sh (its class, from the peers cache): (exit code, stdout + stderr)."""
    here = os.path.dirname(os.path.abspath(__file__))
    cp = subprocess.run(["bash", os.path.join(here, "..", "peers", "kafka"), "classpath"], capture_output=True,
                        text=True, timeout=600).stdout.strip()
    r = subprocess.run(["java", "-cp", cp, "org.apache.kafka.tools.MetadataQuorumCommand"] + args,
                       capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout + r.stderr


def command_config(node, node_id, ctl_port, path):
    """The controller's configuration as Kafka's tool reads it (a properties file)."""
    with open(path, "w") as f:
        f.write(f"node.id={node_id}\nprocess.roles=broker,controller\ncontroller.listener.names=CONTROLLER\n"
                f"listeners=PLAINTEXT://127.0.0.1:{node.port},CONTROLLER://127.0.0.1:{ctl_port}\n"
                f"log.dirs={node.data_dir}\n")
    return path


def directory_id(node):
    with open(os.path.join(node.data_dir, "meta.properties")) as f:
        return re.search(r"^directory\.id=(\S+)$", f.read(), re.M).group(1)


def error_line(out):
    """The exception Kafka's tool printed."""
    return next((line.strip() for line in out.splitlines() if "Exception" in line), out.strip()[-160:])


def voters_of(status):
    m = re.search(r"^CurrentVoters:\s+(.*)$", status, re.M)
    return sorted(int(x) for x in re.findall(r'"id": (\d+)', m.group(1))) if m else None


def dynamic_quorum(check, wait_until):
    c = Cluster(3)
    servers = ",".join(f"127.0.0.1:{p}" for p in c.ctl_ports.values())
    for b in c.nodes.values():
        b.extra["controller.quorum.voters"] = ""
        b.extra["controller.quorum.bootstrap.servers"] = servers
    n1, n2, n3 = c.nodes[1], c.nodes[2], c.nodes[3]
    ctl = {i: f"127.0.0.1:{p}" for i, p in c.ctl_ports.items()}
    tmp = tempfile.mkdtemp(prefix="millrace-dynq-")
    try:
        try:
            n1.start(timeout=20)
            refused = False
        except RuntimeError:
            refused = any("is not formatted" in line for line in list(n1.lines) + list(open(n1.log_path)))
        check(refused, "a controller with controller.quorum.bootstrap.servers refuses to start unformatted, "
                       "naming `millrace-broker format`")
        code, out = n1.format("--standalone")
        check(code == 0, f"format --standalone: {out}")
        code, out = n1.format("--standalone")
        check(code != 0 and "formatted already" in out, f"a second format is refused: {out[:120]}")
        for b in (n2, n3):
            code, out = b.format("--no-initial-controllers")
            check(code == 0, f"format --no-initial-controllers ({b.name}): {out}")
        n1.start()
        n2.start()
        n3.start()
        code, status = quorum_tool(check, ["--bootstrap-controller", ctl[1], "describe", "--status"])
        check(code == 0 and voters_of(status) == [1],
              f"describe --status through the controller listener: voters {voters_of(status)} (want [1]); "
              f"{status.strip().splitlines()[:1]}")
        check(all(f'"id": {i}' in (re.search(r"^CurrentObservers:(.*)$", status, re.M) or [""])[0] for i in (2, 3)),
              "controllers 2 and 3 follow the log as observers before they are added")
        code, out = quorum_tool(check, ["--bootstrap-controller", ctl[1], "--command-config",
                                        command_config(n2, 2, c.ctl_ports[3], os.path.join(tmp, "wrong.properties")),
                                        "add-controller"])
        check(code != 0 and "is node 3's, not node 2's" in out,
              f"add-controller 2 giving node 3's listener is refused: {error_line(out)}")
        t0 = time.monotonic()
        code, out = quorum_tool(check, ["--bootstrap-controller", ctl[1], "--command-config",
                                        command_config(n2, 2, c.ctl_ports[2], os.path.join(tmp, "c2.properties")),
                                        "add-controller"])
        check(code == 0 and "Added controller 2" in out,
              f"add-controller 2 through the controller listener ({(time.monotonic() - t0) * 1000:.0f} ms): "
              f"{out.strip()[-200:]}")
        code, out = quorum_tool(check, ["--bootstrap-server", n3.bootstrap, "--command-config",
                                        command_config(n3, 3, c.ctl_ports[3], os.path.join(tmp, "c3.properties")),
                                        "add-controller"])
        check(code == 0 and "Added controller 3" in out,
              f"add-controller 3 through broker 3's listener (forwarded to the active controller): {out.strip()[-200:]}")
        code, out = quorum_tool(check, ["--bootstrap-controller", ctl[1], "--command-config",
                                        os.path.join(tmp, "c2.properties"), "add-controller"])
        check(code != 0 and "DuplicateVoter" in out, f"adding voter 2 again is refused: {error_line(out)}")
        code, status = quorum_tool(check, ["--bootstrap-controller", ctl[2], "describe", "--status"])
        check(code == 0 and voters_of(status) == [1, 2, 3],
              f"describe --status through controller 2: voters {voters_of(status)} (want [1, 2, 3])")
        check(directory_id(n2) in status and f"CONTROLLER://127.0.0.1:{c.ctl_ports[3]}" in status,
              "the voters are listed with their directory ids and controller endpoints")
        # The grown quorum elects a new leader without node 1.
        leader = int(re.search(r"^LeaderId:\s+(\d+)", status, re.M).group(1))
        c.nodes[leader].kill9()
        rest = [i for i in (1, 2, 3) if i != leader]
        t0 = time.monotonic()
        ok = wait_until(lambda: create_topic(c.nodes[rest[0]].bootstrap, "after-dynamic-kill", 1) == 0, 15, 0.05)
        check(bool(ok), f"kill -9 of leader {leader}: the two other voters elect a leader; a topic is created "
                        f"{(time.monotonic() - t0) * 1000:.0f} ms later")
        c.nodes[leader].start()
        code, out = quorum_tool(check, ["--bootstrap-server", n1.bootstrap, "remove-controller", "--controller-id",
                                        "3", "--controller-directory-id=" + directory_id(n1)])
        check(code != 0 and "VoterNotFound" in out,
              f"remove-controller 3 with another node's directory id is refused: {error_line(out)}")
        code, out = quorum_tool(check, ["--bootstrap-server", n1.bootstrap, "remove-controller", "--controller-id",
                                        "3", "--controller-directory-id=" + directory_id(n3)])
        check(code == 0 and "Removed" in out, f"remove-controller 3: {out.strip()[-160:]}")
        code, status = quorum_tool(check, ["--bootstrap-server", n2.bootstrap, "describe", "--status"])
        check(code == 0 and voters_of(status) == [1, 2], f"voters now {voters_of(status)} (want [1, 2])")
        same = wait_until(lambda: all("after-dynamic-kill" in metadata(b.bootstrap)["topics"] for b in (n1, n2, n3)),
                          10)
        check(bool(same), "every node, the removed voter included, still follows the metadata log")
    finally:
        c.stop()


def initial_controllers(check, wait_until):
    """Three controllers formatted with the same --initial-controllers list:
    one quorum of three voters from the first start, each under the directory
    id the list gave it; a node not in the list cannot be formatted with it."""
    c = Cluster(3)
    servers = ",".join(f"127.0.0.1:{p}" for p in c.ctl_ports.values())
    dirs = {i: base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=") for i in c.nodes}
    initial = ",".join(f"{i}@127.0.0.1:{c.ctl_ports[i]}:{dirs[i]}" for i in c.nodes)
    for b in c.nodes.values():
        b.extra["controller.quorum.voters"] = ""
        b.extra["controller.quorum.bootstrap.servers"] = servers
    try:
        code, out = c.nodes[3].format("--initial-controllers", initial.rsplit(",", 1)[0])
        check(code != 0 and "does not list this node" in out, f"format with a list without this node: {out[-100:]}")
        for b in c.nodes.values():
            code, out = b.format("--initial-controllers", initial)
            check(code == 0, f"format --initial-controllers ({b.name}): {out}")
        c.start()
        code, status = quorum_tool(check, ["--bootstrap-server", c.nodes[3].bootstrap, "describe", "--status"])
        check(code == 0 and voters_of(status) == [1, 2, 3] and all(d in status for d in dirs.values()),
              f"an initial quorum of three: voters {voters_of(status)}, each with the directory id the list gave it")
        check(all(directory_id(c.nodes[i]) == dirs[i] for i in c.nodes),
              "each node's meta.properties holds the directory id --initial-controllers named")
        check(create_topic(c.nodes[2].bootstrap, "initial-quorum", 2) == 0, "a topic is created on it")
    finally:
        c.stop()


def controller_only(check, wait_until):
    """Controller-only nodes in a dynamic quorum, and a broker-only node that
    knows them by address: grown to three voters with add-controller, the
    broker creates topics through them, before and after kill -9 of the leader."""
    c = Cluster(4, controllers=[1, 2, 3], brokers=[4], by_bootstrap=[4])
    servers = ",".join(f"127.0.0.1:{p}" for p in c.ctl_ports.values())
    for i in (1, 2, 3):
        c.nodes[i].extra["controller.quorum.voters"] = ""
        c.nodes[i].extra["controller.quorum.bootstrap.servers"] = servers
    tmp = tempfile.mkdtemp(prefix="millrace-dynq-")
    try:
        formatted = [c.nodes[1].format("--standalone")[0]] + [c.nodes[i].format("--no-initial-controllers")[0]
                                                               for i in (2, 3)]
        check(formatted == [0, 0, 0], "controller-only nodes formatted (one standalone, two to join)")
        c.start()
        for i in (2, 3):
            path = os.path.join(tmp, f"c{i}.properties")
            with open(path, "w") as f:
                f.write(f"node.id={i}\nprocess.roles=controller\ncontroller.listener.names=CONTROLLER\n"
                        f"listeners=CONTROLLER://127.0.0.1:{c.ctl_ports[i]}\nlog.dirs={c.nodes[i].data_dir}\n")
            code, out = quorum_tool(check, ["--bootstrap-controller", f"127.0.0.1:{c.ctl_ports[1]}",
                                            "--command-config", path, "add-controller"])
            check(code == 0, f"add-controller {i} (controller-only): {out.strip()[-120:]}")
        code, status = quorum_tool(check, ["--bootstrap-server", c.nodes[4].bootstrap, "describe", "--status"])
        check(code == 0 and voters_of(status) == [1, 2, 3],
              f"through broker-only node 4: voters {voters_of(status)} (want [1, 2, 3])")
        check(create_topic(c.nodes[4].bootstrap, "ctl-only", 2) == 0, "a topic created through broker-only node 4")
        leader = int(re.search(r"^LeaderId:\s+(\d+)", status, re.M).group(1))
        c.nodes[leader].kill9()
        ok = wait_until(lambda: create_topic(c.nodes[4].bootstrap, "ctl-only-after", 1) == 0, 15, 0.05)
        check(bool(ok), f"kill -9 of controller {leader}: node 4 creates topics again through the two others")
    finally:
        c.stop()
