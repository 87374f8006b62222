#include "cluster/controller/metadata_snapshot.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "protocol/wire/reader.h"
#include "protocol/wire/writer.h"
#include "storage/checkpoint.h"

namespace millrace::cluster {
namespace {

constexpr uint8_t kVersion = 1;
constexpr const char* kSuffix = ".metadata-snapshot";

std::string file_name(int64_t offset) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020lld", static_cast<long long>(offset));
  return std::string(buf) + kSuffix;
}

// Snapshot files in `dir`, newest first: (offset, path).
std::vector<std::pair<int64_t, std::filesystem::path>> list(const std::filesystem::path& dir) {
  std::vector<std::pair<int64_t, std::filesystem::path>> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const auto name = e.path().filename().string();
    if (name.size() != 20 + std::char_traits<char>::length(kSuffix) || name.compare(20, std::string::npos, kSuffix) != 0)
      continue;
    try {
      out.emplace_back(std::stoll(name.substr(0, 20)), e.path());
    } catch (...) {
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  return out;
}

void prune(const std::filesystem::path& dir, int keep);

}  // namespace

storage::Status write_metadata_snapshot(const std::filesystem::path& dir, int64_t offset, const MetadataState& state,
                                        int keep) {
  std::vector<uint8_t> payload;
  wire::Writer w(payload);
  auto records = state.snapshot();
  w.int64(offset);
  w.int32(static_cast<int32_t>(records.size()));
  for (const auto& r : records) {
    auto bytes = records::encode_record(r);
    w.int32(static_cast<int32_t>(bytes.size()));
    w.bytes(bytes);
  }
  if (auto st = storage::write_file_atomic(dir / file_name(offset), storage::encode_framed(kVersion, payload));
      !st.ok())
    return st;
  prune(dir, keep);
  return {};
}

namespace {

// The snapshot in `bytes` (a whole file), or why it cannot be used.
std::optional<MetadataSnapshot> decode_snapshot(const std::vector<uint8_t>& bytes, int64_t expected_offset,
                                                std::string& why) {
  auto framed = storage::decode_framed(bytes, "metadata snapshot");
  if (!framed.ok() || framed->version != kVersion) {
    why = framed.ok() ? "unknown version " + std::to_string(framed->version) : framed.status().to_string();
    return std::nullopt;
  }
  wire::Reader r(framed->payload);
  MetadataSnapshot snap;
  snap.offset = r.int64();
  int32_t count = r.int32();
  if (snap.offset != expected_offset) why = "its offset does not match its name";
  for (int32_t i = 0; i < count && why.empty() && r.ok(); ++i) {
    int32_t n = r.int32();
    if (n < 0 || static_cast<size_t>(n) > r.remaining()) {
      why = "record " + std::to_string(i) + " is cut short";
      break;
    }
    auto span = r.bytes(static_cast<size_t>(n));
    auto decoded = records::decode_record(span);
    if (!decoded.ok()) why = "record " + std::to_string(i) + ": " + decoded.error;
    else if (auto e = snap.state.apply(decoded.value.record); !e.empty()) why = "record " + std::to_string(i) + ": " + e;
  }
  if (why.empty() && (!r.ok() || r.remaining() != 0)) why = "trailing or missing bytes";
  if (!why.empty()) return std::nullopt;
  return snap;
}

std::vector<uint8_t> read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void prune(const std::filesystem::path& dir, int keep) {
  auto files = list(dir);
  for (size_t i = static_cast<size_t>(std::max(keep, 1)); i < files.size(); ++i) {
    std::error_code ec;
    std::filesystem::remove(files[i].second, ec);
  }
}

}  // namespace

std::optional<MetadataSnapshot> load_metadata_snapshot(const std::filesystem::path& dir, int64_t max_offset,
                                                      std::vector<std::string>& skipped) {
  for (const auto& [offset, path] : list(dir)) {
    if (offset > max_offset) {
      skipped.push_back(path.filename().string() + ": past the committed offset " + std::to_string(max_offset));
      continue;
    }
    std::string why;
    auto snap = decode_snapshot(read_all(path), offset, why);
    if (!snap) {
      skipped.push_back(path.filename().string() + ": " + why);
      continue;
    }
    return snap;
  }
  return std::nullopt;
}

std::optional<std::vector<uint8_t>> read_metadata_snapshot_file(const std::filesystem::path& dir, int64_t offset) {
  std::error_code ec;
  const auto path = dir / file_name(offset);
  if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  return read_all(path);
}

std::vector<int64_t> metadata_snapshot_offsets(const std::filesystem::path& dir) {
  std::vector<int64_t> out;
  for (const auto& f : list(dir)) out.push_back(f.first);
  return out;
}

storage::Status store_metadata_snapshot_file(const std::filesystem::path& dir, int64_t offset,
                                             const std::vector<uint8_t>& bytes, int keep) {
  std::string why;
  if (!decode_snapshot(bytes, offset, why))
    return {storage::Errc::kCorruptSegment, "metadata snapshot at offset " + std::to_string(offset) + ": " + why};
  if (auto st = storage::write_file_atomic(dir / file_name(offset), bytes); !st.ok()) return st;
  prune(dir, keep);
  return {};
}

}  // namespace millrace::cluster
