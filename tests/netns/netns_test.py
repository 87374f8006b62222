"""Self-test of broker/testing/netns.py with real sockets in real namespaces.
Every wait is bounded."""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "broker", "testing"))
import netns  # noqa: E402

PEER = os.path.join(HERE, "peer.py")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def ask(net, a, b, timeout=0.5):
    r = subprocess.run(net.exec_prefix(a) + [sys.executable, PEER, "ask", net.addr(b), str(timeout)],
                       capture_output=True, text=True, timeout=30)
    return r.stdout.strip() if r.returncode == 0 else None


def udp(net, a, b, count):
    subprocess.run(net.exec_prefix(a) + [sys.executable, PEER, "udp", net.addr(b), str(count)], timeout=30, check=True)
    time.sleep(0.2)
    answer = ask(net, b, b)
    return int(answer.split()[1])


def main():
    why = netns.available()
    if why:
        print(f"FAIL this machine cannot run the namespaced tests: {why}")
        sys.exit(1)
    net = netns.TestNet(3)
    servers = []
    try:
        for i in (1, 2, 3):
            p = net.popen(i, [sys.executable, PEER, "serve", net.addr(i)], stdout=subprocess.PIPE, text=True)
            p.stdout.readline()
            servers.append(p)
        check(all(ask(net, a, b) for a in (1, 2, 3) for b in (1, 2, 3) if a != b),
              "every node reaches every other over the bridge")
        out = subprocess.run(["ip", "-n", net.ns(1), "route"], capture_output=True, text=True).stdout.strip()
        check(out.count("\n") == 0 and f"198.18.{net.subnet}.0/24" in out and "default" not in out,
              f"a namespace has one route, its test subnet, and no default ({out!r})")
        r = subprocess.run(net.exec_prefix(1) + [sys.executable, PEER, "ask", "198.19.255.1", "0.5"],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode == 1 and "unreachable" in r.stdout,
              f"nothing leaves the test network: {r.stdout.strip()}")
        check(ask(net, 1, 1) is not None and subprocess.run(
            ["ip", "netns", "exec", net.ns(1), sys.executable, PEER, "ask", "127.0.0.1", "0.5"],
            capture_output=True).returncode == 1, "a namespace's loopback is its own (the host's is not reached)")

        net.cut(1, 2)
        check(ask(net, 1, 2) is None and ask(net, 2, 1) is None, "cut(1, 2): neither reaches the other")
        check(ask(net, 1, 3) is not None and ask(net, 3, 2) is not None, "cut(1, 2): both still reach node 3")
        net.heal()
        check(ask(net, 1, 2) is not None and ask(net, 2, 1) is not None, "heal: 1 and 2 reach each other again")

        net.cut(1, 2, oneway=True)
        before = udp(net, 2, 1, 0)
        got_21 = udp(net, 2, 1, 50) - before
        before2 = udp(net, 1, 2, 0)
        got_12 = udp(net, 1, 2, 50) - before2
        check(got_21 == 50 and got_12 == 0, f"one-way cut 1->2: 2->1 datagrams arrive ({got_21}/50), "
                                            f"1->2 do not ({got_12}/50)")
        net.heal()

        net.isolate(3)
        check(ask(net, 3, 1) is None and ask(net, 2, 3) is None and ask(net, 1, 2) is not None,
              "isolate(3): 3 reaches no one and no one reaches it; 1 and 2 still talk")
        net.heal()

        net.loss(1, 50)
        before = udp(net, 1, 2, 0)
        got = udp(net, 1, 2, 400) - before
        check(100 <= got <= 300, f"loss(1, 50%): {got} of 400 datagrams arrived")
        net.heal()
        before = udp(net, 1, 2, 0)
        check(udp(net, 1, 2, 100) - before == 100, "heal: no more loss")
    finally:
        for p in servers:
            p.kill()
            p.wait()
        net.close()
    left = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    bridges = subprocess.run(["ip", "-o", "link", "show", "type", "bridge"], capture_output=True, text=True).stdout
    check(net.ns(1) not in left and net.bridge not in bridges, "close(): namespaces, veths and the bridge are gone")
    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)


if __name__ == "__main__":
    main()
