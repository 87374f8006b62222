#!/usr/bin/python3
"""Generates dashboards/millrace.json, the Grafana dashboard for Millrace.

Panels are declared below as (title, unit, [PromQL...]) rows so the dashboard reads as a
list; this script lays them out on Grafana's 24-column grid. Every query filters on the
template variables: $cluster (the `cluster` label the PodMonitor adds; outside
Kubernetes the "All" value also matches series without it), $broker (`instance`) and
$topic. Regenerate after editing: dashboards/generate.py (scripts/gen-manifests does it
too and copies the result into the Helm chart).
"""
import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "millrace.json"
C = 'cluster=~"$cluster"'
CB = f'{C}, instance=~"$broker"'
CT = f'{C}, topic=~"$topic"'
RI = "$__rate_interval"


def ts(title, unit, exprs, legends, stack=False, desc=""):
    return {"type": "timeseries", "title": title, "description": desc, "unit": unit,
            "targets": list(zip(exprs, legends)), "stack": stack}


def stat(title, unit, expr, thresholds=None, desc=""):
    return {"type": "stat", "title": title, "description": desc, "unit": unit,
            "targets": [(expr, "")], "thresholds": thresholds}


RED_ABOVE_0 = [("green", None), ("red", 1)]
RED_BELOW_1 = [("red", None), ("green", 1)]

