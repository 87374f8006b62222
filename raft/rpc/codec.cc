#include "raft/rpc/codec.h"

#include <algorithm>
#include <memory>

#include "protocol/wire/codec.h"
#include "protocol/wire/reader.h"
#include "protocol/wire/writer.h"

namespace millrace::raft::rpc {

namespace {

using WireMessage = RaftBatchRequest::RaftMessage;
using WireEntry = WireMessage::RaftEntry;

bool known_message_type(int8_t t) { return t >= 0 && t < kMessageTypeCount; }

bool known_entry_type(int8_t t) {
  return t == static_cast<int8_t>(EntryType::kData) || t == static_cast<int8_t>(EntryType::kLeaderChange) ||
         t == static_cast<int8_t>(EntryType::kVoters) || t == static_cast<int8_t>(EntryType::kLogStart);
}

// "Messages[2].Entries[0]" style paths, built without operator+ (GCC 105329).
std::string at(const char* array, size_t i) {
  std::string s(array);
  s.push_back('[');
  s.append(std::to_string(i));
  s.push_back(']');
  return s;
}

std::string say(std::string path, const char* field, const std::string& what) {
  if (!path.empty()) path.push_back('.');
  path.append(field);
  path.append(": ");
  path.append(what);
  return path;
}

std::string num(int64_t v) { return std::to_string(v); }

// read_files: a file entry's bytes are read into Data (else Data stays empty
// for the caller to splice).
WireMessage to_wire(const Message& m, bool read_files = true) {
  WireMessage w;
  w.group_id = m.group.value();
  w.type = static_cast<int8_t>(m.type);
  w.term = m.term.value();
  w.index = m.index.value();
  w.log_term = m.log_term.value();
  w.commit = m.commit.value();
  w.reject = m.reject;
  w.hint_index = m.hint_index.value();
  w.hint_term = m.hint_term.value();
  w.transfer = m.transfer;
  w.context = static_cast<int64_t>(m.context);
  w.entries.reserve(m.entries.size());
  for (const Entry& e : m.entries) {
    WireEntry& we = w.entries.emplace_back();
    we.first = e.first.value();
    we.last = e.last.value();
    we.term = e.term.value();
    we.type = static_cast<int8_t>(e.type);
    if (e.data) {
      we.data = *e.data;
    } else if (e.file) {  // read now, or sent from the file (encode_batch_gathered)
      if (Payload p = read_files ? e.payload() : nullptr) we.data = *p;
      we.stamped = true;
    }
  }
  w.snapshot.index = m.snapshot.index.value();
  w.snapshot.term = m.snapshot.term.value();
  for (NodeId n : m.snapshot.config.voters) w.snapshot.voters.push_back(n.value());
  for (NodeId n : m.snapshot.config.outgoing) w.snapshot.outgoing.push_back(n.value());
  for (NodeId n : m.snapshot.config.learners) w.snapshot.learners.push_back(n.value());
  return w;
}

// Sorted, duplicate-free, non-negative node ids.
std::string check_nodes(const std::vector<int32_t>& v, const std::string& path, const char* field) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] < 0) return say(path, field, std::string("node ").append(num(v[i])).append(" is not a node id"));
    if (i > 0 && v[i] <= v[i - 1]) {
      return say(path, field, std::string("node ").append(num(v[i])).append(
                                  v[i] == v[i - 1] ? " is listed twice" : " is out of order (must be sorted)"));
    }
  }
  return {};
}

std::vector<NodeId> nodes(const std::vector<int32_t>& v) {
  std::vector<NodeId> out;
  out.reserve(v.size());
  for (int32_t n : v) out.emplace_back(n);
  return out;
}

std::string check_snapshot(const WireMessage::RaftSnapshot& s, const std::string& path) {
  if (s.index < -1) return say(path, "Index", num(s.index).append(" is below -1"));
  if (s.term < 0) return say(path, "Term", num(s.term).append(" is negative"));
  for (auto [list, name] : {std::pair{&s.voters, "Voters"}, std::pair{&s.outgoing, "Outgoing"},
                            std::pair{&s.learners, "Learners"}}) {
    std::string e = check_nodes(*list, path, name);
    if (!e.empty()) return e;
  }
  for (int32_t n : s.learners) {
    if (std::binary_search(s.voters.begin(), s.voters.end(), n) ||
        std::binary_search(s.outgoing.begin(), s.outgoing.end(), n)) {
      return say(path, "Learners", std::string("node ").append(num(n)).append(" is also a voter"));
    }
  }
  return {};
}

