// Page-cache probe and warm-up for sendfile (REVIEW C17, Kafka KAFKA-7504).
//
// sendfile(2) of pages that are not in the page cache waits for the disk on
// the calling thread; on an io thread that stalls every connection it serves.
// Connection::send_file first asks range_cached() (preadv2 with RWF_NOWAIT of
// a small probe at the start and at the end of the range: it fails with
// EAGAIN instead of reading from disk). If the range is cold it runs
// warm_range() on the broker's blocking pool, which reads the range into the
// page cache, and only then calls sendfile.
//
// Both are plain functions of an fd; they keep no state. range_cached() never
// blocks on the disk; warm_range() does and must not run on an io thread.
#pragma once

#include <cstdint>

namespace millrace::broker {

// True when the first and last kProbeBytes of [position, position+length)
// are in the page cache (or the kernel cannot tell: RWF_NOWAIT unsupported,
// then the caller proceeds as before). False only on EAGAIN or a short read
// the kernel reports as "would block".
bool range_cached(int fd, int64_t position, int64_t length);

// Reads [position, position+length) so its pages are in the page cache
// (posix_fadvise(WILLNEED) then pread in chunks into a scratch buffer).
// Blocks; errors are ignored (sendfile will report them).
void warm_range(int fd, int64_t position, int64_t length);

inline constexpr int64_t kProbeBytes = 4096;

}  // namespace millrace::broker