ROWS = [
    ("Cluster overview", [
        stat("Brokers ready", "none", f"sum(millrace_broker_ready{{{C}}})", RED_BELOW_1),
        stat("Partitions online", "none", f'sum(millrace_partitions{{{C}, state="online"}})'),
        stat("Partitions offline", "none", f'sum(millrace_partitions{{{C}, state="offline"}})', RED_ABOVE_0),
        stat("Partitions under-replicated", "none",
             f'sum(millrace_partitions{{{C}, state="under_replicated"}})', RED_ABOVE_0),
        ts("Bytes in / out", "Bps", [
            f"sum(rate(millrace_topic_bytes_in_total{{{C}}}[{RI}]))",
            f"sum(rate(millrace_topic_bytes_out_total{{{C}}}[{RI}]))"], ["in", "out"]),
        ts("Records in / out", "rps", [
            f"sum(rate(millrace_topic_records_in_total{{{C}}}[{RI}]))",
            f"sum(rate(millrace_topic_records_out_total{{{C}}}[{RI}]))"], ["in", "out"]),
        ts("Request latency p99 per API", "s", [
            f"histogram_quantile(0.99, sum by (api, le) "
            f"(rate(millrace_request_duration_seconds_bucket{{{C}}}[{RI}])))"], ["{{api}}"]),
        ts("Requests and errors per API", "reqps", [
            f"sum by (api) (rate(millrace_requests_total{{{C}}}[{RI}]))",
            f"sum by (api, error) (rate(millrace_request_errors_total{{{C}}}[{RI}]))"],
           ["{{api}}", "{{api}} {{error}}"]),
        ts("Disk used and free per broker", "bytes", [
            f"sum by (instance) (millrace_log_dir_used_bytes{{{C}}})",
            f"sum by (instance) (millrace_log_dir_free_bytes{{{C}}})"],
           ["used {{instance}}", "free {{instance}}"]),
        ts("Consumer lag per group", "short", [
            f"sum by (group) (millrace_consumer_group_lag{{{C}}})"], ["{{group}}"]),
    ]),
    ("Topic $topic", [
        ts("Bytes in / out per topic", "Bps", [
            f"sum by (topic) (rate(millrace_topic_bytes_in_total{{{CT}}}[{RI}]))",
            f"sum by (topic) (rate(millrace_topic_bytes_out_total{{{CT}}}[{RI}]))"],
           ["in {{topic}}", "out {{topic}}"]),
        ts("Records in / out per topic", "rps", [
            f"sum by (topic) (rate(millrace_topic_records_in_total{{{CT}}}[{RI}]))",
            f"sum by (topic) (rate(millrace_topic_records_out_total{{{CT}}}[{RI}]))"],
           ["in {{topic}}", "out {{topic}}"]),
        ts("Size per partition", "bytes", [
            f"max by (topic, partition) (millrace_partition_size_bytes{{{CT}}})"],
           ["{{topic}}-{{partition}}"], stack=True),
        ts("Records retained per partition (log end - log start)", "short", [
            f"max by (topic, partition) (millrace_partition_log_end_offset{{{CT}}})"
            f" - max by (topic, partition) (millrace_partition_log_start_offset{{{CT}}})"],
           ["{{topic}}-{{partition}}"]),
        ts("Unreplicated tail per partition (log end - high watermark)", "short", [
            f"max by (topic, partition) (millrace_partition_log_end_offset{{{CT}}})"
            f" - max by (topic, partition) (millrace_partition_high_watermark{{{CT}}})"],
           ["{{topic}}-{{partition}}"]),
        ts("Consumer lag per group and partition", "short", [
            f"sum by (group, partition) (millrace_consumer_group_lag{{{CT}}})"],
           ["{{group}} p{{partition}}"]),
        ts("Consumer group members", "short", [
            f"max by (group) (millrace_consumer_group_members{{{C}}})"], ["{{group}}"]),
    ]),
    ("Broker $broker", [
        ts("Resident memory", "bytes", [
            f"millrace_process_resident_memory_bytes{{{CB}}}"], ["{{instance}}"]),
        ts("Connections", "short", [
            f"millrace_connections{{{CB}}}",
            f"rate(millrace_connections_accepted_total{{{CB}}}[{RI}])"],
           ["open {{instance}}", "accepted/s {{instance}}"]),
        ts("Fetches waiting (long poll)", "short", [
            f"millrace_fetch_waiting{{{CB}}}"], ["{{instance}}"]),
        ts("Request latency p99 per API", "s", [
            f"histogram_quantile(0.99, sum by (api, le) "
            f"(rate(millrace_request_duration_seconds_bucket{{{CB}}}[{RI}])))"], ["{{api}}"]),
        ts("Requests per API", "reqps", [
            f"sum by (api) (rate(millrace_requests_total{{{CB}}}[{RI}]))"], ["{{api}}"]),
        ts("Log dir used / free / capacity", "bytes", [
            f"millrace_log_dir_used_bytes{{{CB}}}",
            f"millrace_log_dir_free_bytes{{{CB}}}",
            f"millrace_log_dir_capacity_bytes{{{CB}}}"],
           ["used {{dir}}", "free {{dir}}", "capacity {{dir}}"]),
        ts("Partitions by state", "short", [
            f"sum by (state) (millrace_partitions{{{CB}}})"], ["{{state}}"]),
        ts("Fetch sessions (KIP-227)", "short", [
            f"millrace_fetch_sessions{{{CB}}}",
            f"rate(millrace_fetch_incremental_requests_total{{{CB}}}[{RI}])",
            f"rate(millrace_fetch_session_evictions_total{{{CB}}}[{RI}])"],
           ["sessions {{instance}}", "incremental fetches/s {{instance}}", "evictions/s {{instance}}"],
           desc="Incremental fetch sessions the broker holds, fetches served incrementally, and evictions: "
                "a rising eviction rate means max.incremental.fetch.session.cache.slots is too small for "
                "the consumers."),
        stat("Version", "none", f"count by (version) (millrace_build_info{{{CB}}})"),
    ]),
    ("Operator", [
        ts("Reconciles per kind and result", "ops", [
            "sum by (kind, result) (rate(millrace_operator_reconcile_total[$__rate_interval]))"],
           ["{{kind}} {{result}}"]),
        ts("Reconcile errors", "ops", [
            "sum by (kind) (rate(millrace_operator_reconcile_errors_total[$__rate_interval]))"],
           ["{{kind}}"]),
        ts("Reconcile duration p99", "s", [
            "histogram_quantile(0.99, sum by (kind, le) "
            "(rate(millrace_operator_reconcile_duration_seconds_bucket[$__rate_interval])))"],
           ["{{kind}}"]),
        ts("API writes", "ops", [
            "sum by (verb, resource) (rate(millrace_operator_api_writes_total[$__rate_interval]))"],
           ["{{verb}} {{resource}}"]),
        stat("Leader", "none", "max(millrace_operator_leader)"),
    ]),
    ("Consumer scaling", [
        ts("Consumer group lag (records)", "short", [
            "max by (namespace, scaler, group) (millrace_operator_scaler_lag)"],
           ["{{namespace}}/{{scaler}} ({{group}})"],
           desc="Each ConsumerGroupScaler's group lag at its last poll: high watermark minus the "
                "committed offset (log start when none, per offsetResetPolicy)."),
        ts("Consumer group lag (seconds)", "s", [
            "max by (namespace, scaler, group) (millrace_operator_scaler_lag_seconds)"],
           ["{{namespace}}/{{scaler}} ({{group}})"],
           desc="Age of the oldest unconsumed record, the hottest partition's."),
        ts("Desired replicas", "short", [
            "max by (namespace, scaler, group) (millrace_operator_scaler_desired_replicas)"],
           ["{{namespace}}/{{scaler}} ({{group}})"],
           desc="Replicas each ConsumerGroupScaler asked of its target at its last poll."),
    ]),
]


