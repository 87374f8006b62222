"""The ACL matrix (issue 20): every served API that Kafka authorizes, sent by the same
principals with the same ACLs to Millrace and to Apache Kafka 4.1.1, side by side; each
answer's error codes (and authorized-operations fields, listings) must be Kafka's.

Both brokers run StandardAuthorizer with super.users User:admin (and User:ANONYMOUS: the
PLAINTEXT controller and inter-broker links), allow.everyone.if.no.acl.found false, and a
SASL_SSL listener with PLAIN users. Requests are built and read by Kafka's own generated
message classes (KafkaWire.java), so Millrace and Kafka get the same bytes.

Each case (an API, a version, a request) is sent by five principals, each on resources
of its own (named <case>.<role>), so one principal's success cannot change another's:
  none      no ACL at all
  literal   exactly the ACLs the case needs, LITERAL
  prefixed  the same, PREFIXED on a prefix of the name (cluster ACLs stay LITERAL)
  deny      the literal ALLOWs plus a DENY of one of them (case.deny): DENY wins
  super     User:admin, a super user
What is compared: every errorCode / topicConfigErrorCode and *AuthorizedOperations field
of the answer, keyed by where it sits (topic, partition, group, resource), plus what a
case names in `extra` (listings). Fields whose values depend on more than ACLs are left
out by design (configs, offsets, epochs). Where Millrace answers an allowed request
differently for a reason that is not authorization, the case says so (`allowed_differs`)
and for the allowed roles only "not an authorization error" is compared, loudly.
"""
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from secure_brokers import SecureKafka, SecureMillrace  # noqa: E402

# Kafka's codes: resource types, operations, patterns, permissions, errors.
TOPIC, GROUP, CLUSTER, TXN_ID = 2, 3, 4, 5
READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, \
    IDEMPOTENT_WRITE = 3, 4, 5, 6, 7, 8, 9, 10, 11, 12
LITERAL, PREFIXED = 3, 4
DENY, ALLOW = 2, 3
AUTHZ_ERRORS = {29: "TOPIC_AUTHORIZATION_FAILED", 30: "GROUP_AUTHORIZATION_FAILED",
                31: "CLUSTER_AUTHORIZATION_FAILED", 53: "TRANSACTIONAL_ID_AUTHORIZATION_FAILED"}
API_NAMES = {0: "Produce", 1: "Fetch", 2: "ListOffsets", 3: "Metadata", 8: "OffsetCommit", 9: "OffsetFetch",
             10: "FindCoordinator", 11: "JoinGroup", 12: "Heartbeat", 13: "LeaveGroup", 14: "SyncGroup",
             15: "DescribeGroups", 16: "ListGroups", 19: "CreateTopics", 20: "DeleteTopics", 21: "DeleteRecords",
             22: "InitProducerId", 23: "OffsetForLeaderEpoch", 29: "DescribeAcls", 30: "CreateAcls",
             31: "DeleteAcls", 32: "DescribeConfigs", 33: "AlterConfigs", 35: "DescribeLogDirs",
             37: "CreatePartitions", 42: "DeleteGroups", 43: "ElectLeaders", 44: "IncrementalAlterConfigs",
             45: "AlterPartitionReassignments", 46: "ListPartitionReassignments", 47: "OffsetDelete",
             50: "DescribeUserScramCredentials", 51: "AlterUserScramCredentials", 55: "DescribeQuorum",
             57: "UpdateFeatures", 60: "DescribeCluster", 61: "DescribeProducers", 75: "DescribeTopicPartitions",
             80: "AddRaftVoter", 81: "RemoveRaftVoter"}
NO_ACL = {17, 18, 36}  # SaslHandshake, ApiVersions, SaslAuthenticate: Kafka checks no ACL
RETRIABLE = {14, 15}  # COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE
ROLES = ["none", "literal", "prefixed", "deny", "super"]
CLUSTER_NAME = "kafka-cluster"
AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
SUPER_USERS = "User:admin;User:ANONYMOUS"

# Fields compared wherever they sit in an answer.
COMPARED = {"errorCode", "topicConfigErrorCode", "clusterAuthorizedOperations", "topicAuthorizedOperations",
            "authorizedOperations"}
# What names an element of an array in a key path.
IDENTITY = ("resourceName", "name", "topic", "groupId", "key", "partitionIndex", "partition", "principal", "user")


