"""The suites' check and bounded wait: `check` prints ok/FAIL and keeps the
failures (the suite exits non-zero at the end when any), `wait_until` polls a
condition until it holds or the time is up (exceptions listed in `ignore`
count as not yet)."""
import time

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)
    return ok


def wait_until(fn, seconds, step=0.05, ignore=()):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            v = fn()
        except ignore:
            v = None
        if v:
            return v
        time.sleep(step)
    return None


def finish(cluster, suite):
    """After the cluster stopped: every node's sanitizer report is a failure;
    with any failure, each node's log is saved beside its data dir and the
    suite exits 1."""
    import os
    import sys
    for i, b in cluster.nodes.items():  # a sanitizer build's reports (leaks are written at a clean exit)
        report = b.sanitizer_report()
        check(not report, f"node {i}: no sanitizer report" + (f":\n{report[:3000]}" if report else ""))
    if failures:
        for i, node in cluster.nodes.items():  # the brokers' logs, for the post-mortem
            path = os.path.join(cluster.root, f"node{i}.stdout")
            with open(path, "w") as f:
                f.writelines(node.lines)
            print(f"node {i}'s log: {path}", flush=True)
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)
    print(f"{suite}: all checks passed")
