#include "raft/storage/snapshot_file.h"

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

void put_config(wire::Writer& w, const std::vector<uint8_t>& bytes) {
  w.uint32(static_cast<uint32_t>(bytes.size()));
  w.bytes(bytes);
}

bool get_config(wire::Reader& r, std::vector<uint8_t>* bytes, Config* c) {
  uint32_t n = r.uint32();
  if (!r.ok() || n > r.remaining()) return false;
  auto s = r.bytes(n);
  bytes->assign(s.begin(), s.end());
  return Config::decode(*bytes, c);
}

}  // namespace

std::vector<uint8_t> encode_snapshot_file(const SnapshotFileContent& c) {
  std::vector<uint8_t> out;
  wire::Writer w(out);
  w.uint8(kSnapshotFileVersion);
  w.int64(c.base.index.value());
  w.int32(c.base.term.value());
  put_config(w, c.base.config.encode());
  w.uint32(static_cast<uint32_t>(c.configs.size()));
  for (const Entry& e : c.configs) {
    w.int64(e.first.value());
    w.int64(e.last.value());
    w.int32(e.term.value());
    put_config(w, e.data ? *e.data : std::vector<uint8_t>{});
  }
  w.int64(c.log_start_floor.value());
  w.uint32(record::crc32c(0, out.data(), out.size()));
  return out;
}

Result<SnapshotFileContent> decode_snapshot_file(const std::vector<uint8_t>& bytes, const std::string& what) {
  auto bad = [&](const char* problem) {
    std::string m = what;
    m.append(": ");
    m.append(problem);
    return Status(Errc::kCorruptSegment, m);
  };
  if (bytes.empty()) return bad("empty file");
  const uint8_t version = bytes[0];
  if (version != kSnapshotFileVersion && version != kSnapshotFileVersionNoFloor) return bad("unknown version");
  if (bytes.size() < 1 + 8 + 4 + 4 + 4 + 4) return bad("short file");
  const size_t body = bytes.size() - 4;
  wire::Reader tail(std::span<const uint8_t>(bytes).subspan(body));
  if (record::crc32c(0, bytes.data(), body) != tail.uint32()) return bad("checksum mismatch");
  wire::Reader r(std::span<const uint8_t>(bytes).first(body));
  r.uint8();
  SnapshotFileContent c;
  c.base.index = Index(r.int64());
  c.base.term = Term(r.int32());
  std::vector<uint8_t> scratch;
  if (!get_config(r, &scratch, &c.base.config)) return bad("bad configuration");
  uint32_t count = r.uint32();
  if (!r.ok() || count > r.remaining() / 24) return bad("bad entry count");
  for (uint32_t i = 0; i < count; ++i) {
    Entry e;
    e.type = EntryType::kVoters;
    e.first = Index(r.int64());
    e.last = Index(r.int64());
    e.term = Term(r.int32());
    std::vector<uint8_t> cfg;
    Config unused;
    if (!get_config(r, &cfg, &unused)) return bad("bad configuration entry");
    if (e.first != e.last || e.first <= c.base.index || (!c.configs.empty() && e.first <= c.configs.back().last))
      return bad("configuration entries out of order");
    e.data = std::make_shared<const std::vector<uint8_t>>(std::move(cfg));
    c.configs.push_back(std::move(e));
  }
  if (version >= kSnapshotFileVersion) c.log_start_floor = Offset(r.int64());
  if (!r.ok()) return bad("short file");
  if (!r.at_end()) return bad("trailing bytes");
  if (c.base.index.value() < -1 || c.base.term.value() < 0 || c.log_start_floor.value() < 0)
    return bad("field out of range");
  return c;
}

Result<SnapshotFileContent> read_snapshot_file(const std::filesystem::path& path, storage::Env* env) {
  auto bytes = storage::read_whole_file(path, env);
  if (!bytes.ok()) return bytes.status();
  return decode_snapshot_file(*bytes, path.string());
}

Status write_snapshot_file(const std::filesystem::path& path, const SnapshotFileContent& c, storage::Env* env) {
  return storage::write_file_atomic(path, encode_snapshot_file(c), env);
}

}  // namespace millrace::raft