// Checks `w` and converts it; returns the error (naming the field) or "".
// A stamped entry's Data: one record batch whose own base offset and
// partition leader epoch (bytes 0..7 and 12..15, big-endian) and length
// (8..11) are the entry's.
std::string check_stamped(const WireEntry& we, const std::string& path) {
  if (we.type != static_cast<int8_t>(EntryType::kData)) return say(path, "Stamped", "set on a control entry");
  if (we.data.size() < 17) return say(path, "Data", "a stamped entry holds no whole batch header");
  wire::Reader r(we.data);
  const int64_t base = r.int64();
  const int32_t length = r.int32();
  const int32_t epoch = r.int32();
  if (static_cast<int64_t>(length) + 12 != static_cast<int64_t>(we.data.size()))
    return say(path, "Data", std::string("batch length ").append(num(length)).append(" does not fill its ")
                                 .append(num(static_cast<int64_t>(we.data.size()))).append(" bytes"));
  if (base != we.first || epoch != we.term)
    return say(path, "Data", std::string("the batch at base offset ").append(num(base)).append(", epoch ")
                                 .append(num(epoch)).append(" is not the entry's (First ").append(num(we.first))
                                 .append(", Term ").append(num(we.term))
                                 .append("): its file region changed while it was sent"));
  return {};
}

std::string from_wire(WireMessage& w, const std::string& path, Message& m) {
  if (!known_message_type(w.type)) return say(path, "Type", std::string("unknown message type ").append(num(w.type)));
  if (w.term < 0) return say(path, "Term", num(w.term).append(" is negative"));
  if (w.log_term < 0) return say(path, "LogTerm", num(w.log_term).append(" is negative"));
  if (w.hint_term < 0) return say(path, "HintTerm", num(w.hint_term).append(" is negative"));
  m.group = GroupId(w.group_id);
  m.type = static_cast<MessageType>(w.type);
  m.term = Term(w.term);
  m.index = Index(w.index);
  m.log_term = Term(w.log_term);
  m.commit = Index(w.commit);
  m.reject = w.reject;
  m.hint_index = Index(w.hint_index);
  m.hint_term = Term(w.hint_term);
  m.transfer = w.transfer;
  m.context = static_cast<uint64_t>(w.context);
  m.entries.reserve(w.entries.size());
  for (size_t j = 0; j < w.entries.size(); ++j) {
    WireEntry& we = w.entries[j];
    std::string ep = path;
    ep.push_back('.');
    ep.append(at("Entries", j));
    if (!known_entry_type(we.type)) return say(ep, "Type", std::string("unknown entry type ").append(num(we.type)));
    if (we.first < 0) return say(ep, "First", num(we.first).append(" is negative"));
    if (we.last < we.first) {
      return say(ep, "Last", num(we.last).append(" is below First ").append(num(we.first)));
    }
    if (j > 0 && we.first <= w.entries[j - 1].last) {
      return say(ep, "First", num(we.first).append(" does not follow the previous entry's Last ")
                                  .append(num(w.entries[j - 1].last)));
    }
    if (we.term < 0) return say(ep, "Term", num(we.term).append(" is negative"));
    if (we.stamped) {
      if (std::string bad = check_stamped(we, ep); !bad.empty()) return bad;
    }
    Entry& e = m.entries.emplace_back();
    e.first = Index(we.first);
    e.last = Index(we.last);
    e.term = Term(we.term);
    e.type = static_cast<EntryType>(we.type);
    if (!we.data.empty()) e.data = std::make_shared<const std::vector<uint8_t>>(std::move(we.data));
  }
  std::string sp = path;
  sp.append(".Snapshot");
  std::string e = check_snapshot(w.snapshot, sp);
  if (!e.empty()) return e;
  m.snapshot.index = Index(w.snapshot.index);
  m.snapshot.term = Term(w.snapshot.term);
  m.snapshot.config.voters = nodes(w.snapshot.voters);
  m.snapshot.config.outgoing = nodes(w.snapshot.outgoing);
  m.snapshot.config.learners = nodes(w.snapshot.learners);
  return {};
}