def panel(spec, pid, x, y, w, h):
    ds = {"type": "prometheus", "uid": "${datasource}"}
    out = {
        "id": pid, "type": spec["type"], "title": spec["title"], "datasource": ds,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "fieldConfig": {"defaults": {"unit": spec["unit"]}, "overrides": []},
        "targets": [{"refId": chr(ord("A") + i), "datasource": ds, "expr": e, "legendFormat": l}
                    for i, (e, l) in enumerate(spec["targets"])],
    }
    if spec["description"]:
        out["description"] = spec["description"]
    if spec["type"] == "timeseries":
        out["fieldConfig"]["defaults"]["custom"] = {
            "stacking": {"mode": "normal" if spec["stack"] else "none"}, "fillOpacity": 10}
        out["options"] = {"legend": {"displayMode": "table", "placement": "bottom",
                                     "calcs": ["lastNotNull", "max"]},
                          "tooltip": {"mode": "multi"}}
    else:
        if spec["thresholds"]:
            out["fieldConfig"]["defaults"]["thresholds"] = {
                "mode": "absolute",
                "steps": [{"color": c, "value": v} for c, v in spec["thresholds"]]}
        out["options"] = {"reduceOptions": {"calcs": ["lastNotNull"]}, "colorMode": "background"}
    return out


def layout():
    panels, pid, y = [], 1, 0
    for title, specs in ROWS:
        panels.append({"id": pid, "type": "row", "title": title, "collapsed": False,
                       "gridPos": {"x": 0, "y": y, "w": 24, "h": 1}, "panels": []})
        pid, y, x = pid + 1, y + 1, 0
        stats = [s for s in specs if s["type"] == "stat"]
        graphs = [s for s in specs if s["type"] != "stat"]
        for s in stats:
            w = max(24 // max(len(stats), 1), 4)
            panels.append(panel(s, pid, x, y, w, 4))
            pid, x = pid + 1, x + w
        if stats:
            y, x = y + 4, 0
        for i, s in enumerate(graphs):
            panels.append(panel(s, pid, (i % 2) * 12, y + (i // 2) * 8, 12, 8))
            pid += 1
        y += ((len(graphs) + 1) // 2) * 8
    return panels


def variable(name, label, query):
    return {"name": name, "label": label, "type": "query",
            "datasource": {"type": "prometheus", "uid": "${datasource}"},
            "query": {"query": query, "refId": name}, "definition": query,
            "refresh": 2, "includeAll": True, "multi": True, "allValue": ".*",
            "current": {"selected": True, "text": ["All"], "value": ["$__all"]}, "sort": 1}


def dashboard():
    return {
        "uid": "millrace-overview", "title": "Millrace", "tags": ["millrace", "kafka"],
        "schemaVersion": 39, "version": 1, "editable": True, "timezone": "browser",
        "time": {"from": "now-1h", "to": "now"}, "refresh": "30s",
        "templating": {"list": [
            {"name": "datasource", "label": "Data source", "type": "datasource",
             "query": "prometheus", "current": {}, "hide": 0},
            variable("cluster", "Cluster", "label_values(millrace_build_info, cluster)"),
            variable("broker", "Broker", 'label_values(millrace_build_info{cluster=~"$cluster"}, instance)'),
            variable("topic", "Topic", 'label_values(millrace_topic_bytes_in_total{cluster=~"$cluster"}, topic)'),
        ]},
        "panels": layout(),
    }


def main():
    text = json.dumps(dashboard(), indent=2) + "\n"
    if "--check" in sys.argv:
        if not OUT.exists() or OUT.read_text() != text:
            print("dashboards/millrace.json is stale: run dashboards/generate.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
