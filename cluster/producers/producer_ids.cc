#include "cluster/producers/producer_ids.h"

#include <sstream>
#include <vector>

#include "protocol/wire/reader.h"
#include "protocol/wire/writer.h"
#include "storage/checkpoint.h"
#include "storage/index_file.h"

namespace millrace::cluster {

std::string ProducerIds::load() {
  std::lock_guard lock(mu_);
  auto bytes = storage::read_whole_file(file_, env_);
  if (!bytes.ok()) {
    if (bytes.code() == storage::Errc::kNotFound) return {};
    return "cannot read " + file_.string() + ": " + bytes.status().to_string();
  }
  int64_t start = -1;
  if (!bytes->empty() && (*bytes)[0] == 'v') {  // the text format before version 2
    std::istringstream in(std::string(bytes->begin(), bytes->end()));
    std::string version;
    if (!(in >> version >> start) || version != "v1" || start < 0)
      return "cannot parse " + file_.string() + " (expected 'v1 <number>')";
  } else {
    auto framed = storage::decode_framed(*bytes, "producer_id.block");
    if (!framed.ok()) return "cannot read " + file_.string() + ": " + framed.status().to_string();
    if (framed->version != kFileVersion || framed->payload.size() != 8)
      return "cannot read " + file_.string() + ": unknown version " + std::to_string(framed->version);
    wire::Reader r(framed->payload);
    start = r.int64();
    if (start < 0) return "cannot read " + file_.string() + ": negative block start";
  }
  next_ = block_end_ = file_next_ = start;
  return {};
}

bool ProducerIds::persist(int64_t block_end) {
  std::vector<uint8_t> payload;
  wire::Writer(payload).int64(block_end);
  return storage::write_file_atomic(file_, storage::encode_framed(kFileVersion, payload), env_).ok();
}

int64_t ProducerIds::next() {
  std::lock_guard lock(mu_);
  if (next_ >= block_end_ && source_) {
    const int64_t start = source_(kBlockSize);
    if (start < 0) return -1;
    next_ = start;
    block_end_ = start + kBlockSize;
  } else if (next_ >= block_end_) {
    if (!persist(block_end_ + kBlockSize)) return -1;
    block_end_ += kBlockSize;
  }
  return next_++;
}

}  // namespace millrace::cluster
