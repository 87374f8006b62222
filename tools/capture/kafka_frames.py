"""Kafka request framing, as far as the capture tool needs it (Python 3 stdlib).

Wire layout of one request on a Kafka connection (all integers big-endian):

    +----------------+--------------------------------------------------------+
    | size: int32    | header + body (size bytes)                             |
    +----------------+--------------------------------------------------------+
    header v1: api_key int16 | api_version int16 | correlation_id int32 |
               client_id nullable string (int16 length, -1 = null)
    header v2: header v1 followed by tagged fields (uvarint count, then
               uvarint tag | uvarint size | bytes, per field)

A golden file holds exactly "header + body" (the size prefix is dropped).

Produce body (the only body read here, to tell which codec a frame carries):
    v3-v8:  transactional_id nullable string | acks int16 | timeout_ms int32 |
            topics [name string | partitions [index int32 | records nullable bytes]]
    v9+:    the same with compact strings/arrays/bytes (uvarint length + 1) and
            tagged fields after each struct.
ApiVersions response (always response header v0, whatever the request version):
    correlation_id int32 | error_code int16 |
    api_keys [api_key int16 | min_version int16 | max_version int16 | tags(v3+)] |
    throttle_time_ms int32 (v1+) | tags (v3+)      (array: int32 count, v3+ uvarint count+1)
Record batch v2: base_offset int64 | batch_length int32 | partition_leader_epoch int32 |
    magic int8 (=2) | crc uint32 | attributes int16 (bits 0-2: codec) | ...
"""
import struct

# API key -> name as in Kafka's JSON message definitions (without "Request").
API_NAMES = {
    0: "Produce", 1: "Fetch", 2: "ListOffsets", 3: "Metadata", 8: "OffsetCommit",
    9: "OffsetFetch", 10: "FindCoordinator", 11: "JoinGroup", 12: "Heartbeat",
    13: "LeaveGroup", 14: "SyncGroup", 15: "DescribeGroups", 16: "ListGroups",
    17: "SaslHandshake", 18: "ApiVersions", 19: "CreateTopics", 20: "DeleteTopics",
    21: "DeleteRecords", 22: "InitProducerId", 23: "OffsetForLeaderEpoch",
    24: "AddPartitionsToTxn", 25: "AddOffsetsToTxn", 26: "EndTxn", 27: "WriteTxnMarkers",
    28: "TxnOffsetCommit", 29: "DescribeAcls", 30: "CreateAcls", 31: "DeleteAcls",
    32: "DescribeConfigs", 33: "AlterConfigs", 34: "AlterReplicaLogDirs",
    35: "DescribeLogDirs", 36: "SaslAuthenticate", 37: "CreatePartitions",
    38: "CreateDelegationToken", 39: "RenewDelegationToken", 40: "ExpireDelegationToken",
    41: "DescribeDelegationToken", 42: "DeleteGroups", 43: "ElectLeaders",
    44: "IncrementalAlterConfigs", 45: "AlterPartitionReassignments",
    46: "ListPartitionReassignments", 47: "OffsetDelete", 48: "DescribeClientQuotas",
    49: "AlterClientQuotas", 50: "DescribeUserScramCredentials",
    51: "AlterUserScramCredentials", 55: "DescribeQuorum", 57: "UpdateFeatures",
    60: "DescribeCluster", 61: "DescribeProducers", 64: "UnregisterBroker",
    65: "DescribeTransactions", 66: "ListTransactions", 68: "ConsumerGroupHeartbeat",
    69: "ConsumerGroupDescribe", 71: "GetTelemetrySubscriptions", 72: "PushTelemetry",
    74: "ListClientMetricsResources", 75: "DescribeTopicPartitions",
}

CODECS = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}
PRODUCE_FIRST_FLEXIBLE = 9
PRODUCE_FIRST_TOPIC_ID = 13

# Highest version Millrace serves per API key (../shared/BRIEF.md range table).
# With --versions brief the proxy clamps the broker's ApiVersions response to these,
# so a client sends what it would send to Millrace.
BRIEF_MAX = {
    18: 3, 0: 9, 1: 12, 2: 7, 3: 12, 8: 8, 9: 8, 10: 4, 11: 9, 12: 4, 13: 5, 14: 5,
    15: 5, 16: 4, 19: 7, 20: 6, 21: 2, 22: 4, 23: 4, 32: 4, 33: 2, 44: 1, 37: 3,
    42: 2, 43: 2, 45: 0, 46: 0, 47: 0, 60: 1, 35: 4,
}