DecodedBatch fail(std::string error) {
  DecodedBatch out;
  out.error = std::move(error);
  return out;
}

}  // namespace

bool is_compact_heartbeat(const Message& m) {
  Message probe;
  probe.group = m.group;
  probe.from = m.from;
  probe.to = m.to;
  probe.type = MessageType::kHeartbeat;
  probe.term = m.term;
  probe.commit = m.commit;
  probe.context = m.context;
  return m == probe;
}

bool is_compact_heartbeat_response(const Message& m) {
  Message probe;
  probe.group = m.group;
  probe.from = m.from;
  probe.to = m.to;
  probe.type = MessageType::kHeartbeatResponse;
  probe.term = m.term;
  probe.context = m.context;
  return m == probe;
}

namespace {

// The batch's compact heartbeats and answers; the other messages into
// `rest` (in order) when given, else as whole messages into the batch.
RaftBatchRequest classify(NodeId from, NodeId to, const std::vector<Message>& messages, bool poll,
                          std::vector<const Message*>* rest) {
  RaftBatchRequest batch;
  batch.source_node_id = from.value();
  batch.poll = poll;
  batch.destination_node_id = to.value();
  for (const Message& m : messages) {
    if (is_compact_heartbeat(m)) {
      auto& h = batch.heartbeats.emplace_back();
      h.group_id = m.group.value();
      h.term = m.term.value();
      h.commit = m.commit.value();
      h.context = static_cast<int64_t>(m.context);
    } else if (is_compact_heartbeat_response(m)) {
      auto& h = batch.heartbeat_responses.emplace_back();
      h.group_id = m.group.value();
      h.term = m.term.value();
      h.context = static_cast<int64_t>(m.context);
    } else if (rest) {
      rest->push_back(&m);
    } else {
      batch.messages.push_back(to_wire(m));
    }
  }
  return batch;
}

bool has_file_entry(const Message& m) {
  return std::any_of(m.entries.begin(), m.entries.end(), [](const Entry& e) { return !e.data && e.file; });
}

// Appends `m` to the gathered body: the generated layout of a RaftMessage,
// with the Data of each file entry left out as a splice (its compact length
// written, its bytes to follow from the file). The generated encoder writes
// the fixed fields, the snapshot and the tags; only the two places where the
// entries go are written here, and each is checked against the generated
// bytes (a changed spec falls back to reading the files: never a wrong frame).
void gather_message(const Message& m, GatheredBatch& out) {
  WireMessage wm = to_wire(m, false);
  std::vector<WireEntry> entries = std::move(wm.entries);
  auto read_file = [&](size_t i) {
    if (Payload p = m.entries[i].payload()) entries[i].data = *p;
  };
  wm.entries.clear();
  std::vector<uint8_t> shell;
  {
    wire::Writer w(shell);
    wm.encode(w, kBatchVersion);
  }
  std::vector<uint8_t> tail;  // the snapshot and the message's tags
  {
    wire::Writer w(tail);
    wm.snapshot.encode(w, kBatchVersion);
    wire::write_unknown_tags(w, wm.unknown_tags);
  }
  const size_t fixed = shell.size() - tail.size() - 1;  // before the (empty) entries array
  wire::Writer w(out.bytes);
  if (shell.size() < tail.size() + 1 || shell[fixed] != 0x01) {
    for (size_t i = 0; i < entries.size(); ++i)
      if (!m.entries[i].data && m.entries[i].file) read_file(i);
    wm.entries = std::move(entries);
    wm.encode(w, kBatchVersion);
    return;
  }
  w.bytes(std::span<const uint8_t>(shell).first(fixed));
  w.uvarint(static_cast<uint32_t>(m.entries.size() + 1));
  for (size_t i = 0; i < m.entries.size(); ++i) {
    const Entry& e = m.entries[i];
    WireEntry& we = entries[i];
    if (e.data || !e.file) {
      we.encode(w, kBatchVersion);
      continue;
    }
    we.data.clear();
    std::vector<uint8_t> one;
    {
      wire::Writer ew(one);
      we.encode(ew, kBatchVersion);
    }
    constexpr size_t kFields = 8 + 8 + 4 + 1;  // First, Last, Term, Type; then Data (here empty: 0x01)
    if (one.size() <= kFields || one[kFields] != 0x01) {  // not the layout expected: send the bytes read
      read_file(i);
      we.encode(w, kBatchVersion);
      continue;
    }
    w.bytes(std::span<const uint8_t>(one).first(kFields));
    w.uvarint(static_cast<uint32_t>(e.file->length + 1));  // compact bytes: length + 1
    out.splices.push_back({out.bytes.size(), e.file});
    w.bytes(std::span<const uint8_t>(one).subspan(kFields + 1));  // the entry's tags (Stamped)
  }
  w.bytes(tail);
}

}  // namespace

