#include "raft/storage/hard_state_file.h"

#include "protocol/record/crc32c.h"
#include "protocol/wire/reader.h"
#include "protocol/wire/writer.h"
#include "storage/checkpoint.h"
#include "storage/index_file.h"

namespace millrace::raft {

using storage::Errc;
using storage::Result;
using storage::Status;

std::vector<uint8_t> encode_hard_state(const HardState& hs) {
  std::vector<uint8_t> out;
  wire::Writer w(out);
  w.uint8(kHardStateVersion);
  w.int32(hs.term.value());
  w.int32(hs.vote.value());
  w.int64(hs.commit.value());
  w.uint32(record::crc32c(0, out.data(), out.size()));
  return out;
}

Result<HardState> decode_hard_state(const std::vector<uint8_t>& bytes, const std::string& what) {
  auto bad = [&](const std::string& problem) {
    std::string m = what;
    m.append(": ");
    m.append(problem);
    return Status(Errc::kCorruptSegment, m);
  };
  if (bytes.empty()) return bad("empty file");
  // The version first: a file from a newer format may have another size.
  if (bytes[0] != kHardStateVersion) return bad("unknown version " + std::to_string(bytes[0]));
  if (bytes.size() != kHardStateFileSize)
    return bad("size " + std::to_string(bytes.size()) + ", version 1 has " + std::to_string(kHardStateFileSize));
  wire::Reader r(bytes);
  r.uint8();
  HardState hs;
  hs.term = Term(r.int32());
  hs.vote = NodeId(r.int32());
  hs.commit = Index(r.int64());
  const uint32_t stored = r.uint32();
  if (record::crc32c(0, bytes.data(), kHardStateFileSize - 4) != stored) return bad("checksum mismatch");
  if (hs.term.value() < 0 || hs.vote.value() < -1 || hs.commit.value() < -1) return bad("field out of range");
  return hs;
}

Result<HardState> HardStateFile::read() const {
  auto bytes = storage::read_whole_file(path_, env_);
  if (!bytes.ok()) {
    if (bytes.code() == Errc::kNotFound) return HardState{};
    return bytes.status();
  }
  auto hs = decode_hard_state(*bytes, path_.string());
  if (hs.ok()) written_ = *hs;
  return hs;
}

Status HardStateFile::write(const HardState& hs) {
  Status st = storage::write_file_atomic(path_, encode_hard_state(hs), env_);
  if (st.ok()) written_ = hs;
  return st;
}

}  // namespace millrace::raft