class Case:
    """One API call. `topics`/`groups`: the logical resources of the case (each role gets
    `<case>.<role>` with a suffix per resource: t0, t1, g0); `acls`: (type, resource, op)
    the literal role needs, resource a key of topics/groups or None for the cluster;
    `body(r)`: the request, r maps t0/g0/... to the role's names."""

    def __init__(self, name, api, version, body, acls, topics=("t0",), groups=(), deny=0, extra=None,
                 make_topics=True, make_groups=True, allowed_differs=None, differs_for=("literal", "prefixed", "super"),
                 skip_allowed=None, partitions=1, by_id=False):
        self.name, self.api, self.version, self.body, self.acls = name, api, version, body, acls
        self.topics, self.groups, self.deny, self.extra = topics, groups, deny, extra
        self.make_topics, self.make_groups, self.allowed_differs = make_topics, make_groups, allowed_differs
        self.differs_for = differs_for  # the roles allowed_differs applies to
        self.skip_allowed = skip_allowed  # why the allowed roles cannot be compared at all (SKIP)
        self.partitions = partitions
        self.by_id = by_id  # body(r) also gets r["id:t0"]...: the topics' ids on that broker

    def names(self, role):
        base = f"{self.name}.{role}"
        return {k: f"{base}.{k}" for k in (*self.topics, *self.groups)}


def group_ids(body):
    return sorted(g["groupId"] for g in body.get("groups", []))


def metadata_topics(body):
    return sorted(t["name"] for t in body.get("topics", []) if t.get("name"))


def one_record():
    return "@record"  # KafkaWire replaces it with a one-record batch


AUTO_CREATE_IN_FLIGHT = ("Kafka answers UNKNOWN_TOPIC_OR_PARTITION while an auto-created topic's creation is in "
                         "flight; Millrace answers once it exists")


