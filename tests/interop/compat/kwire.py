"""Just enough of Kafka's wire format to send hand-built requests and read the
answers, for the compatibility cases (compat.py). Flexible versions (KIP-482)
use compact strings/arrays and tagged fields; helpers take `flex`."""
import socket
import struct
import sys
import os
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "broker", "testing"))
from frames import frame, recv_frame  # noqa: E402


def uvarint(n):
    out = b""
    while n >= 0x80:
        out += bytes([(n & 0x7F) | 0x80])
        n >>= 7
    return out + bytes([n])


def varint(n):
    return uvarint((n << 1) ^ (n >> 63))


def i8(v): return struct.pack(">b", v)
def i16(v): return struct.pack(">h", v)
def i32(v): return struct.pack(">i", v)
def i64(v): return struct.pack(">q", v)
def boolean(v): return b"\x01" if v else b"\x00"


def string(s, flex):
    if s is None:
        return uvarint(0) if flex else i16(-1)
    b = s.encode() if isinstance(s, str) else s
    return (uvarint(len(b) + 1) if flex else i16(len(b))) + b


def bytes_(b, flex):
    if b is None:
        return uvarint(0) if flex else i32(-1)
    return (uvarint(len(b) + 1) if flex else i32(len(b))) + b


def array(items, flex, enc=lambda x: x):
    if items is None:
        return uvarint(0) if flex else i32(-1)
    body = b"".join(enc(x) for x in items)
    return (uvarint(len(items) + 1) if flex else i32(len(items))) + body


TAGS = uvarint(0)  # no tagged fields


def request(api_key, version, corr, body, flex, client="compat"):
    """A framed request: header v2 (flexible) or v1, then body."""
    h = i16(api_key) + i16(version) + i32(corr) + string(client, False)
    if flex:
        h += TAGS
    return frame(h + body)


class Reader:
    def __init__(self, data, flex):
        self.d, self.p, self.flex = data, 0, flex

    def take(self, n):
        if self.p + n > len(self.d):
            raise ValueError(f"short read at {self.p}+{n} of {len(self.d)}")
        b = self.d[self.p:self.p + n]
        self.p += n
        return b

    def i8(self): return struct.unpack(">b", self.take(1))[0]
    def i16(self): return struct.unpack(">h", self.take(2))[0]
    def i32(self): return struct.unpack(">i", self.take(4))[0]
    def i64(self): return struct.unpack(">q", self.take(8))[0]
    def uuid(self): return self.take(16)
    def boolean(self): return self.take(1) != b"\x00"

    def uvarint(self):
        n = shift = 0
        while True:
            b = self.take(1)[0]
            n |= (b & 0x7F) << shift
            if not b & 0x80:
                return n
            shift += 7

    def varint(self):
        n = self.uvarint()
        return (n >> 1) ^ -(n & 1)

    def string(self):
        n = self.uvarint() - 1 if self.flex else self.i16()
        return None if n < 0 else self.take(n).decode()

    def bytes(self):
        n = self.uvarint() - 1 if self.flex else self.i32()
        return None if n < 0 else self.take(n)

    def array(self, fn):
        n = self.uvarint() - 1 if self.flex else self.i32()
        return None if n < 0 else [fn(self) for _ in range(n)]

    def tags(self):
        if self.flex:
            for _ in range(self.uvarint()):
                self.uvarint()
                self.take(self.uvarint())


def connect(bootstrap, timeout=15):
    host, port = bootstrap.rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=timeout)


def roundtrip(bootstrap, api_key, version, body, flex, resp_flex=None, corr=11):
    """Sends one request; returns a Reader positioned after the response header,
    or None when the broker closed the connection without an answer."""
    with connect(bootstrap) as s:
        s.sendall(request(api_key, version, corr, body, flex))
        resp = recv_frame(s)
    if resp is None:
        return None
    # ApiVersions answers with header v0 even at flexible versions.
    rflex = flex if resp_flex is None else resp_flex
    r = Reader(resp, rflex)
    if r.i32() != corr:
        raise ValueError("correlation id mismatch")
    if rflex and api_key != 18:
        r.tags()
    return r


def _crc_table():
    out = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        out.append(c)
    return out


_CRC = _crc_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def record_batch(records, base_ts=None):
    """A v2 record batch, uncompressed, no producer id. records: [(key, value, ts_delta)]
    (key None for a record without key)."""
    base_ts = int(time.time() * 1000) if base_ts is None else base_ts
    body = b""
    max_ts = base_ts
    for i, (k, v, dt) in enumerate(records):
        max_ts = max(max_ts, base_ts + dt)
        kb = varint(-1) if k is None else varint(len(k)) + k
        vb = varint(-1) if v is None else varint(len(v)) + v
        rec = b"\x00" + varint(dt) + varint(i) + kb + vb + varint(0)
        body += varint(len(rec)) + rec
    after_crc = (i16(0) + i32(len(records) - 1) + i64(base_ts) + i64(max_ts) + i64(-1) + i16(-1) + i32(-1)
                 + i32(len(records)) + body)
    crc = crc32c(after_crc)
    return i64(0) + i32(4 + 1 + 4 + len(after_crc)) + i32(-1) + i8(2) + struct.pack(">I", crc) + after_crc
