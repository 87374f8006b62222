#!/usr/bin/env python3
"""Millrace protocol generator: Kafka JSON message definitions -> C++20.

  generate.py [--set kafka|raft] [--spec DIR] [--out DIR]

Two sets of messages come from the same emitters (SETS below):
  kafka (default)  the Kafka APIs Millrace serves: APIS/EXTRA_MESSAGES from
                   ../shared/kafka-protocol/message into protocol/generated,
                   namespace millrace::proto
  raft             Millrace's internal Raft RPCs: RAFT_APIS from raft/rpc/spec
                   into raft/rpc/generated, namespace millrace::raft::rpc
                   (no error-code table or body registry of its own)
  metadata         the metadata records (the controller quorum's log):
                   Kafka's METADATA_RECORDS from ../shared/kafka-protocol/metadata
                   and Millrace's own MILLRACE_METADATA_RECORDS from
                   cluster/metadata/records/spec into
                   cluster/metadata/records/generated, namespace
                   millrace::cluster::records, with record_types.h/.cc (type
                   -> name, versions) instead of api_keys
--spec and --out override the set's folders (check-fresh writes to a temp dir);
--spec replaces only the Kafka folder: Millrace's own records are always read
from this repository.
For the kafka set it writes:

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
from emit_registry import (emit_api_keys, emit_api_registry, emit_record_types,  # noqa: E402
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
SaslHandshake SaslAuthenticate DescribeTopicPartitions DescribeQuorum
BrokerRegistration BrokerHeartbeat AllocateProducerIds FetchSnapshot
AddRaftVoter RemoveRaftVoter
DescribeUserScramCredentials AlterUserScramCredentials DescribeAcls CreateAcls DeleteAcls
DescribeProducers UpdateFeatures
""".split()

# Messages without an api key that are generated too.
EXTRA_MESSAGES = ["RequestHeader", "ResponseHeader",
                  "ConsumerProtocolSubscription", "ConsumerProtocolAssignment"]

# Millrace's internal RPCs (api keys 10000+, a range Kafka does not use).
RAFT_APIS = ["RaftBatch", "ControllerForward", "PartitionLeadership"]

# Kafka's metadata records, the controller quorum's log (KRaft's own format).
# ZkMigrationRecord is left out: Millrace never migrates from ZooKeeper.
METADATA_RECORDS = [
    "RegisterBrokerRecord", "UnregisterBrokerRecord", "TopicRecord", "PartitionRecord",
    "ConfigRecord", "PartitionChangeRecord", "FenceBrokerRecord", "UnfenceBrokerRecord",
    "RemoveTopicRecord", "DelegationTokenRecord", "UserScramCredentialRecord",
    "FeatureLevelRecord", "ClientQuotaRecord", "ProducerIdsRecord",
    "BrokerRegistrationChangeRecord", "AccessControlEntryRecord",
    "RemoveAccessControlEntryRecord", "RemoveUserScramCredentialRecord",
    "RemoveDelegationTokenRecord", "NoOpRecord", "RegisterControllerRecord",
    "BeginTransactionRecord", "EndTransactionRecord", "AbortTransactionRecord"]

# Millrace's own metadata records (record types 10000+, a range Kafka does not
# use), in cluster/metadata/records/spec: what Kafka's records cannot say.
MILLRACE_METADATA_RECORDS = ["PartitionLeaderRecord"]


class Set:
    """One generated message set: where it is read from and written to, its
    C++ namespace and include prefix, and which cross-message files it gets."""

    def __init__(self, spec, out, ns, inc, apis, extras, kafka, records=False, own=None):
        self.spec, self.out, self.ns, self.inc = spec, out, ns, inc
        self.apis, self.extras, self.kafka, self.records = apis, extras, kafka, records
        # (folder, names): messages of Millrace's own beside the set's, read
        # from the repository whatever --spec says.
        self.own = own


