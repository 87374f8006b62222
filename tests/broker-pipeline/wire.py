"""Just enough of the Kafka wire format to pipeline raw Produce v3 requests.

Produce v3 request (header v1): api_key int16 | api_version int16 | correlation_id int32 |
client_id string, then transactional_id nullable string | acks int16 | timeout_ms int32 |
[topic string | [partition int32 | records bytes]].
Produce v3 response (header v0): correlation_id int32, then [topic string | [partition int32 |
error_code int16 | base_offset int64 | log_append_time_ms int64]] | throttle_time_ms int32.
Record batch v2: base_offset int64 | length int32 | partition_leader_epoch int32 | magic int8 |
crc uint32 (CRC-32C of what follows) | attributes int16 | last_offset_delta int32 |
first_timestamp int64 | max_timestamp int64 | producer_id int64 | producer_epoch int16 |
base_sequence int32 | records_count int32 | records (zigzag varints).
"""
import socket
import struct
import time

from frames import frame, recv_frame  # noqa: F401 - broker/testing/frames.py; recv_frame is used by the suite


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def zigzag(n):
    return (n << 1) ^ (n >> 63)


def varint(n):
    n = zigzag(n)
    out = b""
    while n >= 0x80:
        out += bytes([(n & 0x7F) | 0x80])
        n >>= 7
    return out + bytes([n])


def record_batch(values):
    recs = b""
    for i, v in enumerate(values):
        body = bytes([0]) + varint(0) + varint(i) + varint(-1) + varint(len(v)) + v + varint(0)
        recs += varint(len(body)) + body
    now = int(time.time() * 1000)
    after_crc = struct.pack(">hiqqqhii", 0, len(values) - 1, now, now, -1, -1, -1, len(values)) + recs
    crc = crc32c(after_crc)
    length = 4 + 1 + 4 + len(after_crc)
    return struct.pack(">qiibI", 0, length, -1, 2, crc) + after_crc



def header(api_key, version, corr, client=b"pipeline"):
    return struct.pack(">hhih", api_key, version, corr, len(client)) + client


def produce_v3(corr, topic, partition, values, acks=-1):
    records = record_batch(values)
    body = struct.pack(">hhi", -1, acks, 30000)
    body += struct.pack(">i", 1) + struct.pack(">h", len(topic)) + topic.encode()
    body += struct.pack(">i", 1) + struct.pack(">ii", partition, len(records)) + records
    return frame(header(0, 3, corr) + body)


def api_versions_v0(corr):
    return frame(header(18, 0, corr))


def parse_produce_v3(resp):
    """-> (correlation_id, [(topic, partition, error_code, base_offset)])."""
    corr, ntopics = struct.unpack(">ii", resp[:8])
    pos, out = 8, []
    for _ in range(ntopics):
        (nlen,) = struct.unpack(">h", resp[pos:pos + 2])
        topic = resp[pos + 2:pos + 2 + nlen].decode()
        pos += 2 + nlen
        (nparts,) = struct.unpack(">i", resp[pos:pos + 4])
        pos += 4
        for _ in range(nparts):
            part, err, base, _append_time = struct.unpack(">ihqq", resp[pos:pos + 22])
            pos += 22
            out.append((topic, part, err, base))
    return corr, out


def connect(port, timeout=30):
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)



def abort(s):
    """Close with RST (SO_LINGER 0): the broker's next write fails at once."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
