"""Real network faults for multi-broker tests: each node in its own network
namespace on this machine, joined by veth pairs to one bridge.

    host:  bridge mrb<pid> (no address: the host is not on the test network)
             |            |            |
    ns 1:  eth0 198.18.K.1   ns 2: 198.18.K.2   ...   (K from the pid: suites run in parallel)

A namespace has its own loopback and one route, its /24 on the bridge: no
default route, so nothing sent inside can leave the test network (addresses
from 198.18.0.0/15, the range set aside for benchmarks and tests).

Faults, each undone by heal():
  cut(a, b)            both directions dropped (nftables in a's and b's namespace)
  cut(a, b, oneway)    only a -> b dropped
  isolate(a)           a cut from every other node
  loss(a, percent)     a random share of a's outgoing packets dropped (nft numgen)
Delay is not offered: this machine's kernel has no sch_netem (tc qdiscs are
refused), so `tc netem` cannot run here.

Needs root (CAP_NET_ADMIN) and nftables (scripts/install-deps). Everything is
created in __init__ and deleted by close() (also at interpreter exit, and
leftovers of dead test processes are removed on the next start)."""
import atexit
import os
import re
import subprocess

PREFIX = "mr"


def sh(*argv, check=True, ns=None):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(argv)
    r = subprocess.run(cmd, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip() or r.stdout.strip()}")
    return r


def available():
    """Why this machine cannot run namespaced tests, or None when it can."""
    if os.geteuid() != 0:
        return "not root: network namespaces need CAP_NET_ADMIN"
    for tool in ("ip", "nft"):
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            return f"{tool} is not installed (scripts/install-deps)"
    probe = f"{PREFIX}probe{os.getpid()}"
    r = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if r.returncode != 0:
        return f"ip netns add: {r.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def remove_leftovers():
    """Namespaces and bridges of test processes that died without close()."""
    names = sh("ip", "netns", "list", check=False).stdout.split()
    for name in names:
        m = re.fullmatch(PREFIX + r"(\d+)n\d+", name)
        if m and not os.path.exists(f"/proc/{m.group(1)}"):
            sh("ip", "netns", "del", name, check=False)
    for line in sh("ip", "-o", "link", "show", "type", "bridge", check=False).stdout.splitlines():
        m = re.search(r"\d+: (" + PREFIX + r"b(\d+)):", line)
        if m and not os.path.exists(f"/proc/{m.group(2)}"):
            sh("ip", "link", "del", m.group(1), check=False)


class TestNet:
    def __init__(self, n):
        remove_leftovers()
        self.pid = os.getpid()
        self.subnet = 1 + self.pid % 250  # 198.18.<subnet>.0/24
        self.bridge = f"{PREFIX}b{self.pid}"
        self.n = n
        self.closed = False
        atexit.register(self.close)
        sh("ip", "link", "add", self.bridge, "type", "bridge")
        sh("ip", "link", "set", self.bridge, "up")
        for i in range(1, n + 1):
            ns, veth = self.ns(i), f"{PREFIX}v{self.pid}n{i}"
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
            sh("ip", "link", "set", veth, "master", self.bridge, "up")
            sh("ip", "-n", ns, "addr", "add", f"{self.addr(i)}/24", "dev", "eth0")
            sh("ip", "-n", ns, "link", "set", "eth0", "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            # One table per namespace for the faults: an output chain that
            # heal() empties.
            sh("nft", "add", "table", "inet", "mrfault", ns=ns)
            sh("nft", "add", "chain", "inet", "mrfault", "out",
               "{ type filter hook output priority 0; policy accept; }", ns=ns)

    def ns(self, i):
        return f"{PREFIX}{self.pid}n{i}"

    def addr(self, i):
        return f"198.18.{self.subnet}.{i}"

    def popen(self, i, argv, **kw):
        """Starts argv inside node i's namespace."""
        return subprocess.Popen(["ip", "netns", "exec", self.ns(i)] + list(argv), **kw)

    def exec_prefix(self, i):
        return ["ip", "netns", "exec", self.ns(i)]

    def _drop(self, a, rule):
        sh("nft", "add", "rule", "inet", "mrfault", "out", *rule.split(), ns=self.ns(a))

    def cut(self, a, b, oneway=False):
        self._drop(a, f"ip daddr {self.addr(b)} drop")
        if not oneway:
            self._drop(b, f"ip daddr {self.addr(a)} drop")

    def isolate(self, a):
        for b in range(1, self.n + 1):
            if b != a:
                self.cut(a, b)

    def loss(self, a, percent):
        self._drop(a, f"ip daddr 198.18.{self.subnet}.0/24 numgen random mod 100 < {int(percent)} drop")

    def heal(self):
        for i in range(1, self.n + 1):
            sh("nft", "flush", "chain", "inet", "mrfault", "out", ns=self.ns(i))

    def close(self):
        if self.closed:
            return
        self.closed = True
        for i in range(1, self.n + 1):
            # The veth first (both ends go at once): a namespace's deletion
            # frees its end only later, and a next TestNet of this process
            # would find the name taken.
            sh("ip", "link", "del", f"{PREFIX}v{self.pid}n{i}", check=False)
            sh("ip", "netns", "del", self.ns(i), check=False)
        sh("ip", "link", "del", self.bridge, check=False)
