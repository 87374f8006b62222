"""What a replica's segment files hold, read from disk without the broker: the
bytes of whole record batches in a partition directory's `.log` files (batch
headers walked, so preallocated space past the last batch is not counted; Kafka
and Millrace write the same batch format)."""
import os
import struct


def batch_bytes(partition_dir):
    """Sum of whole record batches (12-byte prefix + batch) over the directory's
    segment files; 0 when it does not exist."""
    total = 0
    try:
        names = sorted(f for f in os.listdir(partition_dir) if f.endswith(".log"))
    except OSError:
        return 0
    for f in names:
        try:
            fd = os.open(os.path.join(partition_dir, f), os.O_RDONLY)
        except OSError:
            continue  # deleted meanwhile (retention, a wiped replica)
        try:
            end, pos = os.fstat(fd).st_size, 0
            while pos + 12 <= end:
                size = struct.unpack(">i", os.pread(fd, 4, pos + 8))[0]
                if size <= 0 or pos + 12 + size > end:
                    break
                total += 12 + size
                pos += 12 + size
        finally:
            os.close(fd)
    return total
