#!/usr/bin/python3
"""Assertions for tests/chart/run, one subcommand each (exit 1 with a reason on failure).

  rendered VALUES_NAME FILE      what `helm template` produced for a values file
  refused VALUES_FILE STDERR     helm refused the file and named every `# expect:` problem
  used-metrics                   metric names used by dashboards and alerts (one a line)
  unknown-metrics                used names missing from tests/chart/metrics.txt
  dashboard-rules OUT            the dashboard's queries as a rules file for promtool
  exported SOURCE SCRAPE_FILE    used names of SOURCE (broker|operator) absent from a scrape
  crd-fields CRD_DIR FILE...     spec keys in FILE's Millrace/Topic objects exist in the CRDs
"""
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
HIST_SUFFIXES = ("_bucket", "_sum", "_count")
PROMQL_WORDS = {"sum", "rate", "by", "max", "min", "count", "histogram_quantile", "deriv", "and", "or",
                "le", "irate", "increase", "avg", "without", "on", "ignoring", "offset", "bool"}


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def docs(path):
    return [d for d in yaml.safe_load_all(Path(path).read_text()) if d]


def kinds(objs):
    out = {}
    for o in objs:
        out.setdefault(o["kind"], []).append(o)
    return out


def rendered(name, path):
    objs = docs(path)
    by = kinds(objs)
    for o in objs:
        n = o["metadata"]["name"]
        if len(n) > 63:
            fail(f"{o['kind']} name longer than 63: {n}")
        if not re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", n):
            fail(f"{o['kind']} name is not a DNS name: {n}")
    need = {"Deployment", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Service"}
    missing = need - set(by)
    if missing:
        fail(f"{name}: missing kinds {sorted(missing)}")
    rules = by["ClusterRole"][0]["rules"]
    for r in rules:
        if "*" in r["verbs"] or "*" in r["resources"] or "*" in r.get("apiGroups", []):
            fail(f"ClusterRole has a wildcard rule: {r}")
        # delete: a rolling restart deletes one broker pod at a time (OnDelete
        # StatefulSet); nothing else: the operator never makes or edits a pod.
        if "pods" in r["resources"] and set(r["verbs"]) - {"get", "list", "watch", "delete"}:
            fail(f"ClusterRole may create or change pods: {r}")
        if "secrets" in r["resources"]:
            fail("ClusterRole grants secrets")
    granted = {(g, res) for r in rules for g in r["apiGroups"] for res in r["resources"]}
    for want in [("millrace.io", "millraces"), ("millrace.io", "topics"), ("millrace.io", "millraces/status"),
                 ("apps", "statefulsets"), ("", "services"), ("", "configmaps"),
                 ("policy", "poddisruptionbudgets"), ("", "pods"), ("", "events"),
                 ("monitoring.coreos.com", "servicemonitors")]:
        if want not in granted:
            fail(f"ClusterRole lacks {want}")
    if not any("leases" in r["resources"] for r in by["Role"][0]["rules"]):
        fail("leader-election Role lacks leases")
    dep = by["Deployment"][0]
    pod = dep["spec"]["template"]["spec"]
    if not pod["securityContext"].get("runAsNonRoot"):
        fail("operator pod may run as root")
    c = pod["containers"][0]
    if not c.get("readinessProbe") or not c.get("livenessProbe"):
        fail("operator container lacks probes")
    sel = dep["spec"]["selector"]["matchLabels"]
    if any(dep["spec"]["template"]["metadata"]["labels"].get(k) != v for k, v in sel.items()):
        fail("Deployment selector does not match its pod labels")

    expect = {
        "defaults": lambda: ("Millrace" not in by and "Topic" not in by and "Pod" not in by
                             and "ServiceMonitor" not in by and "ConfigMap" not in by),
        "minimal": lambda: (by["Millrace"][0]["spec"]["brokers"] == 1 and "Pod" in by
                            and by["Pod"][0]["metadata"]["annotations"]["helm.sh/hook"] == "test"),
        "production": lambda: (len(by["Topic"]) == 2 and by["Millrace"][0]["spec"]["brokers"] == 1
                               and dep["spec"]["replicas"] == 2
                               and by["Topic"][1]["spec"]["topicName"] == "customer.state"
                               and by["Topic"][1]["spec"]["config"]["cleanup.policy"] == "compact"
                               and by["Millrace"][0]["spec"]["image"] == "registry.example.com/streaming/millrace:0.1.0"
                               and all(o["metadata"]["labels"].get("team") == "streaming" for o in objs)),
        "monitoring": lambda: monitoring_ok(by),
        "longname": lambda: all(len(o["metadata"]["name"]) <= 63 for o in objs)
                            and dep["metadata"]["name"].endswith("-operator"),
    }
    if name in expect and not expect[name]():
        fail(f"{name}: rendered objects are not what the values ask for: {sorted(by)}")
    print(f"ok   rendered {name}: {len(objs)} objects, {', '.join(sorted(by))}")


def monitoring_ok(by):
    for k in ("ServiceMonitor", "PodMonitor", "PrometheusRule", "ConfigMap"):
        if k not in by:
            fail(f"monitoring: no {k} rendered")
    cm = by["ConfigMap"][0]
    if cm["metadata"]["labels"].get("grafana_dashboard") != "1" or cm["metadata"]["namespace"] != "monitoring":
        fail("dashboard ConfigMap lacks the sidecar label or namespace")
    dash = json.loads(cm["data"]["millrace.json"])
    if dash != json.loads((ROOT / "dashboards/millrace.json").read_text()):
        fail("dashboard ConfigMap differs from dashboards/millrace.json")
    rule = by["PrometheusRule"][0]
    if rule["spec"] != yaml.safe_load((ROOT / "alerts/millrace.rules.yml").read_text()):
        fail("PrometheusRule differs from alerts/millrace.rules.yml")
    for m in ("ServiceMonitor", "PodMonitor", "PrometheusRule"):
        if by[m][0]["metadata"]["labels"].get("release") != "kube-prometheus-stack":
            fail(f"{m} lacks the extra selector label")
    return True


def refused(values_file, stderr_file):
    err = Path(stderr_file).read_text()
    expects = [m.group(1).strip() for m in re.finditer(r"#\s*expect:\s*(.+)$", Path(values_file).read_text(), re.M)]
    if not expects:
        fail(f"{values_file} has no '# expect:' lines")
    missing = [e for e in expects if e not in err]
    if missing:
        fail(f"{values_file}: helm's error does not name {missing}\n--- helm said:\n{err}")
    print(f"ok   refused {Path(values_file).name}: all {len(expects)} problems named in one failure")


def expressions():
    """(origin, PromQL) for every dashboard query and alert expression."""
    out = []
    dash = json.loads((ROOT / "dashboards/millrace.json").read_text())
    for p in dash["panels"]:
        for t in p.get("targets", []):
            out.append((f"dashboard panel '{p['title']}'", t["expr"]))
    for v in dash["templating"]["list"]:
        if v.get("type") == "query":
            out.append((f"dashboard variable ${v['name']}", v["definition"]))
    for g in yaml.safe_load((ROOT / "alerts/millrace.rules.yml").read_text())["groups"]:
        for r in g["rules"]:
            out.append((f"alert {r.get('alert', r.get('record'))}", r["expr"]))
    return out


def names_in(expr):
    expr = re.sub(r'"[^"]*"', '""', expr)           # drop label values
    expr = re.sub(r"\[[^\]]*\]", "", expr)          # drop ranges and subquery steps
    expr = re.sub(r"label_values\((.*),\s*\w+\)", r"\1", expr)  # drop the label argument
    expr = re.sub(r"\{[^}]*\}", "{}", expr)          # drop matchers
    expr = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", expr)  # drop grouping labels
    return {n for n in re.findall(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b", expr)
            if n not in PROMQL_WORDS and not n.startswith("__") and not re.fullmatch(r"\d+[smhd]?", n)}


def known():
    out = {}
    for line in (ROOT / "tests/chart/metrics.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, typ, src = line.split()
            out[name] = (typ, src)
    return out


def base_name(n, table):
    for s in HIST_SUFFIXES:
        if n.endswith(s) and n[: -len(s)] in table and table[n[: -len(s)]][0] == "histogram":
            return n[: -len(s)]
    return n


def used():
    table = known()
    out = {}
    for origin, e in expressions():
        for n in names_in(e):
            if n in ("label_values",):
                continue
            out.setdefault(base_name(n, table), set()).add(origin)
    return out


def unknown_metrics():
    table = known()
    bad = {n: o for n, o in used().items() if n not in table}
    if bad:
        fail("metric names not in the fixed list: " + "; ".join(f"{n} (in {sorted(o)[0]})" for n, o in bad.items()))
    print(f"ok   {len(used())} metric names used by dashboard and alerts, all in tests/chart/metrics.txt")


def exported(source, scrape_file):
    text = Path(scrape_file).read_text()
    present = set(re.findall(r"^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*)", text, re.M))
    present |= {base_name(n, known()) for n in re.findall(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", text, re.M)}
    table = known()
    want = sorted(n for n in used() if table.get(n, ("", ""))[1] == source)
    missing = [n for n in want if n not in present]
    if missing:
        fail(f"the running {source} does not export {missing} (used by the dashboard/alerts)")
    print(f"ok   the running {source} exports all {len(want)} metric names the dashboard/alerts use")


def dashboard_rules(out):
    rules = []
    for i, (origin, e) in enumerate(expressions()):
        if origin.startswith("dashboard variable"):
            continue
        e = e.replace("$__rate_interval", "5m").replace("$cluster", ".*").replace("$broker", ".*") \
             .replace("$topic", ".*")
        rules.append({"record": f"dashboard:query_{i}", "expr": e})
    Path(out).write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))


def crd_fields(crd_dir, files):
    schemas = {}
    for f in sorted(Path(crd_dir).glob("*.y*ml")):
        for d in docs(f):
            if d.get("kind") != "CustomResourceDefinition":
                continue
            for v in d["spec"]["versions"]:
                schemas[(d["spec"]["group"] + "/" + v["name"], d["spec"]["names"]["kind"])] = \
                    v["schema"]["openAPIV3Schema"]
    problems, checked = [], 0

    def walk(val, sch, path):
        if not isinstance(val, dict) or sch.get("x-kubernetes-preserve-unknown-fields"):
            return
        props = sch.get("properties")
        extra = sch.get("additionalProperties")
        for k, v in val.items():
            if props and k in props:
                walk(v, props[k], f"{path}.{k}")
            elif isinstance(extra, dict):
                walk(v, extra, f"{path}.{k}")
            elif props is not None and not extra:
                problems.append(f"{path}.{k} is not in the CRD schema")

    for f in files:
        for d in docs(f):
            key = (d.get("apiVersion"), d.get("kind"))
            if key in schemas:
                walk(d.get("spec", {}), schemas[key]["properties"]["spec"], f"{Path(f).name}:{d['kind']}.spec")
                checked += 1
    if problems:
        fail("; ".join(problems))
    print(f"ok   {checked} Millrace/Topic objects use only fields their CRDs declare")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "rendered":
        rendered(*args)
    elif cmd == "refused":
        refused(*args)
    elif cmd == "used-metrics":
        for n in sorted(used()):
            print(n)
    elif cmd == "unknown-metrics":
        unknown_metrics()
    elif cmd == "dashboard-rules":
        dashboard_rules(*args)
    elif cmd == "exported":
        exported(*args)
    elif cmd == "crd-fields":
        crd_fields(args[0], args[1:])
    else:
        fail(f"unknown subcommand {cmd}")


if __name__ == "__main__":
    main()