std::vector<uint8_t> encode_batch(NodeId from, NodeId to, const std::vector<Message>& messages, bool poll) {
  RaftBatchRequest batch = classify(from, to, messages, poll, nullptr);
  wire::Writer w;
  batch.encode(w, kBatchVersion);
  return std::move(w.buffer());
}

size_t GatheredBatch::size() const {
  size_t n = bytes.size();
  for (const auto& s : splices) n += static_cast<size_t>(s.file->length);
  return n;
}

GatheredBatch encode_batch_gathered(NodeId from, NodeId to, const std::vector<Message>& messages) {
  GatheredBatch out;
  std::vector<const Message*> rest;
  RaftBatchRequest batch = classify(from, to, messages, false, &rest);
  if (std::none_of(rest.begin(), rest.end(), [](const Message* m) { return has_file_entry(*m); })) {
    for (const Message* m : rest) batch.messages.push_back(to_wire(*m));
    wire::Writer w(out.bytes);
    batch.encode(w, kBatchVersion);
    return out;
  }
  // The generated layout of RaftBatchRequest around its Messages array: the
  // batch without messages, split where the (empty) array is.
  std::vector<uint8_t> shell;
  {
    wire::Writer w(shell);
    batch.encode(w, kBatchVersion);
  }
  std::vector<uint8_t> head;  // node ids and the two heartbeat arrays
  {
    wire::Writer w(head);
    w.int32(batch.source_node_id);
    w.int32(batch.destination_node_id);
    wire::write_array(w, batch.heartbeats, true, [&](const auto& e) { e.encode(w, kBatchVersion); });
    wire::write_array(w, batch.heartbeat_responses, true, [&](const auto& e) { e.encode(w, kBatchVersion); });
  }
  if (shell.size() <= head.size() || !std::equal(head.begin(), head.end(), shell.begin()) ||
      shell[head.size()] != 0x01) {  // not the layout expected: every message whole, files read
    for (const Message* m : rest) batch.messages.push_back(to_wire(*m));
    wire::Writer w(out.bytes);
    batch.encode(w, kBatchVersion);
    return out;
  }
  const size_t tags_at = head.size() + 1;  // after the (empty) Messages array
  out.bytes = std::move(head);
  wire::Writer(out.bytes).uvarint(static_cast<uint32_t>(rest.size() + 1));
  for (const Message* m : rest) gather_message(*m, out);
  wire::Writer(out.bytes).bytes(std::span<const uint8_t>(shell).subspan(tags_at));  // the batch's tags
  return out;
}

std::vector<uint8_t> materialize(const GatheredBatch& g) {
  std::vector<uint8_t> out;
  out.reserve(g.size());
  size_t at = 0;
  for (const auto& s : g.splices) {
    out.insert(out.end(), g.bytes.begin() + static_cast<std::ptrdiff_t>(at), g.bytes.begin() + static_cast<std::ptrdiff_t>(s.at));
    Entry e;
    e.file = s.file;
    Payload p = e.payload();
    if (p) out.insert(out.end(), p->begin(), p->end());
    at = s.at;
  }
  out.insert(out.end(), g.bytes.begin() + static_cast<std::ptrdiff_t>(at), g.bytes.end());
  return out;
}