def sets(repo):
    return {
        "kafka": Set(os.path.join(repo, "..", "shared", "kafka-protocol", "message"),
                     os.path.join(repo, "protocol", "generated"),
                     "millrace::proto", "protocol/generated", APIS, EXTRA_MESSAGES, True),
        "raft": Set(os.path.join(repo, "raft", "rpc", "spec"),
                    os.path.join(repo, "raft", "rpc", "generated"),
                    "millrace::raft::rpc", "raft/rpc/generated", RAFT_APIS, [], False),
        "metadata": Set(os.path.join(repo, "..", "shared", "kafka-protocol", "metadata"),
                        os.path.join(repo, "cluster", "metadata", "records", "generated"),
                        "millrace::cluster::records", "cluster/metadata/records/generated", [],
                        METADATA_RECORDS, False, records=True,
                        own=(os.path.join(repo, "cluster", "metadata", "records", "spec"),
                             MILLRACE_METADATA_RECORDS)),
    }


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
    ap.add_argument("--set", choices=("kafka", "raft", "metadata"), default="kafka")
    ap.add_argument("--spec")
    ap.add_argument("--out")
    args = ap.parse_args()
    cfg = sets(repo)[args.set]
    spec = args.spec or cfg.spec
    if not os.path.isdir(spec):
        sys.exit("generate.py: spec folder %s does not exist" % spec)

    def load(name):
        return load_message(os.path.join(spec, name + ".json"))

    msgs = [load(n) for n in cfg.extras]
    if cfg.own:
        own_dir, own_names = cfg.own
        msgs += [load_message(os.path.join(own_dir, n + ".json")) for n in own_names]
    apis = []
    for api in cfg.apis:
        req, resp = load(api + "Request"), load(api + "Response")
        if req.api_key != resp.api_key or req.valid.lo != resp.valid.lo or req.valid.hi != resp.valid.hi:
            sys.exit("generate.py: %s request/response disagree on key or versions" % api)
        apis.append((api, req, resp))
        msgs += [req, resp]
    apis.sort(key=lambda a: a[1].api_key)

    out = args.out or cfg.out
    ns, inc = cfg.ns, cfg.inc
    written = set()
    for m in msgs:
        stem, h, c = emit_message(m, m.name + ".json", ns, inc)
        write_if_changed(os.path.join(out, stem + ".h"), h, written)
        write_if_changed(os.path.join(out, stem + ".cc"), c, written)
        _, s = emit_samples(m, ns, inc)
        write_if_changed(os.path.join(out, "testing", stem + "_sample.cc"), s, written)
    if cfg.records:
        h, c = emit_record_types(msgs, ns, inc)
        write_if_changed(os.path.join(out, "record_types.h"), h, written)
        write_if_changed(os.path.join(out, "record_types.cc"), c, written)
    else:
        h, c = emit_api_keys(apis, ns, inc)
        write_if_changed(os.path.join(out, "api_keys.h"), h, written)
        write_if_changed(os.path.join(out, "api_keys.cc"), c, written)
    if cfg.kafka:
        h, c = emit_error_codes()
        write_if_changed(os.path.join(out, "error_codes.h"), h, written)
        write_if_changed(os.path.join(out, "error_codes.cc"), c, written)
    write_if_changed(os.path.join(out, "messages.h"),
                     emit_messages_h(msgs, ns, inc, cfg.kafka,
                                     "record_types.h" if cfg.records else "api_keys.h"), written)
    if cfg.kafka:
        h, c = emit_api_registry(apis)
        write_if_changed(os.path.join(out, "api_registry.h"), h, written)
        write_if_changed(os.path.join(out, "api_registry.cc"), c, written)
    write_if_changed(os.path.join(out, "testing", "samples.h"), emit_samples_header(msgs, ns, inc), written)

    for d in (out, os.path.join(out, "testing")):
        for name in os.listdir(d):
            p = os.path.abspath(os.path.join(d, name))
            if os.path.isfile(p) and name.endswith((".h", ".cc")) and p not in written:
                os.remove(p)


if __name__ == "__main__":
    main()
