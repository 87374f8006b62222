#!/usr/bin/env python3
"""Millrace protocol generator: Kafka JSON message definitions -> C++20.

  generate.py [--spec DIR] [--out DIR]

Reads the messages listed in APIS/EXTRA_MESSAGES below from --spec (default
../shared/kafka-protocol/message relative to the repository) and writes into
--out (default protocol/generated):

  <snake_name>.h/.cc        one struct per message, every valid version
  api_keys.h/.cc            ApiKey enum, names, header versions
  error_codes.h/.cc         ErrorCode enum, names, retriable flags
  messages.h                includes everything; WithAllMessages<L> type list
  api_registry.h/.cc        RequestBody/ResponseBody variants, decode/encode by key
  testing/                  test-only fill_sample() builders

Output is deterministic; files no longer generated are removed from --out.
Python 3 standard library only.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from emit_message import emit_message  # noqa: E402
from emit_registry import (emit_api_keys, emit_api_registry,  # noqa: E402
                           emit_error_codes, emit_messages_h)
from emit_samples import emit_samples, emit_samples_header  # noqa: E402
from spec import load_message  # noqa: E402

# The APIs Millrace serves: each gets <Name>Request and <Name>Response.
# This is the one list to edit when an API is added.
APIS = """
ApiVersions Produce Fetch ListOffsets Metadata OffsetCommit OffsetFetch
FindCoordinator JoinGroup Heartbeat LeaveGroup SyncGroup DescribeGroups
ListGroups CreateTopics DeleteTopics DeleteRecords InitProducerId
OffsetForLeaderEpoch DescribeConfigs AlterConfigs IncrementalAlterConfigs
CreatePartitions DeleteGroups ElectLeaders AlterPartitionReassignments
ListPartitionReassignments OffsetDelete DescribeCluster DescribeLogDirs
SaslHandshake SaslAuthenticate DescribeTopicPartitions
""".split()

# Messages without an api key that are generated too.
EXTRA_MESSAGES = ["RequestHeader", "ResponseHeader",
                  "ConsumerProtocolSubscription", "ConsumerProtocolAssignment"]


def write_if_changed(path, text, written):
    written.add(os.path.abspath(path))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--spec", default=os.path.join(repo, "..", "shared", "kafka-protocol", "message"))
    ap.add_argument("--out", default=os.path.join(repo, "protocol", "generated"))
    args = ap.parse_args()
    if not os.path.isdir(args.spec):
        sys.exit("generate.py: spec folder %s does not exist" % args.spec)

    def load(name):
        return load_message(os.path.join(args.spec, name + ".json"))

    msgs = [load(n) for n in EXTRA_MESSAGES]
    apis = []
    for api in APIS:
        req, resp = load(api + "Request"), load(api + "Response")
        if req.api_key != resp.api_key or req.valid.lo != resp.valid.lo or req.valid.hi != resp.valid.hi:
            sys.exit("generate.py: %s request/response disagree on key or versions" % api)
        apis.append((api, req, resp))
        msgs += [req, resp]
    apis.sort(key=lambda a: a[1].api_key)

    out = args.out
    written = set()
    for m in msgs:
        stem, h, c = emit_message(m, m.name + ".json")
        write_if_changed(os.path.join(out, stem + ".h"), h, written)
        write_if_changed(os.path.join(out, stem + ".cc"), c, written)
        _, s = emit_samples(m)
        write_if_changed(os.path.join(out, "testing", stem + "_sample.cc"), s, written)
    h, c = emit_api_keys(apis)
    write_if_changed(os.path.join(out, "api_keys.h"), h, written)
    write_if_changed(os.path.join(out, "api_keys.cc"), c, written)
    h, c = emit_error_codes()
    write_if_changed(os.path.join(out, "error_codes.h"), h, written)
    write_if_changed(os.path.join(out, "error_codes.cc"), c, written)
    write_if_changed(os.path.join(out, "messages.h"), emit_messages_h(msgs), written)
    h, c = emit_api_registry(apis)
    write_if_changed(os.path.join(out, "api_registry.h"), h, written)
    write_if_changed(os.path.join(out, "api_registry.cc"), c, written)
    write_if_changed(os.path.join(out, "testing", "samples.h"), emit_samples_header(msgs), written)

    for d in (out, os.path.join(out, "testing")):
        for name in os.listdir(d):
            p = os.path.abspath(os.path.join(d, name))
            if os.path.isfile(p) and name.endswith((".h", ".cc")) and p not in written:
                os.remove(p)


if __name__ == "__main__":
    main()
