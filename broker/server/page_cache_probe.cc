#include "broker/server/page_cache_probe.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace millrace::broker {

namespace {
// One RWF_NOWAIT read of up to kProbeBytes at `at`: false when it would block.
bool probe(int fd, int64_t at, int64_t n) {
  alignas(64) char buf[kProbeBytes];
  const int64_t want = std::min<int64_t>(n, kProbeBytes);
  iovec iov{buf, static_cast<size_t>(want)};
  for (;;) {
    ssize_t got = ::preadv2(fd, &iov, 1, static_cast<off_t>(at), RWF_NOWAIT);
    if (got == want) return true;
    if (got >= 0) {
      // Short: either the end of the file (sendfile reports that) or the
      // probe straddles a page that is not cached.
      struct stat st {};
      return ::fstat(fd, &st) != 0 || st.st_size <= at + got;
    }
    if (errno == EINTR) continue;
    return errno != EAGAIN;  // EOPNOTSUPP etc.: cannot tell, do as before
  }
}
}  // namespace

bool range_cached(int fd, int64_t position, int64_t length) {
  if (length <= 0) return true;
  if (!probe(fd, position, length)) return false;
  if (length <= kProbeBytes) return true;
  const int64_t tail = std::max(position, position + length - kProbeBytes);
  return probe(fd, tail, position + length - tail);
}

void warm_range(int fd, int64_t position, int64_t length) {
  if (length <= 0) return;
  (void)::posix_fadvise(fd, static_cast<off_t>(position), static_cast<off_t>(length), POSIX_FADV_WILLNEED);
  constexpr int64_t kChunk = 256 << 10;
  std::vector<char> buf(static_cast<size_t>(std::min(length, kChunk)));
  int64_t at = position;
  const int64_t end = position + length;
  while (at < end) {
    ssize_t got = ::pread(fd, buf.data(), static_cast<size_t>(std::min<int64_t>(end - at, kChunk)),
                          static_cast<off_t>(at));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return;
    at += got;
  }
}

}  // namespace millrace::broker
