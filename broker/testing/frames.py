"""Kafka's frame on a raw socket, for suites that speak the wire by hand:
int32 size (big-endian), then that many bytes (request/response header + body)."""
import socket
import struct


def frame(payload):
    """payload with its int32 size prefix."""
    return struct.pack(">i", len(payload)) + payload


def recv_frame(s):
    """The next response after its size prefix, or None when the broker closed
    (or reset) the connection or the socket timed out."""
    def exact(n):
        buf = b""
        while len(buf) < n:
            chunk = s.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return buf
    try:
        size = exact(4)
        return None if size is None else exact(struct.unpack(">i", size)[0])
    except (ConnectionResetError, socket.timeout):
        return None