DecodedBatch decode_batch(std::span<const uint8_t> bytes) {
  RaftBatchRequest batch;
  wire::Reader r(bytes);
  if (!batch.decode(r, kBatchVersion)) {
    return fail(std::string("RaftBatchRequest: truncated or malformed (at byte ")
                    .append(std::to_string(r.position())).append(" of ").append(std::to_string(bytes.size()))
                    .append(")"));
  }
  if (!r.at_end()) {
    return fail(std::string("RaftBatchRequest: ").append(std::to_string(r.remaining()))
                    .append(" bytes after the end of the batch"));
  }
  if (batch.source_node_id < 0) return fail(say("", "SourceNodeId", num(batch.source_node_id).append(" is not a node id")));
  const bool anyone = batch.poll && batch.destination_node_id == -1 && batch.heartbeats.empty() &&
                      batch.heartbeat_responses.empty() && batch.messages.empty();
  if (batch.destination_node_id < 0 && !anyone) {
    return fail(say("", "DestinationNodeId", num(batch.destination_node_id).append(" is not a node id")));
  }
  if (batch.destination_node_id == batch.source_node_id) {
    return fail(say("", "DestinationNodeId", num(batch.destination_node_id).append(" is also the source")));
  }
  DecodedBatch out;
  out.from = NodeId(batch.source_node_id);
  out.poll = batch.poll;
  out.to = NodeId(batch.destination_node_id);
  std::vector<Message> beats, answers, rest;
  beats.reserve(batch.heartbeats.size());
  answers.reserve(batch.heartbeat_responses.size());
  rest.reserve(batch.messages.size());
  for (size_t i = 0; i < batch.heartbeats.size(); ++i) {
    const auto& h = batch.heartbeats[i];
    if (h.term < 0) return fail(say(at("Heartbeats", i), "Term", num(h.term).append(" is negative")));
    Message& m = beats.emplace_back();
    m.type = MessageType::kHeartbeat;
    m.group = GroupId(h.group_id);
    m.term = Term(h.term);
    m.commit = Index(h.commit);
    m.context = static_cast<uint64_t>(h.context);
  }
  for (size_t i = 0; i < batch.heartbeat_responses.size(); ++i) {
    const auto& h = batch.heartbeat_responses[i];
    if (h.term < 0) return fail(say(at("HeartbeatResponses", i), "Term", num(h.term).append(" is negative")));
    Message& m = answers.emplace_back();
    m.type = MessageType::kHeartbeatResponse;
    m.group = GroupId(h.group_id);
    m.term = Term(h.term);
    m.context = static_cast<uint64_t>(h.context);
  }
  for (size_t i = 0; i < batch.messages.size(); ++i) {
    Message m;
    std::string e = from_wire(batch.messages[i], at("Messages", i), m);
    if (!e.empty()) return fail(std::move(e));
    // A whole message that could have been compact sorts with its class, so
    // the decoded order is the one encode_batch would reproduce.
    if (is_compact_heartbeat(m)) {
      beats.push_back(std::move(m));
    } else if (is_compact_heartbeat_response(m)) {
      answers.push_back(std::move(m));
    } else {
      rest.push_back(std::move(m));
    }
  }
  out.messages = std::move(beats);
  for (auto* v : {&answers, &rest}) {
    for (Message& m : *v) out.messages.push_back(std::move(m));
  }
  for (Message& m : out.messages) {
    m.from = out.from;
    m.to = out.to;
  }
  return out;
}

DecodedBatch decode_batch(std::span<const uint8_t> bytes, NodeId expect_from, NodeId expect_to) {
  DecodedBatch out = decode_batch(bytes);
  if (!out.ok()) return out;
  if (out.from != expect_from) {
    return fail(say("", "SourceNodeId", std::string("batch from node ").append(num(out.from.value()))
                                            .append(" arrived on the connection of node ")
                                            .append(num(expect_from.value()))));
  }
  if (out.to != expect_to) {
    return fail(say("", "DestinationNodeId", std::string("batch for node ").append(num(out.to.value()))
                                                 .append(" arrived at node ").append(num(expect_to.value()))));
  }
  return out;
}

}  // namespace millrace::raft::rpc
