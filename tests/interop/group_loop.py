"""Shared driver for the Python interop programs: run 3 consumers of one group,
one thread each, until TARGET distinct records have arrived.

A member adapter provides: poll() -> list of (partition, offset, key, value),
commit() (synchronous, the positions of what poll returned) and close().
Output: one line per record, "member partition offset key value".
"""
import json
import os
import sys
import threading
import time


def run_group(make_member, target, outfile, members=3, timeout=120):
    """Each member polls on its own thread (a blocking rejoin of one member must not
    hold up the others); all stop once the group has seen target distinct records."""
    lock = threading.Lock()
    seen = set()
    stop = threading.Event()
    errors = []
    deadline = time.time() + timeout

    with open(outfile, "w") as out:
        def member_loop(i):
            try:
                m = make_member(i)
                while not stop.is_set() and time.time() < deadline:
                    rows = m.poll()
                    if rows:
                        m.commit()
                    with lock:
                        for p, o, k, v in rows:
                            out.write(f"m{i} {p} {o} {k} {v}\n")
                            seen.add((p, o))
                        if len(seen) >= target:
                            stop.set()
                m.commit()
                m.close()
            except Exception as e:  # noqa: BLE001 - reported as the program's failure
                errors.append(f"member {i}: {e!r}")
                stop.set()

        threads = [threading.Thread(target=member_loop, args=(i,)) for i in range(members)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    if errors:
        print("; ".join(errors), file=sys.stderr)
        return 4
    if len(seen) < target:
        print(f"only {len(seen)} of {target} records within {timeout}s", file=sys.stderr)
        return 3
    return 0


def records(n, client):
    """(key, value) of record i: key "k<i>", value "<client>-<i>"."""
    for i in range(n):
        yield f"k{i}", f"{client}-{i}"


def chunks(n, codecs):
    """Split range(n) evenly over the codecs: [(codec, start, end)]."""
    out = []
    for j, codec in enumerate(codecs):
        out.append((codec, j * n // len(codecs), (j + 1) * n // len(codecs)))
    return out


def librdkafka_security(security=None):
    """librdkafka (kcat, confluent-kafka) settings for a MILLRACE_CLIENT_SECURITY dict
    (`security`; by default the environment's; {} when unset)."""
    s = security if security is not None else json.loads(os.environ.get("MILLRACE_CLIENT_SECURITY") or "{}")
    conf = {}
    if s.get("protocol"):
        conf["security.protocol"] = s["protocol"]
    if s.get("mechanism"):
        conf.update({"sasl.mechanisms": s["mechanism"], "sasl.username": s.get("username", ""),
                     "sasl.password": s.get("password", "")})
    if s.get("ca"):
        conf["ssl.ca.location"] = s["ca"]
    if s.get("cert"):
        conf.update({"ssl.certificate.location": s["cert"], "ssl.key.location": s["key"]})
    return conf
