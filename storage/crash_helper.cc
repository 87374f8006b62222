// storage_crash_helper: the child process of tests/storage-crash/run.
//
//   storage_crash_helper write  <dir> <seed>          append + flush until killed (odd
//                                                     seeds through an append buffer);
//                                                     prints "F <log end>" after each
//                                                     flush() returned OK
//   storage_crash_helper verify <dir> <min_flushed>   reopen (recovery) and check
//   storage_crash_helper tear   <dir> <min_flushed>   cut the last batch in half when
//                                                     it is above min_flushed, else
//                                                     append garbage (a torn tail)
//
// Content is a function of the offset (record at offset o holds value "v<o>",
// key "k<o % 97>"), so verify can check that the log is exactly offsets
// 0..LEO-1 in order: a clean prefix of what was written, with every flushed
// batch present. Exit status 0 = ok, 1 = violation (printed), 2 = usage/error.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>

#include "protocol/record/batch_builder.h"
#include "protocol/record/record_reader.h"
#include "storage/log.h"
#include "storage/segment.h"

namespace fs = std::filesystem;
using namespace millrace;
using namespace millrace::storage;

namespace {

// Odd seeds write through an append buffer (with preallocation), as the
// LogManager does: a kill then also loses the buffered tail, never a flushed batch.
LogOptions options(bool buffered = false) {
  LogOptions o;
  o.config.segment_bytes = 256 * 1024;
  if (buffered) {
    o.append_buffer_bytes = 16 * 1024;
    o.preallocate_bytes = 64 * 1024;
  }
  return o;
}

std::vector<uint8_t> batch_for(int64_t first_offset, int n) {
  record::BatchOptions bo;
  record::BatchBuilder b(bo);
  for (int i = 0; i < n; ++i) {
    std::string k = "k" + std::to_string((first_offset + i) % 97);
    std::string v = "v" + std::to_string(first_offset + i) + std::string(static_cast<size_t>(50 + (first_offset + i) % 200), '.');
    b.append(1000 + first_offset + i, record::as_bytes(k), record::as_bytes(v));
  }
  std::vector<uint8_t> out;
  (void)b.finish(out);
  return out;
}

int do_write(const fs::path& dir, uint64_t seed) {
  auto log = Log::open(dir, options(seed % 2 == 1));
  if (!log.ok()) { std::fprintf(stderr, "open: %s\n", log.status().to_string().c_str()); return 2; }
  std::mt19937_64 rng(seed);
  std::printf("F %lld\n", static_cast<long long>((*log)->recovery_point().value()));
  std::fflush(stdout);
  for (;;) {
    int n = 1 + static_cast<int>(rng() % 16);
    int64_t next = (*log)->log_end_offset().value();
    auto bytes = batch_for(next, n);
    auto r = (*log)->append(bytes, LeaderEpoch(1));
    if (!r.ok()) { std::fprintf(stderr, "append: %s\n", r.status().to_string().c_str()); return 2; }
    if (r->base_offset.value() != next) { std::fprintf(stderr, "offset %lld != %lld\n", (long long)r->base_offset.value(), (long long)next); return 1; }
    if (rng() % 4 == 0) {
      if (Status s = (*log)->flush(); !s.ok()) { std::fprintf(stderr, "flush: %s\n", s.to_string().c_str()); return 2; }
      std::printf("F %lld\n", static_cast<long long>(r->last_offset.value() + 1));
      std::fflush(stdout);
    }
    if (rng() % 64 == 0) (void)(*log)->write_checkpoints();
    if (rng() % 8 == 0) (void)(*log)->write_out_buffer();  // what LogManager's linger timer does
  }
}

int do_verify(const fs::path& dir, int64_t min_flushed) {
  auto log = Log::open(dir, options());
  if (!log.ok()) { std::printf("FAIL open: %s\n", log.status().to_string().c_str()); return 1; }
  Log& l = **log;
  int64_t leo = l.log_end_offset().value();
  if (leo < min_flushed) {
    std::printf("FAIL lost flushed data: log end %lld < flushed %lld\n", (long long)leo, (long long)min_flushed);
    return 1;
  }
  int64_t expect = 0;
  std::vector<uint8_t> scratch;
  while (expect < leo) {
    auto r = l.read(Offset(expect), 1 << 20, Offset(leo));
    if (!r.ok() || r->empty()) { std::printf("FAIL read at %lld\n", (long long)expect); return 1; }
    std::vector<uint8_t> buf(static_cast<size_t>(r->length));
    if (::pread(r->fd(), buf.data(), buf.size(), r->position) != static_cast<ssize_t>(buf.size())) {
      std::printf("FAIL pread\n");
      return 1;
    }
    size_t pos = 0;
    while (pos < buf.size()) {
      auto whole = std::span<const uint8_t>(buf).subspan(pos);
      if (record::validate_batch(whole) != record::BatchError::kOk) { std::printf("FAIL bad batch at %lld\n", (long long)expect); return 1; }
      auto h = record::parse_batch_header(whole).header;
      bool ok = true;
      record::for_each_record(whole.first(h.total_size()), [&](const record::Record& rec) {
        int64_t o = record::record_offset(h, rec);
        std::string want = "v" + std::to_string(o);
        std::string got(record::as_string(*rec.value));
        if (o != expect || got.compare(0, want.size(), want) != 0 || got.size() != want.size() + 50 + static_cast<size_t>(o % 200)) {
          std::printf("FAIL record at %lld: got offset %lld value %.20s\n", (long long)expect, (long long)o, got.c_str());
          ok = false;
          return false;
        }
        ++expect;
        return true;
      }, scratch);
      if (!ok) return 1;
      pos += h.total_size();
    }
  }
  auto info = l.recovery_info();
  std::printf("ok leo=%lld flushed=%lld truncated=%lld scanned=%lld\n", (long long)leo, (long long)min_flushed,
              (long long)info.bytes_truncated, (long long)info.bytes_scanned);
  return 0;
}

// Damages the tail of the newest segment the way a torn write would.
int do_tear(const fs::path& dir, int64_t min_flushed) {
  int64_t newest = -1;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.size() == 24 && name.ends_with(".log")) newest = std::max<int64_t>(newest, std::stoll(name.substr(0, 20)));
  }
  if (newest < 0) return 0;
  fs::path p = dir / segment_file_name(newest, ".log");
  int fd = ::open(p.c_str(), O_RDWR);
  if (fd < 0) return 2;
  int64_t size = ::lseek(fd, 0, SEEK_END);
  // Find the last batch.
  int64_t pos = 0, last_pos = -1;
  record::BatchHeader last{};
  uint8_t hdr[record::kBatchHeaderSize];
  while (pos + static_cast<int64_t>(sizeof hdr) <= size && ::pread(fd, hdr, sizeof hdr, pos) == static_cast<ssize_t>(sizeof hdr)) {
    auto hr = record::parse_batch_header(std::span<const uint8_t>(hdr, sizeof hdr));
    if (hr.error != record::BatchError::kOk || pos + static_cast<int64_t>(hr.header.total_size()) > size) break;
    last = hr.header;
    last_pos = pos;
    pos += static_cast<int64_t>(hr.header.total_size());
  }
  if (last_pos >= 0 && last.base_offset >= min_flushed) {
    int rc = ::ftruncate(fd, last_pos + static_cast<int64_t>(last.total_size() / 2));
    std::printf("torn: cut batch %lld in half (rc %d)\n", (long long)last.base_offset, rc);
  } else {
    uint8_t junk[37];
    for (size_t i = 0; i < sizeof junk; ++i) junk[i] = static_cast<uint8_t>(i * 37 + 11);
    ssize_t n = ::pwrite(fd, junk, sizeof junk, size);
    std::printf("torn: appended %zd garbage bytes\n", n);
  }
  ::close(fd);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s write|verify|tear <dir> <seed|min_flushed>\n", argv[0]);
    return 2;
  }
  std::string mode = argv[1];
  fs::path dir = argv[2];
  long long n = std::strtoll(argv[3], nullptr, 10);
  if (mode == "write") return do_write(dir, static_cast<uint64_t>(n));
  if (mode == "verify") return do_verify(dir, n);
  if (mode == "tear") return do_tear(dir, n);
  std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 2;
}
