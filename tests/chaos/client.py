"""The chaos suite's client, run inside the client's network namespace (the
host is not on the test network). Modes:

  workload SEED SECONDS ADDR,ADDR,...   CreateTopics with unique names through a
                                        random broker each time, one JSON line per
                                        attempt: {"name", "node", "t", "outcome", "code"}
                                        outcome: ok (acknowledged), failed (an error
                                        code), unknown (timeout, connection lost)
  topics ADDR                           the topic names of one broker's Metadata, one JSON line
"""
import json
import os
import random
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cluster"))
from cluster_wire import create_topic, metadata  # noqa: E402


def workload(seed, seconds, addrs):
    rng = random.Random(seed)
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        node = rng.randrange(len(addrs))
        name = f"w{seed}-{i}"
        i += 1
        t0 = time.monotonic()
        try:
            code = create_topic(addrs[node], name, 1, timeout=3)
            outcome = "ok" if code == 0 else "failed"
        except (OSError, ConnectionError, socket.timeout, ValueError, IndexError):
            code, outcome = None, "unknown"
        print(json.dumps({"name": name, "node": node + 1, "t": round(t0, 3), "outcome": outcome, "code": code}),
              flush=True)
        time.sleep(0.02)


def topics(addr):
    try:
        print(json.dumps({"topics": sorted(metadata(addr)["topics"])}), flush=True)
    except (OSError, ConnectionError, socket.timeout, ValueError, IndexError) as e:
        print(json.dumps({"error": str(e)}), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "workload":
        workload(int(sys.argv[2]), float(sys.argv[3]), sys.argv[4].split(","))
    else:
        topics(sys.argv[2])
