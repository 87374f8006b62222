// Test helpers for storage tests: temp dirs and record batches built with the
// record library's BatchBuilder. Test-only; not part of millrace_storage.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "protocol/record/batch_builder.h"
#include "protocol/record/record_reader.h"
#include "storage/file_region.h"

namespace millrace::storage::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "millrace-storage-XXXXXX").string();
    char* p = ::mkdtemp(tmpl.data());
    path_ = p ? p : tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct Rec {
  std::string key;  // empty = null key
  std::optional<std::string> value;
  int64_t timestamp = 1000;
};

inline std::vector<uint8_t> make_batch(const std::vector<Rec>& recs, int64_t producer_id = -1, int16_t epoch = -1,
                                       int32_t base_seq = -1,
                                       record::Compression codec = record::Compression::kNone) {
  record::BatchOptions o;
  o.producer_id = producer_id;
  o.producer_epoch = epoch;
  o.base_sequence = base_seq;
  o.compression = codec;
  record::BatchBuilder b(o);
  for (const auto& r : recs) {
    std::optional<record::Bytes> k, v;
    if (!r.key.empty()) k = record::as_bytes(r.key);
    if (r.value) v = record::as_bytes(*r.value);
    b.append(r.timestamp, k, v);
  }
  std::vector<uint8_t> out;
  (void)b.finish(out);
  return out;
}

// n records "k<i>" -> "v<i>" of `value_size` bytes each.
inline std::vector<uint8_t> simple_batch(int n, int64_t ts = 1000, size_t value_size = 10) {
  std::vector<Rec> recs;
  for (int i = 0; i < n; ++i) recs.push_back({"k" + std::to_string(i), std::string(value_size, 'x'), ts});
  return make_batch(recs);
}

inline std::vector<uint8_t> read_region(const FileRegion& r) {
  std::vector<uint8_t> out(static_cast<size_t>(r.length));
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(r.fd(), out.data() + done, out.size() - done, r.position + static_cast<int64_t>(done));
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  out.resize(done);
  return out;
}

struct ReadRecord {
  int64_t offset;
  int64_t timestamp;
  std::optional<std::string> key;
  std::optional<std::string> value;
};

// Every record of every batch in `bytes` (whole batches).
inline std::vector<ReadRecord> decode_records(const std::vector<uint8_t>& bytes) {
  std::vector<ReadRecord> out;
  size_t pos = 0;
  std::vector<uint8_t> scratch;
  while (pos < bytes.size()) {
    auto span = std::span<const uint8_t>(bytes).subspan(pos);
    auto hr = record::parse_batch_header(span);
    if (hr.error != record::BatchError::kOk) break;
    record::for_each_record(span.first(hr.header.total_size()), [&](const record::Record& r) {
      ReadRecord rr{record::record_offset(hr.header, r), record::record_timestamp(hr.header, r), {}, {}};
      if (r.key) rr.key = std::string(record::as_string(*r.key));
      if (r.value) rr.value = std::string(record::as_string(*r.value));
      out.push_back(rr);
      return true;
    }, scratch);
    pos += hr.header.total_size();
  }
  return out;
}

// Seeds for randomised tests: MILLRACE_SEED=<n> reproduces one; MILLRACE_SEEDS=<k>
// widens the run to k seeds (default `fallback`).
inline std::vector<uint64_t> test_seeds(int fallback) {
  if (const char* one = std::getenv("MILLRACE_SEED")) return {std::strtoull(one, nullptr, 10)};
  int n = fallback;
  if (const char* many = std::getenv("MILLRACE_SEEDS")) n = std::atoi(many);
  std::vector<uint64_t> seeds;
  std::random_device rd;
  uint64_t base = (static_cast<uint64_t>(rd()) << 32) | rd();
  for (int i = 0; i < n; ++i) seeds.push_back(base + static_cast<uint64_t>(i) * 7919);
  return seeds;
}

// A whole file's bytes (empty when missing), and a file replaced by `b`.
inline std::vector<uint8_t> file_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}
inline void write_bytes(const std::filesystem::path& p, const std::vector<uint8_t>& b) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

}  // namespace millrace::storage::testing