def cases():
    T, G = "t0", "g0"
    P = lambda r, t=T, p=0: {"name": r[t], "partitions": [{"partitionIndex": p}]}  # noqa: E731
    return [
        # --- new checks ---
        Case("describe-configs-topic", 32, 4, lambda r: {"resources": [
            {"resourceType": 2, "resourceName": r[T], "configurationKeys": ["retention.ms"]}]},
            [(TOPIC, T, DESCRIBE_CONFIGS)]),
        Case("describe-configs-broker", 32, 4, lambda r: {"resources": [
            {"resourceType": 4, "resourceName": "1", "configurationKeys": ["log.retention.hours"]}]},
            [(CLUSTER, None, DESCRIBE_CONFIGS)], topics=()),
        Case("alter-configs-topic", 33, 2, lambda r: {"resources": [
            {"resourceType": 2, "resourceName": r[T], "configs": [{"name": "retention.ms", "value": "86400000"}]}]},
            [(TOPIC, T, ALTER_CONFIGS)]),
        Case("alter-configs-broker", 33, 2, lambda r: {"validateOnly": True, "resources": [
            {"resourceType": 4, "resourceName": "1", "configs": [{"name": "log.cleaner.threads", "value": "2"}]}]},
            [(CLUSTER, None, ALTER_CONFIGS)], topics=(),
            allowed_differs="Millrace's broker configs are static (INVALID_REQUEST once allowed)"),
        Case("incremental-alter-configs-topic", 44, 1, lambda r: {"resources": [
            {"resourceType": 2, "resourceName": r[T],
             "configs": [{"name": "retention.ms", "configOperation": 0, "value": "86400000"}]}]},
            [(TOPIC, T, ALTER_CONFIGS)]),
        Case("incremental-alter-configs-broker", 44, 1, lambda r: {"validateOnly": True, "resources": [
            {"resourceType": 4, "resourceName": "1",
             "configs": [{"name": "log.cleaner.threads", "configOperation": 0, "value": "2"}]}]},
            [(CLUSTER, None, ALTER_CONFIGS)], topics=(),
            allowed_differs="Millrace's broker configs are static (INVALID_REQUEST once allowed)"),
        Case("create-partitions", 37, 3, lambda r: {"timeoutMs": 30000, "topics": [
            {"name": r[T], "count": 2, "assignments": None}]}, [(TOPIC, T, ALTER)]),
        Case("delete-records", 21, 2, lambda r: {"timeoutMs": 30000, "topics": [
            {"name": r[T], "partitions": [{"partitionIndex": 0, "offset": 0}]}]}, [(TOPIC, T, DELETE)]),
        Case("delete-groups", 42, 2, lambda r: {"groupsNames": [r[G]]}, [(GROUP, G, DELETE)], topics=(),
             groups=(G,)),
        Case("offset-delete", 47, 0, lambda r: {"groupId": r[G], "topics": [P(r)]},
             [(GROUP, G, DELETE), (TOPIC, T, READ)], groups=(G,)),
        Case("offset-delete-topic-denied", 47, 0, lambda r: {"groupId": r[G], "topics": [P(r)]},
             [(GROUP, G, DELETE), (TOPIC, T, READ)], groups=(G,), deny=1),
        Case("list-groups", 16, 5, lambda r: {"statesFilter": [], "typesFilter": []}, [(GROUP, G, DESCRIBE)],
             topics=(), groups=(G,), extra=group_ids),
        Case("list-groups-cluster", 16, 5, lambda r: {"statesFilter": [], "typesFilter": []},
             [(CLUSTER, None, DESCRIBE)], topics=(), groups=(G,), extra=group_ids),
        # Two resources, the principal allowed one: Kafka answers the denial last
        # (DescribeConfigs) or first (DescribeGroups); `extra` compares the order (of
        # DescribeGroups only denied-or-not: Kafka orders the described groups by its
        # coordinator shards, not by the request).
        Case("describe-configs-order", 32, 4, lambda r: {"resources": [
            {"resourceType": 2, "resourceName": r[T], "configurationKeys": ["retention.ms"]},
            {"resourceType": 2, "resourceName": r["t1"], "configurationKeys": ["retention.ms"]}]},
            [(TOPIC, "t1", DESCRIBE_CONFIGS)], topics=(T, "t1"),
            extra=lambda b: [x["resourceName"] for x in b["results"]]),
        Case("describe-groups-order", 15, 5, lambda r: {"groups": [r[G], r["g1"]]},
             [(GROUP, G, DESCRIBE)], topics=(), groups=(G, "g1"),
             extra=lambda b: [f"<denied:{x['errorCode'] == 30}>" for x in b["groups"]]),
        Case("describe-groups", 15, 5, lambda r: {"groups": [r[G]], "includeAuthorizedOperations": True},
             [(GROUP, G, DESCRIBE)], topics=(), groups=(G,)),
        Case("metadata-operations", 3, 10, lambda r: {
            "topics": [{"name": r[T]}], "allowAutoTopicCreation": False,
            "includeClusterAuthorizedOperations": True, "includeTopicAuthorizedOperations": True},
            [(TOPIC, T, DESCRIBE), (CLUSTER, None, DESCRIBE), (CLUSTER, None, ALTER)], deny=1),
        Case("metadata-cluster-create-only", 3, 10, lambda r: {
            "topics": [], "allowAutoTopicCreation": False, "includeClusterAuthorizedOperations": True},
            [(CLUSTER, None, CREATE)], topics=()),
        Case("describe-cluster", 60, 1, lambda r: {"includeClusterAuthorizedOperations": True, "endpointType": 1},
             [(CLUSTER, None, DESCRIBE), (CLUSTER, None, ALTER)], topics=(), deny=0),
        Case("describe-topic-partitions", 75, 0, lambda r: {"topics": [{"name": r[T]}],
                                                             "responsePartitionLimit": 2000},
             [(TOPIC, T, DESCRIBE)]),
        Case("describe-topic-partitions-all", 75, 0, lambda r: {"topics": [], "responsePartitionLimit": 2000},
             [(TOPIC, T, DESCRIBE)], extra=metadata_topics),
        Case("metadata-all-topics", 3, 12, lambda r: {"topics": None, "allowAutoTopicCreation": False},
             [(TOPIC, T, DESCRIBE)], extra=metadata_topics),
        Case("offset-for-leader-epoch", 23, 4, lambda r: {"replicaId": -1, "topics": [
            {"topic": r[T], "partitions": [{"partition": 0, "currentLeaderEpoch": -1, "leaderEpoch": 0}]}]},
            [(TOPIC, T, DESCRIBE)]),
        Case("create-topics-describe-configs", 19, 7, lambda r: {"timeoutMs": 30000, "topics": [
            {"name": r[T], "numPartitions": 1, "replicationFactor": 1}]}, [(TOPIC, T, CREATE)],
            make_topics=False, extra=lambda b: [(t["name"], t["numPartitions"], t["replicationFactor"])
                                                 for t in b["topics"]]),
        # --- checks that were there before: the same matrix keeps them honest ---
        Case("create-topics", 19, 7, lambda r: {"timeoutMs": 30000, "topics": [
            {"name": r[T], "numPartitions": 1, "replicationFactor": 1}]},
            [(TOPIC, T, CREATE), (TOPIC, T, DESCRIBE_CONFIGS)], make_topics=False),
        Case("create-topics-cluster-create", 19, 7, lambda r: {"timeoutMs": 30000, "topics": [
            {"name": r[T], "numPartitions": 1, "replicationFactor": 1}]}, [(CLUSTER, None, CREATE)],
            make_topics=False),
        Case("metadata-auto-create", 3, 12, lambda r: {"topics": [{"name": r[T]}], "allowAutoTopicCreation": True},
             [(TOPIC, T, DESCRIBE), (TOPIC, T, CREATE)], make_topics=False, deny=1,
             allowed_differs=AUTO_CREATE_IN_FLIGHT),
        Case("metadata-auto-create-create-only", 3, 12, lambda r: {"topics": [{"name": r[T]}],
                                                                    "allowAutoTopicCreation": True},
             [(TOPIC, T, CREATE)], make_topics=False, allowed_differs=AUTO_CREATE_IN_FLIGHT, differs_for=("super",)),
        Case("metadata-auto-create-describe-only", 3, 12, lambda r: {"topics": [{"name": r[T]}],
                                                                      "allowAutoTopicCreation": True},
             [(TOPIC, T, DESCRIBE)], make_topics=False, allowed_differs=AUTO_CREATE_IN_FLIGHT, differs_for=("super",)),
        Case("delete-topics", 20, 6, lambda r: {"timeoutMs": 30000, "topics": [{"name": r[T]}]},
             [(TOPIC, T, DELETE)]),
        Case("delete-topics-missing", 20, 6, lambda r: {"timeoutMs": 30000, "topics": [{"name": r[T]}]},
             [(TOPIC, T, DELETE)], make_topics=False),
        Case("delete-topics-by-id", 20, 6, lambda r: {"timeoutMs": 30000, "topics": [
            {"name": None, "topicId": r["id:" + T]}]}, [(TOPIC, T, DELETE)], by_id=True),
        Case("delete-topics-by-id-describe-only", 20, 6, lambda r: {"timeoutMs": 30000, "topics": [
            {"name": None, "topicId": r["id:" + T]}]}, [(TOPIC, T, DESCRIBE)], by_id=True),
        Case("delete-topics-cluster-delete", 20, 6, lambda r: {"timeoutMs": 30000, "topics": [{"name": r[T]}]},
             [(CLUSTER, None, DELETE)]),
        Case("metadata", 3, 12, lambda r: {"topics": [{"name": r[T]}], "allowAutoTopicCreation": False},
             [(TOPIC, T, DESCRIBE)]),
        Case("produce", 0, 9, lambda r: {"acks": 1, "timeoutMs": 30000, "topicData": [
            {"name": r[T], "partitionData": [{"index": 0, "records": one_record()}]}]}, [(TOPIC, T, WRITE)]),
        Case("fetch", 1, 12, lambda r: {"replicaId": -1, "maxWaitMs": 0, "minBytes": 0, "topics": [
            {"topic": r[T], "partitions": [{"partition": 0, "fetchOffset": 0, "partitionMaxBytes": 1024}]}]},
            [(TOPIC, T, READ)]),
        Case("list-offsets", 2, 7, lambda r: {"replicaId": -1, "topics": [
            {"name": r[T], "partitions": [{"partitionIndex": 0, "timestamp": -1}]}]}, [(TOPIC, T, DESCRIBE)]),
        Case("offset-commit", 8, 8, lambda r: {"groupId": r[G], "generationIdOrMemberEpoch": -1, "memberId": "",
                                               "topics": [{"name": r[T], "partitions": [
                                                   {"partitionIndex": 0, "committedOffset": 0}]}]},
             [(GROUP, G, READ), (TOPIC, T, READ)], groups=(G,), make_groups=False),
        Case("offset-commit-topic-denied", 8, 8, lambda r: {
            "groupId": r[G], "generationIdOrMemberEpoch": -1, "memberId": "",
            "topics": [{"name": r[T], "partitions": [{"partitionIndex": 0, "committedOffset": 0}]}]},
            [(GROUP, G, READ), (TOPIC, T, READ)], groups=(G,), make_groups=False, deny=1),
        Case("offset-fetch", 9, 8, lambda r: {"groups": [{"groupId": r[G], "topics": [
            {"name": r[T], "partitionIndexes": [0]}]}]}, [(GROUP, G, DESCRIBE), (TOPIC, T, DESCRIBE)],
            groups=(G,)),
        Case("offset-fetch-all-topics", 9, 8, lambda r: {"groups": [{"groupId": r[G], "topics": None}]},
             [(GROUP, G, DESCRIBE), (TOPIC, T, DESCRIBE)], groups=(G,), deny=1),
        Case("find-coordinator-transaction", 10, 4, lambda r: {"keyType": 1, "coordinatorKeys": [r[G]]},
             [(TXN_ID, G, DESCRIBE)], topics=(), groups=(G,), make_groups=False,
             skip_allowed="Millrace has no transactions: it refuses every transaction coordinator "
                          "(TRANSACTIONAL_ID_AUTHORIZATION_FAILED, so transactional clients fail fast)"),
        Case("find-coordinator", 10, 4, lambda r: {"keyType": 0, "coordinatorKeys": [r[G]]},
             [(GROUP, G, DESCRIBE)], topics=(), groups=(G,), make_groups=False),
        Case("join-group", 11, 9, lambda r: {"groupId": r[G], "sessionTimeoutMs": 30000,
                                             "rebalanceTimeoutMs": 30000, "memberId": "",
                                             "protocolType": "consumer",
                                             "protocols": [{"name": "range", "metadata": ""}]},
             [(GROUP, G, READ)], topics=(), groups=(G,), make_groups=False),
        Case("heartbeat", 12, 4, lambda r: {"groupId": r[G], "generationId": 1, "memberId": "m"},
             [(GROUP, G, READ)], topics=(), groups=(G,)),
        Case("leave-group", 13, 5, lambda r: {"groupId": r[G], "members": [{"memberId": "m"}]},
             [(GROUP, G, READ)], topics=(), groups=(G,)),
        Case("sync-group", 14, 5, lambda r: {"groupId": r[G], "generationId": 1, "memberId": "m",
                                             "protocolType": "consumer", "protocolName": "range",
                                             "assignments": []},
             [(GROUP, G, READ)], topics=(), groups=(G,)),
        Case("init-producer-id", 22, 4, lambda r: {"transactionalId": None, "transactionTimeoutMs": 60000,
                                                   "producerId": -1, "producerEpoch": -1},
             [(CLUSTER, None, IDEMPOTENT_WRITE)], topics=()),
        Case("init-producer-id-topic-write", 22, 4, lambda r: {"transactionalId": None,
                                                               "transactionTimeoutMs": 60000,
                                                               "producerId": -1, "producerEpoch": -1},
             [(TOPIC, T, WRITE)]),
        Case("describe-acls", 29, 3, lambda r: {"resourceTypeFilter": 2, "resourceNameFilter": r.get(T),
                                                "patternTypeFilter": 3, "principalFilter": None,
                                                "hostFilter": None, "operation": 1, "permissionType": 1},
             [(CLUSTER, None, DESCRIBE)]),
        Case("create-acls", 30, 3, lambda r: {"creations": [
            {"resourceType": 2, "resourceName": r[T] + ".x", "resourcePatternType": 3,
             "principal": "User:nobody", "host": "*", "operation": READ, "permissionType": ALLOW}]},
            [(CLUSTER, None, ALTER)]),
        Case("delete-acls", 31, 3, lambda r: {"filters": [
            {"resourceTypeFilter": 2, "resourceNameFilter": r[T] + ".x", "patternTypeFilter": 3,
             "principalFilter": None, "hostFilter": None, "operation": 1, "permissionType": 1}]},
            [(CLUSTER, None, ALTER)]),
        Case("describe-log-dirs", 35, 4, lambda r: {"topics": []}, [(CLUSTER, None, DESCRIBE)], topics=()),
        Case("list-partition-reassignments", 46, 0, lambda r: {"timeoutMs": 30000, "topics": None},
             [(CLUSTER, None, DESCRIBE)], topics=()),
        Case("alter-partition-reassignments", 45, 0, lambda r: {"timeoutMs": 30000, "topics": [
            {"name": r[T], "partitions": [{"partitionIndex": 0, "replicas": None}]}]},
            [(CLUSTER, None, ALTER)]),
        Case("elect-leaders", 43, 2, lambda r: {"electionType": 0, "timeoutMs": 30000, "topicPartitions": [
            {"topic": r[T], "partitions": [0]}]}, [(CLUSTER, None, ALTER)]),
        Case("describe-user-scram-credentials", 50, 0, lambda r: {"users": [{"name": "alice"}]},
             [(CLUSTER, None, DESCRIBE)], topics=()),
        Case("alter-user-scram-credentials", 51, 0, lambda r: {"deletions": [{"name": "ghost", "mechanism": 2}]},
             [(CLUSTER, None, ALTER)], topics=()),
        Case("describe-producers", 61, 0, lambda r: {"topics": [{"name": r[T], "partitionIndexes": [0]}]},
             [(TOPIC, T, READ)]),
        Case("add-raft-voter", 80, 0, lambda r: {"clusterId": None, "timeoutMs": 30000, "voterId": 99,
                                                 "voterDirectoryId": "AAAAAAAAAAAAAAAAAAAAAQ",
                                                 "listeners": [{"name": "CONTROLLER", "host": "127.0.0.1",
                                                                "port": 1}]},
             [(CLUSTER, None, ALTER)], topics=()),
        Case("remove-raft-voter", 81, 0, lambda r: {"clusterId": None, "voterId": 99,
                                                    "voterDirectoryId": "AAAAAAAAAAAAAAAAAAAAAQ"},
             [(CLUSTER, None, ALTER)], topics=()),
        Case("update-features", 57, 1, lambda r: {"timeoutMs": 30000, "validateOnly": True, "featureUpdates": [
            {"feature": "group.version", "maxVersionLevel": 1, "upgradeType": 1}]},
            [(CLUSTER, None, ALTER)], topics=(),
            allowed_differs="the feature levels Millrace finalizes are not Kafka 4.1's (group.version)"),
        Case("describe-quorum", 55, 2, lambda r: {"topics": [
            {"topicName": "__cluster_metadata", "partitions": [{"partitionIndex": 0}]}]},
            [(CLUSTER, None, DESCRIBE)], topics=()),
    ]


