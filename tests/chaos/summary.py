"""Sums the rounds of one or more `make chaos` logs (tests/chaos/chaos.py's output)
into a Markdown table: rounds by workload and size, each nemesis as often as the
schedules applied it, acknowledged, lost, duplicated and indeterminate writes, and
every failed round with its replay line. From the per-round lines, so logs of
several runs (or one cut short) add up.
  /usr/bin/python3 tests/chaos/summary.py LOG [LOG ...]"""
import json
import re
import sys

ROUND = re.compile(r"^round seed=(\d+) nodes=(\d+) workload=(\w+): (\{.*\}) (ok|FAIL)$")
NEMESIS = re.compile(r"^\s+\d+\.\ds (\S+) ")


def summarize(paths):
    rounds, failed, nemeses, totals = {}, [], {}, {}
    current = None
    for path in paths:
        with open(path, errors="replace") as f:
            for line in f:
                m = ROUND.match(line.rstrip("\n"))
                if m:
                    seed, nodes, workload, counts, verdict = m.groups()
                    key = f"{workload}, {nodes} nodes"
                    rounds[key] = rounds.get(key, 0) + 1
                    for k, v in json.loads(counts).items():
                        totals[k] = totals.get(k, 0) + v
                    current = (seed, nodes, workload)
                    if verdict == "FAIL":
                        failed.append(current)
                    continue
                n = NEMESIS.match(line)
                if n and current:
                    nemeses[n.group(1)] = nemeses.get(n.group(1), 0) + 1
    return rounds, failed, nemeses, totals


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    rounds, failed, nemeses, totals = summarize(sys.argv[1:])
    out = ["| rounds | count |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in sorted(rounds.items())]
    out += [f"| **all** | **{sum(rounds.values())}** (failed: {len(failed)}) |", "",
            "| nemesis | applied |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in sorted(nemeses.items())]
    out += ["", "| writes and reads | count |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in sorted(totals.items())]
    for seed, nodes, workload in failed:
        out.append(f"- failed: MILLRACE_CHAOS_WORKLOAD={workload} MILLRACE_CHAOS_NODES={nodes} "
                   f"MILLRACE_CHAOS_SEED={seed} MILLRACE_CHAOS_ROUNDS=1 tests/chaos/run")
    print("\n".join(out))


if __name__ == "__main__":
    main()
