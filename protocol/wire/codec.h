// Kafka's composite encodings, used by the generated message code.
//
//                 non-flexible                     flexible (compact)
//   string        int16 length, -1 = null          uvarint length+1, 0 = null
//   bytes         int32 length, -1 = null          uvarint length+1, 0 = null
//   records       as bytes (may be a file splice)  as bytes
//   array         int32 count, -1 = null           uvarint count+1, 0 = null
//   uuid          16 bytes                         16 bytes
//   struct        its fields in order              its fields, then its tagged fields
//   nullable      int8 -1 = null, 1 = present, then the struct (in nullable versions)
//     struct
//   tagged        uvarint count, then per field in increasing tag order:
//     fields      uvarint tag, uvarint size, `size` bytes of the value
//
// Readers never throw: on bad input they fail the wire::Reader (which then
// returns zeros) and the caller checks r.ok() once at the end of a message.
// A null where the version does not allow one, a negative length other than
// -1, or a count larger than the bytes left all fail the reader.
//
// Writers given a null value for a version that cannot express null write the
// empty value instead (the caller's bug, never a crash).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/wire/reader.h"
#include "protocol/wire/types.h"
#include "protocol/wire/writer.h"

namespace millrace::wire {

// ---------------------------------------------------------------- lengths

inline void write_length(Writer& w, size_t n, bool compact, bool wide) {
  if (compact) {
    w.uvarint(static_cast<uint32_t>(n + 1));
  } else if (wide) {
    w.int32(static_cast<int32_t>(n));
  } else {
    w.int16(static_cast<int16_t>(n));
  }
}

inline void write_null_length(Writer& w, bool compact, bool wide) {
  if (compact) {
    w.uvarint(0);
  } else if (wide) {
    w.int32(-1);
  } else {
    w.int16(-1);
  }
}

// Returns the length, -1 for null; fails the reader (and returns -1) on a
// length below -1. `wide` selects int32 over int16 in non-compact form.
inline int64_t read_length(Reader& r, bool compact, bool wide) {
  int64_t n;
  if (compact) {
    n = static_cast<int64_t>(r.uvarint()) - 1;
  } else {
    n = wide ? r.int32() : r.int16();
  }
  if (!r.ok() || n < -1) {
    r.fail();
    return -1;
  }
  return n;
}

// Length of a non-null value that must fit in the rest of the input.
inline bool read_present_length(Reader& r, bool compact, bool wide, bool nullable, int64_t& n) {
  n = read_length(r, compact, wide);
  if (!r.ok()) return false;
  if (n == -1) {
    if (!nullable) r.fail();
    return false;
  }
  if (static_cast<uint64_t>(n) > r.remaining()) {
    r.fail();
    return false;
  }
  return true;
}

// ---------------------------------------------------------------- strings

inline void write_string(Writer& w, std::string_view s, bool compact) {
  write_length(w, s.size(), compact, false);
  w.string(s);
}

inline void write_nullable_string(Writer& w, const std::optional<std::string>& s, bool compact,
                                  bool nullable) {
  if (s) {
    write_string(w, *s, compact);
  } else if (nullable) {
    write_null_length(w, compact, false);
  } else {
    write_string(w, {}, compact);
  }
}

inline void read_string(Reader& r, std::string& out, bool compact) {
  int64_t n;
  if (!read_present_length(r, compact, false, false, n)) return;
  out.assign(r.string(static_cast<size_t>(n)));
}

inline void read_nullable_string(Reader& r, std::optional<std::string>& out, bool compact,
                                 bool nullable) {
  int64_t n;
  if (!read_present_length(r, compact, false, nullable, n)) {
    out.reset();
    return;
  }
  out.emplace(r.string(static_cast<size_t>(n)));
}

// ------------------------------------------------------------------ bytes

inline void write_bytes(Writer& w, std::span<const uint8_t> b, bool compact) {
  write_length(w, b.size(), compact, true);
  w.bytes(b);
}

inline void write_nullable_bytes(Writer& w, const std::optional<std::vector<uint8_t>>& b,
                                 bool compact, bool nullable) {
  if (b) {
    write_bytes(w, *b, compact);
  } else if (nullable) {
    write_null_length(w, compact, true);
  } else {
    write_bytes(w, {}, compact);
  }
}

inline void read_bytes(Reader& r, std::vector<uint8_t>& out, bool compact) {
  int64_t n;
  if (!read_present_length(r, compact, true, false, n)) return;
  auto s = r.bytes(static_cast<size_t>(n));
  out.assign(s.begin(), s.end());
}

inline void read_nullable_bytes(Reader& r, std::optional<std::vector<uint8_t>>& out, bool compact,
                                bool nullable) {
  int64_t n;
  if (!read_present_length(r, compact, true, nullable, n)) {
    out.reset();
    return;
  }
  auto s = r.bytes(static_cast<size_t>(n));
  out.emplace(s.begin(), s.end());
}

inline void write_records(Writer& w, const proto::Records& rec, bool compact, bool nullable) {
  if (rec.is_null && !rec.file) {
    if (nullable) {
      write_null_length(w, compact, true);
    } else {
      write_length(w, 0, compact, true);
    }
    return;
  }
  write_length(w, rec.size(), compact, true);
  if (rec.file) {
    w.splice(*rec.file);
  } else {
    w.bytes(rec.bytes);
  }
}

inline void read_records(Reader& r, proto::Records& out, bool compact, bool nullable) {
  out = proto::Records{};
  int64_t n;
  if (!read_present_length(r, compact, true, nullable, n)) return;
  auto s = r.bytes(static_cast<size_t>(n));
  out.is_null = false;
  out.bytes.assign(s.begin(), s.end());
}

// ------------------------------------------------------------------- uuid

inline void write_uuid(Writer& w, const proto::Uuid& u) { w.bytes(u.bytes); }

inline void read_uuid(Reader& r, proto::Uuid& u) {
  auto s = r.bytes(u.bytes.size());
  if (r.ok()) std::copy(s.begin(), s.end(), u.bytes.begin());
}

// ----------------------------------------------------------------- arrays

template <typename T, typename F>
void write_array(Writer& w, const std::vector<T>& v, bool compact, F&& elem) {
  write_length(w, v.size(), compact, true);
  for (const T& e : v) elem(e);
}

template <typename T, typename F>
void write_nullable_array(Writer& w, const std::optional<std::vector<T>>& v, bool compact,
                          bool nullable, F&& elem) {
  if (v) {
    write_array(w, *v, compact, elem);
  } else if (nullable) {
    write_null_length(w, compact, true);
  } else {
    write_length(w, 0, compact, true);
  }
}

// Every element takes at least one byte in all Kafka messages, so a count
// above the bytes left is malformed; this also bounds the allocation.
template <typename T, typename F>
void read_elements(Reader& r, std::vector<T>& out, int64_t n, F&& elem) {
  out.clear();
  out.reserve(static_cast<size_t>(std::min<int64_t>(n, 1024)));
  for (int64_t i = 0; i < n && r.ok(); ++i) {
    out.emplace_back();
    elem(out.back());
  }
}

template <typename T, typename F>
void read_array(Reader& r, std::vector<T>& out, bool compact, F&& elem) {
  int64_t n;
  if (!read_present_length(r, compact, true, false, n)) return;
  read_elements(r, out, n, elem);
}

template <typename T, typename F>
void read_nullable_array(Reader& r, std::optional<std::vector<T>>& out, bool compact,
                         bool nullable, F&& elem) {
  int64_t n;
  if (!read_present_length(r, compact, true, nullable, n)) {
    out.reset();
    return;
  }
  out.emplace();
  read_elements(r, *out, n, elem);
}

// -------------------------------------------------------- nullable struct

template <typename T>
void write_nullable_struct(Writer& w, const std::optional<T>& v, bool nullable, int16_t version) {
  if (nullable) {
    if (!v) {
      w.int8(-1);
      return;
    }
    w.int8(1);
  }
  if (v) {
    v->encode(w, version);
  } else {
    T{}.encode(w, version);
  }
}

template <typename T>
void read_nullable_struct(Reader& r, std::optional<T>& v, bool nullable, int16_t version) {
  if (nullable) {
    int8_t present = r.int8();
    if (!r.ok() || present < 0) {
      v.reset();
      return;
    }
  }
  v = T{};  // not emplace(): clang caches is_constructible<T> as false for
            // nested structs with member initializers inside their parent
  v->decode(r, version);
}

// ---------------------------------------------------------- tagged fields

// Collects the known tagged fields of one struct (added in increasing tag
// order), then writes them merged with the unknown ones in tag order.
class TaggedFieldsWriter {
 public:
  std::vector<uint8_t>& add(uint32_t tag) {
    fields_.emplace_back(tag, std::vector<uint8_t>{});
    return fields_.back().second;
  }

