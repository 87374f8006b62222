"""The produce checker (chaos.queue_check) against planted histories: each
fault it exists to find is found, and a clean history passes."""
import copy
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chaos import group_check, queue_check  # noqa: E402

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def clean():
    deliveries = [{"v": f"v{i}", "p": i % 2, "o": i // 2, "outcome": "ok"} for i in range(10)]
    deliveries.append({"v": "late", "p": 0, "outcome": "unknown"})
    read = [{"v": d["v"], "p": d["p"], "o": d["o"]} for d in deliveries if d["outcome"] == "ok"]
    return deliveries, [read, copy.deepcopy(read)]


def verdict(deliveries, reads):
    counts, lost, moved, monotone, same = queue_check(deliveries, reads)
    return {"lost": bool(lost), "dup": counts["duplicated"] > 0, "moved": bool(moved), "monotone": monotone,
            "same": same, "indeterminate": counts["indeterminate"]}


d, r = clean()
v = verdict(d, r)
check(v == {"lost": False, "dup": False, "moved": False, "monotone": True, "same": True, "indeterminate": 1},
      f"a clean history passes, its timed-out write counted apart ({v})")
d, r = clean()
r = [[x for x in read if x["v"] != "v3"] for read in r]
check(verdict(d, r)["lost"], "an acknowledged value never read is lost")
d, r = clean()
r[0].append({"v": "v4", "p": 0, "o": 9})
check(verdict(d, r)["dup"], "a value read twice is a duplicate")
d, r = clean()
for read in r:
    for x in read:
        if x["v"] == "v5":
            x["o"] = 7
check(verdict(d, r)["moved"], "a value read at another offset than acknowledged is caught")
d, r = clean()
r[0][0], r[0][2] = r[0][2], r[0][0]  # partition 0 read out of order
check(not verdict(d, r)["monotone"], "offsets going back within a partition are caught")
d, r = clean()
r[1] = r[1][:-2]
check(not verdict(d, r)["same"], "two reads that differ are caught")

# The group checker.
def group_history():
    return [{"commit": {"0": 5, "1": 3}, "ok": True}, {"fetched": {"0": 5, "1": 3}},
            {"commit": {}, "ok": False, "error": "NOT_COORDINATOR"}, {"fetched": {"0": 5, "1": 3}},
            {"commit": {"0": 9, "1": 3}, "ok": True}, {"fetched": {"0": 9, "1": 3}}]


counts, back, gone = group_check(group_history(), {"0": 9, "1": 3})
check(not back and not gone and counts["commits_acknowledged"] == 2 and counts["commits_failed"] == 1,
      f"a clean group history passes ({counts})")
h = group_history()
h.append({"fetched": {"0": 5, "1": 3}})  # a coordinator that lost the last commit for a while
check(group_check(h, {"0": 9, "1": 3})[1], "committed offsets read going back are caught")
check(group_check(group_history(), {"0": 5, "1": 3})[2], "an acknowledged commit missing after healing is caught")
check(group_check(group_history(), None)[2], "no committed offsets at all after healing is caught")
if failures:
    sys.exit(1)
