#!/usr/bin/env python3
"""Compatibility regression cases of issue 13, run against Millrace and Apache
Kafka 4.1.1 side by side. Each case states what Kafka answers; the case fails
on a broker that answers otherwise. Every case runs and every failure is
reported (the suite exits non-zero if any case failed on any broker).

Runs under the venv python of tests/interop/current-librdkafka, so the
confluent_kafka module here bundles a current librdkafka (>= 2.1, the clients
of the Metadata trailing-bytes defect); kcat is Debian's librdkafka 2.0.2.
Cases that speak the wire by hand use kwire.py.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
from brokers import KafkaBroker, MillraceBroker  # noqa: E402
import kwire as w  # noqa: E402

CASES = []


def case(fn):
    CASES.append(fn)
    return fn


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def admin(b):
    """One AdminClient per broker (it must outlive the futures it returns)."""
    from confluent_kafka.admin import AdminClient
    if getattr(b, "_admin_for", None) != b.bootstrap:
        b._admin, b._admin_for = AdminClient({"bootstrap.servers": b.bootstrap}), b.bootstrap
    return b._admin


def create_topic(b, name, partitions=1, config=None):
    from confluent_kafka.admin import NewTopic
    fs = admin(b).create_topics([NewTopic(name, partitions, 1, config=config or {})], operation_timeout=30)
    fs[name].result(30)


def unique(prefix):
    unique.n = getattr(unique, "n", 0) + 1
    return f"{prefix}-{os.getpid()}-{unique.n}"


# --- 1. Metadata with bytes after the body -------------------------------------------

def metadata_v12_all_topics(trailing=b""):
    body = w.uvarint(0) + w.boolean(False) + w.boolean(False) + w.TAGS  # topics null: all
    return body + trailing


def parse_metadata_brokers_and_topics(r, version):
    r.i32()  # throttle
    brokers = r.array(lambda r: (r.i32(), r.string(), r.i32(), r.string(), r.tags()))
    cluster_id = r.string()
    r.i32()  # controller
    def partition(r):
        p = (r.i16(), r.i32(), r.i32(), r.i32(), r.array(lambda r: r.i32()), r.array(lambda r: r.i32()),
             r.array(lambda r: r.i32()))
        r.tags()
        return p
    def topic(r):
        err, name = r.i16(), r.string()
        if version >= 10:
            r.uuid()
        r.boolean()
        parts = r.array(partition)
        ops = r.i32() if version >= 8 else None
        r.tags()
        return {"error": err, "name": name, "partitions": parts, "ops": ops}
    topics = r.array(topic)
    cluster_ops = r.i32() if 8 <= version <= 10 else None
    r.tags()
    return {"brokers": brokers, "cluster_id": cluster_id, "topics": topics, "cluster_ops": cluster_ops}


@case
def metadata_trailing_bytes(b):
    """librdkafka >= 2.1 sends Metadata v12 (all topics) with 3 bytes after the body:
    Kafka answers it; so must Millrace."""
    r = w.roundtrip(b.bootstrap, 3, 12, metadata_v12_all_topics(b"\x00\x00\x00"), flex=True)
    check(r is not None, "connection closed instead of a Metadata answer")
    md = parse_metadata_brokers_and_topics(r, 12)
    check(len(md["brokers"]) == 1, f"brokers {md['brokers']}")


@case
def metadata_truncated_body_closes(b):
    """Strict inside the body: a topic name whose length runs past the frame is not
    answered (Kafka closes the connection)."""
    body = w.uvarint(2) + b"\x00" * 16 + w.uvarint(40) + b"short"
    r = w.roundtrip(b.bootstrap, 3, 12, body, flex=True)
    check(r is None, "a Metadata request with a string past the frame was answered")


@case
def current_librdkafka_lists_topics(b):
    """confluent-kafka with a current librdkafka: list_topics() (all topics) answers."""
    name = unique("compat-list")
    create_topic(b, name)
    # Kafka's brokers learn a new topic from the metadata log a moment after
    # CreateTopics answers (a run saw an empty list): ask again for a while,
    # as a client would; Millrace lists it at once.
    deadline = time.monotonic() + 15
    while True:
        md = admin(b).list_topics(timeout=15)
        if name in md.topics or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    check(name in md.topics, f"{name} not in list_topics(): {sorted(md.topics)[:10]}")


@case
def kcat_lists_metadata(b):
    """kcat -L (Debian librdkafka 2.0.2) lists the brokers."""
    p = subprocess.run(["kcat", "-b", b.bootstrap, "-L", "-m", "15"], capture_output=True, text=True, timeout=60)
    check(p.returncode == 0 and "1 brokers:" in p.stdout, f"kcat -L exited {p.returncode}: {p.stderr[-300:]}")


# --- 2. Topic configs Kafka 4.1 accepts ----------------------------------------------

# The 18 topic configs Millrace refused, with Kafka 4.1's defaults.
NEW_TOPIC_CONFIGS = {
    "compression.gzip.level": "-1", "compression.lz4.level": "9", "compression.zstd.level": "3",
    "file.delete.delay.ms": "60000", "follower.replication.throttled.replicas": "",
    "leader.replication.throttled.replicas": "", "local.retention.bytes": "-2", "local.retention.ms": "-2",
    "max.compaction.lag.ms": "9223372036854775807", "min.compaction.lag.ms": "0",
    "message.timestamp.after.max.ms": "3600000", "message.timestamp.before.max.ms": "9223372036854775807",
    "preallocate": "false", "remote.log.copy.disable": "false", "remote.log.delete.on.disable": "false",
    "remote.storage.enable": "false", "segment.jitter.ms": "0", "unclean.leader.election.enable": "false",
}


def create_error(b, config):
    """CreateTopics with `config`: the error string, or None when it was created."""
    try:
        create_topic(b, unique("compat-cfg"), config=config)
        return None
    except Exception as e:  # noqa: BLE001
        return str(e.args[0].str() if hasattr(e.args[0], "str") else e)


@case
def create_topic_with_every_kafka_config(b):
    """CreateTopics with each of the 18 keys at its default, one request for all."""
    err = create_error(b, NEW_TOPIC_CONFIGS)
    check(err is None, f"CreateTopics refused Kafka's defaults: {err}")


@case
def describe_reports_kafka_defaults(b):
    from confluent_kafka.admin import ConfigResource
    name = unique("compat-desc")
    create_topic(b, name)
    got = describe_topic(b, name)
    wrong = {k: (got[k].value if k in got else "missing") for k, v in NEW_TOPIC_CONFIGS.items()
             if k not in got or (got[k].value or "") != v}
    check(not wrong, f"DescribeConfigs differs from Kafka's defaults: {wrong}")


# Values Kafka refuses, with the start of its message.
BAD_CONFIG_VALUES = [
    ("compression.gzip.level", "10", "Invalid value 10 for configuration compression.gzip.level"),
    ("compression.lz4.level", "18", "Invalid value 18 for configuration compression.lz4.level"),
    ("compression.zstd.level", "23", "Invalid value 23 for configuration compression.zstd.level"),
    ("file.delete.delay.ms", "-1", "Invalid value -1 for configuration file.delete.delay.ms"),
    ("local.retention.ms", "-3", "Invalid value -3 for configuration local.retention.ms"),
    ("max.compaction.lag.ms", "0", "Invalid value 0 for configuration max.compaction.lag.ms"),
    ("min.compaction.lag.ms", "x", "Invalid value x for configuration min.compaction.lag.ms"),
    ("preallocate", "maybe", "Invalid value maybe for configuration preallocate"),
    ("leader.replication.throttled.replicas", "a:b", "Invalid value [a:b] for configuration leader.replication.throttled.replicas"),
    ("segment.bytes", "1", "Invalid value 1 for configuration segment.bytes"),
    ("no.such.config", "1", "Unknown topic config name: no.such.config"),
]


def describe_topic(b, name, timeout=20):
    """DescribeConfigs of a topic; retries while a new topic is not yet known
    (Kafka answers UNKNOWN_TOPIC_OR_PARTITION until its metadata propagated)."""
    from confluent_kafka.admin import ConfigResource
    deadline = time.time() + timeout
    while True:
        res = ConfigResource("TOPIC", name)
        try:
            return admin(b).describe_configs([res])[res].result(30)
        except Exception as e:  # noqa: BLE001
            if time.time() > deadline or e.args[0].code() != 3:
                raise
            time.sleep(0.2)


def describe_topic_until(b, name, ok, timeout=10):
    """describe_topic, again until ok(configs) holds or timeout seconds passed;
    the last answer either way (the caller's check names what is wrong)."""
    deadline = time.time() + timeout
    while True:
        got = describe_topic(b, name)
        if ok(got) or time.time() > deadline:
            return got
        time.sleep(0.1)


@case
def create_topic_refuses_bad_values_with_kafkas_message(b):
    wrong = []
    for key, value, want in BAD_CONFIG_VALUES:
        err = create_error(b, {key: value})
        if err is None or want not in err:
            wrong.append(f"{key}={value!r}: {err!r}")
    check(not wrong, "; ".join(wrong))


@case
def alter_configs_accepts_every_kafka_config(b):
    from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource
    name = unique("compat-alter")
    create_topic(b, name)
    entries = [ConfigEntry(k, "1" if k.endswith(".ms") and k != "min.compaction.lag.ms" else v,
                           incremental_operation=AlterConfigOpType.SET) for k, v in NEW_TOPIC_CONFIGS.items()]
    res = ConfigResource("TOPIC", name, incremental_configs=entries)
    admin(b).incremental_alter_configs([res])[res].result(30)
    # Kafka answers DescribeConfigs from the broker's metadata image, which may
    # trail the controller's commit by a moment: read until it shows the change.
    got = describe_topic_until(b, name, lambda g: g["file.delete.delay.ms"].value == "1")
    check(got["file.delete.delay.ms"].value == "1", f"file.delete.delay.ms after SET: {got['file.delete.delay.ms'].value}")
    # Non-incremental AlterConfigs (replaces the overrides).
    res = ConfigResource("TOPIC", name, set_config={"preallocate": "true", "segment.jitter.ms": "5"})
    admin(b).alter_configs([res])[res].result(30)
    got = describe_topic_until(b, name, lambda g: g["preallocate"].value == "true")
    check(got["preallocate"].value == "true" and got["file.delete.delay.ms"].value == "60000",
          f"after AlterConfigs: preallocate={got['preallocate'].value} "
          f"file.delete.delay.ms={got['file.delete.delay.ms'].value}")


@case
def alter_configs_unknown_topic_and_configs(b):
    """Kafka 4.1 checks config names and values first (INVALID_CONFIG with its message),
    then the topic: valid configs of a missing topic are UNKNOWN_TOPIC_OR_PARTITION."""
    from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource
    name = unique("compat-missing")
    wrong = []
    for key, value, want_code, want_msg in [
            ("no.such.config", "1", 40, "Unknown topic config name: no.such.config"),
            ("retention.ms", "x", 40, "Invalid value x for configuration retention.ms: Not a number of type LONG"),
            ("preallocate", "true", 3, ""), ("retention.ms", "1000", 3, "")]:
        for how in ("incremental", "alter"):
            if how == "incremental":
                res = ConfigResource("TOPIC", name, incremental_configs=[
                    ConfigEntry(key, value, incremental_operation=AlterConfigOpType.SET)])
                fut = admin(b).incremental_alter_configs([res])[res]
            else:
                res = ConfigResource("TOPIC", name, set_config={key: value})
                fut = admin(b).alter_configs([res])[res]
            try:
                fut.result(30)
                wrong.append(f"{how} {key}={value}: succeeded")
            except Exception as e:  # noqa: BLE001
                err = e.args[0]
                if err.code() != want_code or want_msg not in err.str():
                    wrong.append(f"{how} {key}={value}: {err}")
    check(not wrong, "; ".join(wrong))


# --- 3. Compacted topics refuse records without a key ----------------------------------

def produce_v8(b, topic, partition, batch):
    """Raw Produce v8 (acks=-1): (error_code, base_offset, record_errors, error_message)."""
    body = (w.string(None, False) + w.i16(-1) + w.i32(30000)
            + w.array([topic], False, lambda t: w.string(t, False) + w.array(
                [partition], False, lambda p: w.i32(p) + w.bytes_(batch, False))))
    r = w.roundtrip(b.bootstrap, 0, 8, body, flex=False)
    check(r is not None, "Produce v8: connection closed")
    def part(r):
        idx, err, base, _, _ = r.i32(), r.i16(), r.i64(), r.i64(), r.i64()
        errs = r.array(lambda r: (r.i32(), r.string()))
        return err, base, errs, r.string()
    topics = r.array(lambda r: (r.string(), r.array(part)))
    return topics[0][1][0]


def wait_leader(b, topic, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        md = admin(b).list_topics(topic, timeout=10)
        t = md.topics.get(topic)
        if t and not t.error and t.partitions and all(p.leader >= 0 for p in t.partitions.values()):
            return
        time.sleep(0.2)
    raise Fail(f"{topic} has no leader after {timeout}s")


@case
def compacted_topic_refuses_null_keys(b):
    name = unique("compat-compact")
    create_topic(b, name, config={"cleanup.policy": "compact"})
    wait_leader(b, name)
    batch = w.record_batch([(b"k0", b"v0", 0), (None, b"v1", 0), (b"k2", b"v2", 0), (None, b"v3", 0)])
    err, base, errs, msg = produce_v8(b, name, 0, batch)
    check(err == 87, f"error {err} (want INVALID_RECORD 87), message {msg!r}")
    check([i for i, _ in errs] == [1, 3], f"record_errors {errs}")
    want = f"Compacted topic cannot accept message without key in topic partition {name}-0"
    check(all(m == want for _, m in errs), f"record_errors {errs} (Kafka: {want!r} each)")
    check(msg is not None and msg.startswith("One or more records have been rejected due to 2 record errors")
          and f"RecordError(batchIndex=3, message='{want}')" in msg, f"error_message {msg!r}")
    ok, base, errs, msg = produce_v8(b, name, 0, w.record_batch([(b"k", b"v", 0)]))
    check(ok == 0, f"a keyed record was refused: {ok} {msg}")


# --- 4. ListOffsets MAX_TIMESTAMP (-3) -------------------------------------------------

def list_offsets_v7(b, topic, partition, spec):
    body = (w.i32(-1) + w.i8(0) + w.array([topic], True, lambda t: w.string(t, True) + w.array(
        [partition], True, lambda p: w.i32(p) + w.i32(-1) + w.i64(spec) + w.TAGS) + w.TAGS) + w.TAGS)
    r = w.roundtrip(b.bootstrap, 2, 7, body, flex=True)
    check(r is not None, "ListOffsets v7: connection closed")
    r.i32()
    def part(r):
        out = (r.i32(), r.i16(), r.i64(), r.i64(), r.i32())
        r.tags()
        return out
    def top(r):
        t = (r.string(), r.array(part))
        r.tags()
        return t
    return r.array(top)[0][1][0]


@case
def list_offsets_max_timestamp_is_the_record(b):
    """KIP-734: -3 answers the offset and timestamp of the record with the largest
    timestamp, not the first offset of its batch."""
    name = unique("compat-maxts")
    create_topic(b, name)
    wait_leader(b, name)
    base = int(time.time() * 1000) - 60000
    produce_v8(b, name, 0, w.record_batch([(b"a", b"1", 0), (b"b", b"2", 10)], base_ts=base))
    produce_v8(b, name, 0, w.record_batch([(b"c", b"3", 0), (b"d", b"4", 300), (b"e", b"5", 200)], base_ts=base))
    _, err, ts, offset, _ = list_offsets_v7(b, name, 0, -3)
    check(err == 0 and (offset, ts) == (3, base + 300),
          f"MAX_TIMESTAMP: error {err}, offset {offset}, timestamp {ts} (want offset 3, timestamp {base + 300})")


# --- 5. Authorized operations without an authorizer ----------------------------------

TOPIC_OPS = {"READ", "WRITE", "CREATE", "DELETE", "ALTER", "DESCRIBE", "DESCRIBE_CONFIGS", "ALTER_CONFIGS"}
CLUSTER_OPS = {"CREATE", "CLUSTER_ACTION", "DESCRIBE_CONFIGS", "ALTER_CONFIGS", "IDEMPOTENT_WRITE", "ALTER",
               "DESCRIBE"}
ACL_CODES = {"READ": 3, "WRITE": 4, "CREATE": 5, "DELETE": 6, "ALTER": 7, "DESCRIBE": 8, "CLUSTER_ACTION": 9,
             "DESCRIBE_CONFIGS": 10, "ALTER_CONFIGS": 11, "IDEMPOTENT_WRITE": 12}


def bits(ops):
    return sum(1 << ACL_CODES[o] for o in ops)


@case
def metadata_reports_all_operations(b):
    """Metadata v10 with both include flags: every topic and cluster operation."""
    name = unique("compat-ops")
    create_topic(b, name)
    wait_leader(b, name)
    body = (w.array([name], True, lambda t: b"\x00" * 16 + w.string(t, True) + w.TAGS)
            + w.boolean(False) + w.boolean(True) + w.boolean(True) + w.TAGS)
    r = w.roundtrip(b.bootstrap, 3, 10, body, flex=True)
    check(r is not None, "Metadata v10: connection closed")
    md = parse_metadata_brokers_and_topics(r, 10)
    check(md["cluster_ops"] == bits(CLUSTER_OPS), f"cluster_authorized_operations {md['cluster_ops']}, "
          f"want {bits(CLUSTER_OPS)}")
    check(md["topics"][0]["ops"] == bits(TOPIC_OPS), f"topic_authorized_operations {md['topics'][0]['ops']}, "
          f"want {bits(TOPIC_OPS)}")


@case
def admin_describe_reports_all_operations(b):
    """confluent-kafka describe_cluster / describe_topics with include_authorized_operations."""
    from confluent_kafka import TopicCollection
    name = unique("compat-ops")
    create_topic(b, name)
    wait_leader(b, name)
    c = admin(b).describe_cluster(include_authorized_operations=True).result(30)
    got = {op.name for op in (c.authorized_operations or [])}
    check(got == CLUSTER_OPS, f"cluster operations {sorted(got)}")
    fs = admin(b).describe_topics(TopicCollection([name]), include_authorized_operations=True)
    t = fs[name].result(30)
    got = {op.name for op in (t.authorized_operations or [])}
    check(got == TOPIC_OPS, f"topic operations {sorted(got)}")


# --- 6. Transactional clients fail fast while Millrace has no transactions -----------

def java_txn(b, txn_id):
    """Runs Txn.java (initTransactions); returns (outcome line, seconds)."""
    peers = os.path.join(os.environ["MILLRACE_SOURCE"], "tests", "peers")
    cp = subprocess.run([os.path.join(peers, "kafka"), "classpath"], check=True, capture_output=True,
                        text=True).stdout.strip()
    cache = os.path.join(os.environ.get("MILLRACE_CACHE", os.path.expanduser("~/.cache/millrace")), "compat-java")
    src = os.path.join(HERE, "Txn.java")
    if not os.path.exists(os.path.join(cache, "Txn.class")) or \
            os.path.getmtime(os.path.join(cache, "Txn.class")) < os.path.getmtime(src):
        os.makedirs(cache, exist_ok=True)
        subprocess.run(["javac", "-d", cache, "-cp", cp, src], check=True)
    p = subprocess.run(["java", "-Xmx256m", "-cp", f"{cache}:{cp}", "Txn", b.bootstrap, txn_id],
                       capture_output=True, text=True, timeout=120)
    lines = p.stdout.strip().splitlines()
    check(len(lines) >= 2, f"Txn.java printed {p.stdout!r}; stderr {p.stderr[-300:]!r}")
    return lines[-2], float(lines[-1].split()[1])


def librdkafka_txn(b, txn_id):
    """init_transactions() through the current librdkafka: (outcome, seconds, fatal)."""
    from confluent_kafka import KafkaException, Producer
    p = Producer({"bootstrap.servers": b.bootstrap, "transactional.id": txn_id, "log_level": 2})
    t0 = time.time()
    try:
        p.init_transactions(30)
        return "ok", time.time() - t0, False
    except KafkaException as e:
        err = e.args[0]
        return f"error {err.name()}: {err.str()}", time.time() - t0, err.fatal() or not err.retriable()


@case
def transactional_client_fails_fast(b):
    """Kafka: initTransactions succeeds. Millrace (no transactions yet): both clients fail
    at once (well under their 30 s timeouts) with a non-retriable error that says why."""
    outcome, secs, final = librdkafka_txn(b, unique("compat-txn"))
    joutcome, jsecs = java_txn(b, unique("compat-txn-java"))
    if b.name == "kafka":
        check(outcome == "ok" and joutcome == "ok", f"librdkafka: {outcome}; Java: {joutcome}")
        return
    check(outcome != "ok" and secs < 10 and final, f"librdkafka: {outcome} after {secs:.1f}s (final={final})")
    check(joutcome != "ok" and jsecs < 10, f"Java: {joutcome} after {jsecs:.1f}s")
    print(f"       librdkafka: {outcome} ({secs:.1f}s); Java: {joutcome} ({jsecs:.1f}s)")


def kafka_tool(main_class, *args):
    """One of Kafka's command-line tools by its class: (exit code, stdout + stderr)."""
    peers = os.path.join(os.environ["MILLRACE_SOURCE"], "tests", "peers")
    cp = subprocess.run([os.path.join(peers, "kafka"), "classpath"], check=True, capture_output=True,
                        text=True).stdout.strip()
    p = subprocess.run(["java", "-Xmx256m", "-cp", cp, main_class] + list(args),
                       capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout + p.stderr


@case
def describe_producers_lists_idempotent_producers(b):
    """kafka-transactions.sh describe-producers (DescribeProducers): Kafka lists the
    idempotent producer that wrote the partition, with its epoch and last sequence
    (10 records one by one: 9), no coordinator epoch and no open transaction. (An
    unknown partition is not asked: the tool waits out its admin timeout, a minute.)"""
    from confluent_kafka import Producer
    topic = unique("compat-producers")
    create_topic(b, topic)
    p = Producer({"bootstrap.servers": b.bootstrap, "enable.idempotence": True, "linger.ms": 0})
    for i in range(10):
        p.produce(topic, f"v{i}".encode(), partition=0)
        p.flush(30)
    rc, out = kafka_tool("org.apache.kafka.tools.TransactionsCommand", "--bootstrap-server", b.bootstrap,
                         "describe-producers", "--topic", topic, "--partition", "0")
    check(rc == 0, f"describe-producers exit {rc}: {out[-400:]!r}")
    lines = [ln.split() for ln in out.strip().splitlines()]
    check(len(lines) == 2 and lines[0][:3] == ["ProducerId", "ProducerEpoch", "LatestCoordinatorEpoch"],
          f"one producer under Kafka's header: {out!r}")
    row = dict(zip(lines[0], lines[1]))
    check(row.get("LastSequence") == "9" and row.get("LatestCoordinatorEpoch") == "-1"
          and row.get("CurrentTransactionStartOffset") == "None" and int(row.get("ProducerId", "-1")) >= 0,
          f"the producer's row: {row}")
    print(f"       {' '.join(lines[1])}")


@case
def features_describe_and_refused_updates(b):
    """kafka-features.sh: describe lists metadata.version finalized at 4.1-IV1 (the
    level whose records both brokers write) with an epoch; upgrading a feature past
    what the controller supports fails with "only supports versions", exit non-zero;
    a dry-run upgrade of metadata.version to the level it has is accepted."""
    tool = "org.apache.kafka.tools.FeatureCommand"
    rc, out = kafka_tool(tool, "--bootstrap-server", b.bootstrap, "describe")
    check(rc == 0, f"describe exit {rc}: {out[-300:]!r}")
    rows = {ln.split("\t")[0]: dict(kv.split(": ", 1) for kv in ln.split("\t")[1:])
            for ln in out.splitlines() if ln.startswith("Feature: ")}
    mv = rows.get("Feature: metadata.version", {})
    check(mv.get("FinalizedVersionLevel") == "4.1-IV1" and mv.get("SupportedMaxVersion") == "4.1-IV1"
          and mv.get("Epoch", "-").isdigit(), f"metadata.version: {mv} (all: {list(rows)})")
    check("Feature: transaction.version" in rows and "Feature: group.version" in rows,
          f"transaction.version and group.version listed: {list(rows)}")
    rc, out = kafka_tool(tool, "--bootstrap-server", b.bootstrap, "upgrade", "--feature", "transaction.version=5")
    check(rc != 0 and "only supports versions" in out, f"transaction.version=5: exit {rc}: {out[-300:]!r}")
    rc, out = kafka_tool(tool, "--bootstrap-server", b.bootstrap, "upgrade", "--feature", "metadata.version=27",
                         "--dry-run")
    check(rc == 0, f"metadata.version=27 --dry-run: exit {rc}: {out[-300:]!r}")
    print(f"       metadata.version {mv}; transaction.version {rows['Feature: transaction.version']}")


@case
def consumer_groups_list_with_types(b):
    """kafka-consumer-groups.sh --list --type (ListGroups v5): a group a classic
    consumer made is listed with type Classic; --type consumer lists it not,
    --type classic does."""
    from confluent_kafka import Consumer
    topic, group = unique("compat-types"), unique("compat-types-group")
    create_topic(b, topic)
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": group, "auto.offset.reset": "earliest"})
    c.subscribe([topic])
    deadline = time.time() + 30
    while time.time() < deadline and not c.assignment():
        c.poll(0.5)
    c.close()
    tool = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"
    seen = {}
    for types in ([], ["classic"], ["consumer"]):
        args = ["--bootstrap-server", b.bootstrap, "--list", "--type"] + types
        rc, out = kafka_tool(tool, *args)
        check(rc == 0, f"--list --type {' '.join(types)}: exit {rc}: {out[-300:]!r}")
        seen[" ".join(types) or "all"] = [ln.split() for ln in out.splitlines() if ln.startswith(group)]
    check(seen["all"] == [[group, "Classic"]], f"--list --type: {seen['all']}")
    check(seen["classic"] == [[group, "Classic"]], f"--list --type classic: {seen['classic']}")
    check(seen["consumer"] == [], f"--list --type consumer: {seen['consumer']}")


# --- 7. Fetch respects max_bytes -----------------------------------------------------

def fetch_v4(b, topic, partitions, max_bytes, partition_max_bytes):
    """Raw Fetch v4 from offset 0: {partition: (error, records bytes)}."""
    body = (w.i32(-1) + w.i32(100) + w.i32(1) + w.i32(max_bytes) + w.i8(0)
            + w.array([topic], False, lambda t: w.string(t, False) + w.array(
                partitions, False, lambda p: w.i32(p) + w.i64(0) + w.i32(partition_max_bytes))))
    r = w.roundtrip(b.bootstrap, 1, 4, body, flex=False)
    check(r is not None, "Fetch v4: connection closed")
    r.i32()
    def part(r):
        p, err, _, _ = r.i32(), r.i16(), r.i64(), r.i64()
        r.array(lambda r: (r.i64(), r.i64()))
        return p, (err, r.bytes() or b"")
    out = {}
    for _, parts in r.array(lambda r: (r.string(), r.array(part))):
        out.update(dict(parts))
    return out


def whole_batches(records):
    n, pos = 0, 0
    while pos + 12 <= len(records):
        size = 12 + int.from_bytes(records[pos + 8:pos + 12], "big")
        if pos + size > len(records):
            break
        n, pos = n + 1, pos + size
    return n


BIG = 900 * 1024


@case
def fetch_max_bytes_one_partition(b):
    """Two 0.9 MB batches, max_bytes 1 MB: one batch (Kafka may add a partial tail,
    which clients drop; never a second whole batch past the limit)."""
    name = unique("compat-fetch1")
    create_topic(b, name, config={"max.message.bytes": str(2 * BIG)})
    wait_leader(b, name)
    for i in range(2):
        produce_v8(b, name, 0, w.record_batch([(b"k%d" % i, os.urandom(BIG), 0)]))
    got = fetch_v4(b, name, [0], 1024 * 1024, 1024 * 1024)
    err, recs = got[0]
    check(err == 0 and whole_batches(recs) == 1 and len(recs) <= 1024 * 1024,
          f"error {err}, {len(recs)} bytes, {whole_batches(recs)} whole batches (want 1, <= 1 MiB)")


@case
def fetch_max_bytes_across_partitions(b):
    """One 0.9 MB batch in each of two partitions, max_bytes 1 MB: only the first
    partition's batch is whole; only a response's first batch may exceed the limit."""
    name = unique("compat-fetch2")
    create_topic(b, name, partitions=2, config={"max.message.bytes": str(2 * BIG)})
    wait_leader(b, name)
    for p in range(2):
        produce_v8(b, name, p, w.record_batch([(b"k", os.urandom(BIG), 0)]))
    got = fetch_v4(b, name, [0, 1], 1024 * 1024, 1024 * 1024)
    total = sum(len(r) for _, r in got.values())
    batches = sum(whole_batches(r) for _, r in got.values())
    check(batches == 1 and total <= 1024 * 1024, f"{total} bytes, {batches} whole batches (want 1, <= 1 MiB)")
    # partition_max_bytes below the first batch: the first partition still gets it whole.
    got = fetch_v4(b, name, [0, 1], 10 * 1024 * 1024, 100 * 1024)
    check(whole_batches(got[0][1]) == 1 and whole_batches(got[1][1]) == 0,
          f"partition_max_bytes 100 KiB: {[(len(r), whole_batches(r)) for _, r in got.values()]}")


# -----------------------------------------------------------------------------------------

def run_cases(broker, selected):
    failures = {}
    for fn in CASES:
        if selected and fn.__name__ not in selected:
            continue
        t0 = time.time()
        try:
            fn(broker)
            print(f"  ok   {broker.name:8} {fn.__name__} ({time.time() - t0:.1f}s)", flush=True)
        except Fail as e:
            failures[fn.__name__] = str(e)
            print(f"  FAIL {broker.name:8} {fn.__name__}: {e}", flush=True)
        except Exception as e:  # noqa: BLE001 - report every case
            failures[fn.__name__] = f"{type(e).__name__}: {e}"
            print(f"  FAIL {broker.name:8} {fn.__name__}: {type(e).__name__}: {e}", flush=True)
            traceback.print_exc(limit=3)
        if getattr(broker, "dead", lambda: None)():
            failures[fn.__name__] = failures.get(fn.__name__, "") + " / " + broker.dead()
            broker.stop()
            broker.start()
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--against", choices=["millrace", "kafka", "both"], default="both")
    ap.add_argument("--cases", default="")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    selected = {c for c in args.cases.split(",") if c}
    unknown = selected - {fn.__name__ for fn in CASES}
    if unknown:
        sys.exit(f"unknown cases: {', '.join(sorted(unknown))}")
    workdir = tempfile.mkdtemp(prefix="millrace-compat-")
    kinds = ["kafka", "millrace"] if args.against == "both" else [args.against]
    all_failures = {}
    for kind in kinds:
        broker = (KafkaBroker if kind == "kafka" else MillraceBroker)(workdir)
        print(f"[compat] starting {kind}", flush=True)
        try:
            broker.start()
            for name, msg in run_cases(broker, selected).items():
                all_failures[f"{kind}: {name}"] = msg
        finally:
            broker._admin = broker._admin_for = None  # the client goes before its broker
            try:
                broker.stop()
            except Exception as e:  # noqa: BLE001
                all_failures[f"{kind}: stop"] = str(e)
    print(f"\n=== compat: {len(all_failures)} failed ===")
    for k, v in all_failures.items():
        print(f"FAIL {k}: {v}")
    if all_failures or args.keep:
        print(f"work dir kept: {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if all_failures else 0


if __name__ == "__main__":
    sys.exit(main())