  void finish(Writer& w, const proto::UnknownTags& unknown) {
    w.uvarint(static_cast<uint32_t>(fields_.size() + unknown.size()));
    size_t k = 0, u = 0;
    while (k < fields_.size() || u < unknown.size()) {
      bool take_known = u == unknown.size() || (k < fields_.size() && fields_[k].first <= unknown[u].first);
      const auto& f = take_known ? fields_[k++] : unknown[u++];
      w.uvarint(f.first);
      w.uvarint(static_cast<uint32_t>(f.second.size()));
      w.bytes(f.second);
    }
  }

 private:
  proto::UnknownTags fields_;
};

inline void write_unknown_tags(Writer& w, const proto::UnknownTags& unknown) {
  w.uvarint(static_cast<uint32_t>(unknown.size()));
  for (const auto& [tag, value] : unknown) {
    w.uvarint(tag);
    w.uvarint(static_cast<uint32_t>(value.size()));
    w.bytes(value);
  }
}

// Reads a tagged-field section. `known(tag, sub)` decodes a tag it knows for
// this version from `sub` (exactly the field's bytes) and returns true, or
// returns false to keep the field in `unknown`. A known field that fails or
// leaves bytes unread fails `r`.
template <typename F>
void read_tagged_fields(Reader& r, proto::UnknownTags& unknown, F&& known) {
  uint32_t count = r.uvarint();
  for (uint32_t i = 0; i < count && r.ok(); ++i) {
    uint32_t tag = r.uvarint();
    uint32_t size = r.uvarint();
    auto data = r.bytes(size);
    if (!r.ok()) return;
    Reader sub(data);
    if (known(tag, sub)) {
      if (!sub.ok() || !sub.at_end()) r.fail();
    } else {
      unknown.emplace_back(tag, std::vector<uint8_t>(data.begin(), data.end()));
    }
  }
}

}  // namespace millrace::wire