class FrameError(ValueError):
    """A frame that does not parse as a Kafka request."""


def parse_header(frame: bytes):
    """Return (api_key, api_version, correlation_id, client_id) of a request."""
    if len(frame) < 10:
        raise FrameError(f"frame of {len(frame)} bytes is shorter than a request header")
    api_key, version, corr, cid_len = struct.unpack_from(">hhih", frame, 0)
    client_id = None
    if cid_len >= 0:
        if 10 + cid_len > len(frame):
            raise FrameError("client_id runs past the frame")
        client_id = frame[10:10 + cid_len].decode("utf-8", "replace")
    return api_key, version, corr, client_id


def api_name(api_key: int) -> str:
    return API_NAMES.get(api_key, f"Api{api_key}")


class _Cursor:
    def __init__(self, data: bytes, pos: int):
        self.data, self.pos = data, pos

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise FrameError("field runs past the frame")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def int(self, fmt: str) -> int:
        size = struct.calcsize(fmt)
        return struct.unpack(">" + fmt, self.take(size))[0]

    def uvarint(self) -> int:
        shift = value = 0
        while True:
            b = self.take(1)[0]
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                return value
            shift += 7
            if shift > 35:
                raise FrameError("uvarint longer than 5 bytes")

    def skip_tags(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.take(self.uvarint())


def produce_codecs(frame: bytes):
    """Sorted codec names of the record batches in a Produce request (v3+)."""
    api_key, version, _, _ = parse_header(frame)
    if api_key != 0 or version < 3:
        return []
    flexible = version >= PRODUCE_FIRST_FLEXIBLE
    cid_len = struct.unpack_from(">h", frame, 8)[0]
    c = _Cursor(frame, 10 + max(cid_len, 0))
    if flexible:
        c.skip_tags()
        txn = c.uvarint() - 1
        c.take(max(txn, 0))
    else:
        txn = c.int("h")
        c.take(max(txn, 0))
    c.int("h"); c.int("i")  # acks, timeout
    codecs = set()
    ntopics = c.uvarint() - 1 if flexible else c.int("i")
    for _ in range(max(ntopics, 0)):
        if version >= PRODUCE_FIRST_TOPIC_ID:
            c.take(16)  # topic_id uuid replaces the name
        else:
            c.take(c.uvarint() - 1 if flexible else c.int("h"))
        nparts = c.uvarint() - 1 if flexible else c.int("i")
        for _ in range(max(nparts, 0)):
            c.int("i")
            size = c.uvarint() - 1 if flexible else c.int("i")
            records = c.take(size) if size > 0 else b""
            pos = 0
            while pos + 23 <= len(records):  # walk the batches
                batch_len = struct.unpack_from(">i", records, pos + 8)[0]
                if batch_len < 49:
                    raise FrameError(f"record batch length {batch_len} is too small")
                if records[pos + 16] == 2:
                    attrs = struct.unpack_from(">h", records, pos + 21)[0]
                    codecs.add(CODECS.get(attrs & 7, f"codec{attrs & 7}"))
                pos += 12 + batch_len
            if flexible:
                c.skip_tags()
        if flexible:
            c.skip_tags()
    return sorted(codecs)


def clamp_api_versions(frame: bytes, request_version: int, max_versions: dict) -> bytes:
    """Rewrite an ApiVersions response (without size prefix) in place so that no
    max_version exceeds max_versions[key]; sizes never change. Unknown keys stay."""
    out = bytearray(frame)
    c = _Cursor(frame, 4)
    if c.int("h") != 0:
        return frame
    flexible = request_version >= 3
    count = c.uvarint() - 1 if flexible else c.int("i")
    for _ in range(max(count, 0)):
        key = c.int("h")
        low = c.int("h")
        pos = c.pos
        high = c.int("h")
        if key in max_versions and high > max_versions[key]:
            struct.pack_into(">h", out, pos, max(low, max_versions[key]))
        if flexible:
            c.skip_tags()
    return bytes(out)
