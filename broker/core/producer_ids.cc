#include "broker/core/producer_ids.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace millrace::broker {

std::string ProducerIds::load() {
  std::lock_guard lock(mu_);
  std::ifstream in(file_);
  if (in) {
    std::string version;
    int64_t start = 0;
    if (!(in >> version >> start) || version != "v1" || start < 0)
      return "cannot parse " + file_.string() + " (expected 'v1 <number>')";
    next_ = block_end_ = start;
  }
  return {};
}

bool ProducerIds::persist(int64_t block_end) {
  auto tmp = file_;
  tmp += ".tmp";
  std::string text = "v1 " + std::to_string(block_end) + "\n";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return false;
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return false;
  return std::rename(tmp.c_str(), file_.c_str()) == 0;
}

int64_t ProducerIds::next() {
  std::lock_guard lock(mu_);
  if (next_ >= block_end_) {
    if (!persist(block_end_ + kBlockSize)) return -1;
    block_end_ += kBlockSize;
  }
  return next_++;
}

}  // namespace millrace::broker
