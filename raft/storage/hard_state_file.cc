#include "raft/storage/hard_state_file.h"

#include <fcntl.h>

#include <algorithm>

#include "protocol/record/crc32c.h"
#include "protocol/wire/reader.h"
#include "protocol/wire/writer.h"
#include "storage/checkpoint.h"
#include "storage/index_file.h"

namespace millrace::raft {

using storage::Errc;
using storage::Result;
using storage::Status;

namespace {

bool in_range(const HardState& hs) { return hs.term.value() >= 0 && hs.vote.value() >= -1 && hs.commit.value() >= -1; }

enum class Slot { kEmpty, kTorn, kValid };

// One version 2 slot at bytes[at, at + 32).
Slot decode_slot(const std::vector<uint8_t>& bytes, size_t at, StoredHardState& out) {
  const uint8_t* p = bytes.data() + at;
  if (std::all_of(p, p + kHardStateSlotSize, [](uint8_t b) { return b == 0; })) return Slot::kEmpty;
  wire::Reader r(std::span<const uint8_t>(p, kHardStateSlotSize));
  const uint8_t version = r.uint8();
  r.uint8();
  r.uint8();
  r.uint8();
  out.seq = static_cast<uint64_t>(r.int64());
  out.state.term = Term(r.int32());
  out.state.vote = NodeId(r.int32());
  out.state.commit = Index(r.int64());
  const uint32_t stored = r.uint32();
  if (version != kHardStateVersion || record::crc32c(0, p, kHardStateSlotSize - 4) != stored) return Slot::kTorn;
  return Slot::kValid;
}

}  // namespace

std::vector<uint8_t> encode_hard_state_v1(const HardState& hs) {
  std::vector<uint8_t> out;
  wire::Writer w(out);
  w.uint8(kHardStateVersion1);
  w.int32(hs.term.value());
  w.int32(hs.vote.value());
  w.int64(hs.commit.value());
  w.uint32(record::crc32c(0, out.data(), out.size()));
  return out;
}

std::vector<uint8_t> encode_hard_state_slot(const HardState& hs, uint64_t seq) {
  std::vector<uint8_t> out;
  wire::Writer w(out);
  w.uint8(kHardStateVersion);
  w.uint8(0);
  w.uint8(0);
  w.uint8(0);
  w.int64(static_cast<int64_t>(seq));
  w.int32(hs.term.value());
  w.int32(hs.vote.value());
  w.int64(hs.commit.value());
  w.uint32(record::crc32c(0, out.data(), out.size()));
  return out;
}

std::vector<uint8_t> encode_hard_state(const HardState& hs, uint64_t seq) {
  std::vector<uint8_t> out(kHardStateFileSize, 0);
  auto slot = encode_hard_state_slot(hs, seq);
  std::copy(slot.begin(), slot.end(), out.begin() + static_cast<ptrdiff_t>((seq % 2) * kHardStateSlotStride));
  return out;
}

Result<StoredHardState> decode_hard_state(const std::vector<uint8_t>& bytes, const std::string& what) {
  auto bad = [&](const std::string& problem) {
    std::string m = what;
    m.append(": ");
    m.append(problem);
    return Status(Errc::kCorruptSegment, m);
  };
  if (bytes.empty()) return bad("empty file");
  // The size tells the versions apart (a torn slot may hold any first byte).
  if (bytes.size() == kHardStateFileSize) {
    StoredHardState slots[2];
    Slot kind[2] = {decode_slot(bytes, 0, slots[0]), decode_slot(bytes, kHardStateSlotStride, slots[1])};
    int best = -1;
    for (int i = 0; i < 2; ++i)
      if (kind[i] == Slot::kValid && (best < 0 || slots[i].seq > slots[best].seq)) best = i;
    if (best < 0) {
      if (kind[0] == Slot::kEmpty && kind[1] == Slot::kEmpty) return bad("no slot written");
      return bad("checksum mismatch in every written slot");
    }
    if (!in_range(slots[best].state)) return bad("field out of range");
    return slots[best];
  }
  // A version 2 file starts with its first slot: version 2, or zeros when unwritten.
  if (bytes[0] == kHardStateVersion || bytes[0] == 0)
    return bad("size " + std::to_string(bytes.size()) + ", version 2 has " + std::to_string(kHardStateFileSize));
  if (bytes[0] != kHardStateVersion1) return bad("unknown version " + std::to_string(bytes[0]));
  if (bytes.size() != kHardStateFileSizeV1)
    return bad("size " + std::to_string(bytes.size()) + ", version 1 has " + std::to_string(kHardStateFileSizeV1));
  wire::Reader r(bytes);
  r.uint8();
  StoredHardState out;
  out.state.term = Term(r.int32());
  out.state.vote = NodeId(r.int32());
  out.state.commit = Index(r.int64());
  const uint32_t stored = r.uint32();
  if (record::crc32c(0, bytes.data(), kHardStateFileSizeV1 - 4) != stored) return bad("checksum mismatch");
  if (!in_range(out.state)) return bad("field out of range");
  return out;
}

Result<HardState> HardStateFile::read() const {
  auto bytes = storage::read_whole_file(path_, env_);
  if (!bytes.ok()) {
    if (bytes.code() == Errc::kNotFound) return HardState{};
    return bytes.status();
  }
  auto hs = decode_hard_state(*bytes, path_.string());
  if (!hs.ok()) return hs.status();
  written_ = hs->state;
  seq_ = hs->seq;  // 0 for version 1: the next write makes a version 2 file
  return hs->state;
}

Status HardStateFile::write(const HardState& hs) {
  const uint64_t seq = seq_ + 1;
  if (seq_ == 0) {
    // No version 2 file yet: create it whole, atomically.
    if (Status st = storage::write_file_atomic(path_, encode_hard_state(hs, seq), env_); !st.ok()) return st;
  } else {
    // The older slot, in place; the newer one keeps the state until this is durable.
    auto slot = encode_hard_state_slot(hs, seq);
    int fd = env_->open(path_.c_str(), O_RDWR | O_CLOEXEC, 0);
    if (fd < 0) return storage::io_error("open " + path_.string(), errno);
    const off_t at = static_cast<off_t>((seq % 2) * kHardStateSlotStride);
    ssize_t n = env_->pwrite(fd, slot.data(), slot.size(), at);
    int err = n < 0 ? errno : 0;
    Status st;
    if (n != static_cast<ssize_t>(slot.size()))
      st = storage::io_error("write " + path_.string(), n < 0 ? err : EIO);
    else if (env_->fdatasync(fd) != 0)
      st = storage::io_error("fdatasync " + path_.string(), errno);
    env_->close(fd);
    if (!st.ok()) return st;
  }
  seq_ = seq;
  written_ = hs;
  return Status::Ok();
}

}  // namespace millrace::raft