class Wire:
    """KafkaWire.java as a child process: one JSON command a line."""

    def __init__(self, classpath, log_path):
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(["java", "-cp", classpath, "KafkaWire"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.log, text=True, bufsize=1)
        self.lock = threading.Lock()

    def call(self, **cmd):
        with self.lock:
            self.proc.stdin.write(json.dumps(cmd) + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("KafkaWire exited; see its log")
        answer = json.loads(line)
        self.log.write(json.dumps(cmd)[:2000] + "\n  -> " + line[:4000])
        self.log.flush()
        return answer

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(10)
        except Exception:  # noqa: BLE001
            self.proc.kill()
        self.log.close()


def principal_of(case_index, role):
    return "admin" if role == "super" else "none" if role == "none" else f"c{case_index}{role[0]}"


def acl_bindings(all_cases):
    """Every ACL of the matrix: for each case, its literal, prefixed and deny roles'."""
    out = []
    for i, c in enumerate(all_cases):
        for role in ("literal", "prefixed", "deny"):
            names = c.names(role)
            user = "User:" + principal_of(i, role)
            for k, (rtype, res, op) in enumerate(c.acls):
                name = CLUSTER_NAME if res is None else names[res]
                pattern = LITERAL
                if role == "prefixed" and res is not None:
                    name, pattern = name[:-2], PREFIXED
                out.append((rtype, name, pattern, user, op, ALLOW))
                if role == "deny" and k == c.deny:
                    out.append((rtype, name, LITERAL, user, op, DENY))
    return out


def users(all_cases):
    names = {"admin", "none"}
    for i in range(len(all_cases)):
        for role in ("literal", "prefixed", "deny"):
            names.add(principal_of(i, role))
    return sorted(names)


def password(user):
    return f"{user}-secret"


def jaas(all_users):
    return ("org.apache.kafka.common.security.plain.PlainLoginModule required "
            'username="admin" password="admin-secret" '
            + " ".join(f'user_{u}="{password(u)}"' for u in all_users) + ";")


def collect(node, path=()):
    """{path: value} of the compared fields of an answer."""
    out = {}
    if isinstance(node, dict):
        for k, v in node.items():
            if k in COMPARED and isinstance(v, int):
                out["/".join(path + (k,))] = v
            elif isinstance(v, (dict, list)):
                out.update(collect(v, path + (k,)))
    elif isinstance(node, list):
        for i, e in enumerate(node):
            ident = str(i)
            if isinstance(e, dict):
                for k in IDENTITY:
                    if k in e and e[k] is not None:
                        ident = f"{k}={e[k]}"
                        if "resourceType" in e:
                            ident = f"type={e['resourceType']},{ident}"
                        break
            out.update(collect(e, path + (ident,)))
    return out


def normalize(case, role, answer, names):
    """What is compared of one answer: the fields, with this role's resource names made
    generic (so the two brokers' answers compare whatever the names)."""
    if not answer.get("ok"):
        return {"failed": answer.get("error", "?")}
    body = answer["body"]
    fields = collect(body)
    if case.extra:
        fields["extra"] = case.extra(body)
    text = json.dumps(fields, sort_keys=True)
    for k, n in names.items():
        text = text.replace(n, f"<{k}>")
    # Listings: only this role's own resources count (other cases', the brokers'
    # internal topics and their own setup topics are listed too).
    fields = json.loads(text)
    if "extra" in fields and isinstance(fields["extra"], list):
        fields["extra"] = [x for x in fields["extra"] if str(x).startswith("<") or
                           (isinstance(x, list) and str(x[0]).startswith("<"))]
        fields = {k: v for k, v in fields.items() if k == "extra" or "=<" in k or "=" not in k}
    return fields


def authz_codes(fields):
    return {k: v for k, v in fields.items() if k.endswith("rrorCode") and v in AUTHZ_ERRORS}


class Side:
    """One broker of the matrix and the principals' connections to it."""

    def __init__(self, broker, wire, ca, label):
        self.broker, self.wire, self.ca, self.label = broker, wire, ca, label
        self.conns = set()

    def conn(self, user):
        name = f"{self.label}:{user}"
        if name not in self.conns:
            a = self.wire.call(op="connect", conn=name, port=self.broker.ports["SASL_SSL"], ca=self.ca,
                               user=user, password="admin-secret" if user == "admin" else password(user))
            if not a.get("ok"):
                raise RuntimeError(f"{self.label}: {user} cannot log in: {a.get('error')}")
            self.conns.add(name)
        return name

    def request(self, user, api, version, body):
        deadline = time.time() + 20
        while True:
            a = self.wire.call(op="request", conn=self.conn(user), api=api, version=version, body=body)
            if not a.get("ok"):
                self.conns.discard(f"{self.label}:{user}")  # KafkaWire closed it
                return a
            # A coordinator still loading (Kafka's producer ids, groups) is asked again.
            if not set(collect(a["body"]).values()) & RETRIABLE or time.time() > deadline:
                return a
            time.sleep(0.5)

    def topic_ids(self, names):
        """{"id:<key>": topic id} of these topics on this broker (Metadata as admin)."""
        body = self.admin(3, 12, {"topics": [{"name": n} for n in names.values()],
                                  "allowAutoTopicCreation": False}, "Metadata")
        by_name = {t["name"]: t["topicId"] for t in body["topics"]}
        return {f"id:{k}": by_name[n] for k, n in names.items() if n in by_name}

    def admin(self, api, version, body, what):
        a = self.request("admin", api, version, body)
        if not a.get("ok"):
            raise RuntimeError(f"{self.label}: {what}: {a.get('error')}")
        return a["body"]


def setup(side, all_cases, bindings, log):
    """Topics, groups (an offset committed by admin) and every ACL, as admin."""
    topics, groups = [], []
    for c in all_cases:
        for role in ROLES:
            names = c.names(role)
            if c.make_topics:
                topics += [(names[t], c.partitions) for t in c.topics]
            if c.make_groups:
                groups += [(names[g], names[c.topics[0]] if c.topics else None) for g in c.groups]
    for i in range(0, len(topics), 50):
        body = side.admin(19, 7, {"timeoutMs": 60000, "topics": [
            {"name": n, "numPartitions": p, "replicationFactor": 1} for n, p in topics[i:i + 50]]}, "CreateTopics")
        bad = [t for t in body["topics"] if t["errorCode"] not in (0, 36)]
        if bad:
            raise RuntimeError(f"{side.label}: CreateTopics: {bad[:3]}")
    commit_topic = f"matrix-commit-{side.label}"
    side.admin(19, 7, {"timeoutMs": 60000, "topics": [{"name": commit_topic, "numPartitions": 1,
                                                       "replicationFactor": 1}]}, "CreateTopics")
    # FindCoordinator makes Kafka create __consumer_offsets; until every group has one.
    deadline = time.time() + 60
    while groups:
        body = side.admin(10, 4, {"keyType": 0, "coordinatorKeys": [g for g, _ in groups]}, "FindCoordinator")
        if not set(collect(body).values()) - {0}:
            break
        if time.time() > deadline:
            raise RuntimeError(f"{side.label}: FindCoordinator: {body}")
        time.sleep(0.5)
    for g, t in groups:
        deadline = time.time() + 30  # until the new topics' metadata reaches the broker
        while True:
            body = side.admin(8, 8, {"groupId": g, "generationIdOrMemberEpoch": -1, "memberId": "", "topics": [
                {"name": t or commit_topic, "partitions": [{"partitionIndex": 0, "committedOffset": 0}]}]},
                f"OffsetCommit {g}")
            codes = set(collect(body).values())
            if not codes - {0}:
                break
            if time.time() > deadline:
                raise RuntimeError(f"{side.label}: OffsetCommit {g}: {body}")
            time.sleep(0.2)
    for i in range(0, len(bindings), 100):
        body = side.admin(30, 3, {"creations": [
            {"resourceType": t, "resourceName": n, "resourcePatternType": p, "principal": u, "host": "*",
             "operation": op, "permissionType": perm} for t, n, p, u, op, perm in bindings[i:i + 100]]}, "CreateAcls")
        bad = [r for r in body["results"] if r["errorCode"]]
        if bad:
            raise RuntimeError(f"{side.label}: CreateAcls: {bad[:3]}")
    # Until the broker applies every ACL (DescribeAcls answers from its image).
    deadline = time.time() + 60
    while True:
        body = side.admin(29, 3, {"resourceTypeFilter": 1, "resourceNameFilter": None, "patternTypeFilter": 1,
                                  "principalFilter": None, "hostFilter": None, "operation": 1,
                                  "permissionType": 1}, "DescribeAcls")
        n = sum(len(r["acls"]) for r in body["resources"])
        if n >= len(bindings):
            break
        if time.time() > deadline:
            raise RuntimeError(f"{side.label}: {n} of {len(bindings)} ACLs applied after 60 s")
        time.sleep(0.2)
    log(f"acls: {side.label}: {len(topics)} topics, {len(groups)} groups, {len(bindings)} ACLs")


def run(results, workdir, certs, classpath, log, only=None):
    """Starts Millrace and Kafka with the authorizer, runs the matrix, records one result
    per (case, role). `only`: case names to run (all by default)."""
    all_cases = [c for c in cases() if not only or c.name in only]
    bindings = acl_bindings(all_cases)
    text = jaas(users(all_cases))
    base = os.path.join(workdir, "acls")
    os.makedirs(base, exist_ok=True)
    millrace, kafka = SecureMillrace(base, certs), SecureKafka(base, certs)
    millrace.extra += ["--set", f"authorizer.class.name={AUTHORIZER}", "--set", f"super.users={SUPER_USERS}",
                       "--set", f"listener.name.sasl_ssl.plain.sasl.jaas.config={text}"]
    kafka.sets.update({"authorizer.class.name": AUTHORIZER, "super.users": SUPER_USERS,
                       "listener.name.sasl_ssl.plain.sasl.jaas.config": text})
    wire = Wire(classpath, os.path.join(base, "kafkawire.log"))
    started = []
    t0 = time.time()
    try:
        for b in (millrace, kafka):
            b.start()
            started.append(b)
        log(f"acls: both brokers up in {time.time() - t0:.0f}s")
        sides = [Side(millrace, wire, certs.path("ca.pem"), "millrace"),
                 Side(kafka, wire, certs.path("ca.pem"), "kafka")]
        for s in sides:
            setup(s, all_cases, bindings, log)
        served = {a["apiKey"]: (a["minVersion"], a["maxVersion"]) for a in sides[0].admin(
            18, 3, {"clientSoftwareName": "acl-matrix", "clientSoftwareVersion": "1"}, "ApiVersions")["apiKeys"]}
        denied_apis = set()
        if not only:  # every served API Kafka authorizes has a case
            missing = sorted(set(served) - NO_ACL - {c.api for c in all_cases})
            results.check("acls", "every served API has a case", not missing,
                          f"no case for API keys {missing}: add them to cases()")
        for i, c in enumerate(all_cases):
            lo, hi = served.get(c.api, (0, -1))
            if not lo <= c.version <= hi:
                results.add("acls", c.name, "SKIP", f"Millrace does not serve API {c.api} v{c.version}")
                continue
            for role in ROLES:
                names = c.names(role)
                got = [normalize(c, role, s.request(principal_of(i, role), c.api, c.version,
                                                    c.body({**names, **s.topic_ids(names)} if c.by_id else names)),
                                 names) for s in sides]
                m, k = got
                if role == "none" and authz_codes(m):
                    denied_apis.add(c.api)
                name = f"{c.name} as {role}"
                if "failed" in k:
                    results.add("acls", name, "FAIL", f"Kafka's answer could not be read: {k['failed']}")
                    continue
                if c.skip_allowed and role in ("literal", "prefixed", "super"):
                    results.add("acls", name, "SKIP", c.skip_allowed)
                    continue
                if c.allowed_differs and role in c.differs_for:
                    ok = authz_codes(m) == authz_codes(k) == {}
                    results.check("acls", name + " (allowed: no authorization error)", ok,
                                  f"{c.allowed_differs}; millrace {m} kafka {k}")
                    continue
                results.check("acls", name, m == k,
                              "" if m == k else f"millrace {json.dumps(m, sort_keys=True)}\n"
                                                f"kafka    {json.dumps(k, sort_keys=True)}")
        # Every API whose denial Millrace answered is in its denial counter (each denial
        # is logged and counted; the silent filters are not, so only answered denials count).
        with urllib.request.urlopen(f"http://127.0.0.1:{millrace.admin_port}/metrics", timeout=5) as r:
            counted = set(re.findall(r'millrace_authorization_denials_total\{api="([A-Za-z]+)"', r.read().decode()))
        uncounted = sorted(API_NAMES.get(a, str(a)) for a in denied_apis if API_NAMES.get(a, str(a)) not in counted)
        results.check("acls", "every API Millrace denied is in millrace_authorization_denials_total",
                      not uncounted, f"not counted: {uncounted}; counted: {sorted(counted)}")
        log(f"acls: {len(all_cases)} cases x {len(ROLES)} principals in {time.time() - t0:.0f}s")
    finally:
        wire.close()
        for b in started:
            try:
                b.stop()
            except Exception as e:  # noqa: BLE001 - report, then go on
                results.add("acls", f"{b.name} stops cleanly", "FAIL", str(e))
