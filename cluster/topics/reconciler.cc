#include "cluster/topics/reconciler.h"

#include "protocol/generated/error_codes.h"
#include "storage/checkpoint.h"
#include "storage/index_file.h"

namespace millrace::cluster {

namespace {
using storage::Errc;
using storage::Status;

TopicError storage_error(const std::string& message) {
  return {proto::code(proto::ErrorCode::kKafkaStorageError), message};
}
}  // namespace

TopicReconciler::TopicReconciler(PartitionHost& host, std::filesystem::path dir, storage::Env* env)
    : host_(host), mark_(dir / kMarkName), env_(storage::env_or_posix(env)) {}

storage::Result<std::optional<int64_t>> TopicReconciler::read_mark() const {
  auto bytes = storage::read_whole_file(mark_, env_);
  if (!bytes.ok()) {
    if (bytes.code() == Errc::kNotFound) return std::optional<int64_t>();
    return Status(bytes.code(), "cannot read " + mark_.string() + ": " + bytes.status().to_string());
  }
  auto framed = storage::decode_framed(*bytes, kMarkName);
  if (!framed.ok()) return Status(Errc::kCorruptSegment, "cannot read " + mark_.string() + ": " + framed.status().to_string());
  if (framed->version != kMarkVersion || framed->payload.size() != 8)
    return Status(Errc::kCorruptSegment, "cannot read " + mark_.string() + ": unknown version " +
                                             std::to_string(framed->version) + " or size " +
                                             std::to_string(framed->payload.size()));
  uint64_t v = 0;
  for (uint8_t b : framed->payload) v = (v << 8) | b;
  return std::optional<int64_t>(static_cast<int64_t>(v));
}

Status TopicReconciler::write_mark(int64_t offset) {
  std::vector<uint8_t> payload(8);
  for (int i = 0; i < 8; ++i) payload[i] = static_cast<uint8_t>(static_cast<uint64_t>(offset) >> (56 - 8 * i));
  Status s = storage::write_file_atomic(mark_, storage::encode_framed(kMarkVersion, payload), env_);
  if (s.ok()) reconciled_.store(offset, std::memory_order_release);
  return s;
}

TopicError TopicReconciler::reconcile(const TopicDelta& d) {
  for (int32_t p : d.removed)
    (void)host_.remove({d.topic, p});  // what stays is removed at the next start or by hand; nothing re-lists it
  if (d.created.empty() && d.removed.empty() && d.configs) {
    if (Status s = host_.set_configs(d.topic, *d.configs); !s.ok())
      return {proto::code(proto::ErrorCode::kInvalidConfig), s.message()};
  }
  const auto configs = d.configs.value_or(std::map<std::string, std::string>{});
  for (size_t i = 0; i < d.created.size(); ++i) {
    const storage::TopicPartition tp{d.topic, d.created[i]};
    Status s = host_.create(tp, configs);
    if (s.ok() || s.code() == Errc::kAlreadyExists) continue;
    if (d.new_topic) {
      for (size_t j = 0; j < i; ++j) (void)host_.remove({d.topic, d.created[j]});
    } else {
      for (size_t j = i; j < d.created.size(); ++j)
        (void)host_.mark_offline({d.topic, d.created[j]}, Status(s.code(), "could not be created: " + s.to_string()));
    }
    return storage_error(s.to_string());
  }
  return {};
}

void TopicReconciler::start(int64_t offset) {
  reconciled_.store(offset, std::memory_order_release);
  worker_.start();
}

void TopicReconciler::enqueue(int64_t offset, TopicDelta delta, std::function<void(TopicError)> done) {
  auto job = [this, offset, delta = std::move(delta), done]() {
    TopicError err = reconcile(delta);
    if (delta.created.empty() && delta.removed.empty()) {
      reconciled_.store(offset, std::memory_order_release);  // nothing a restart could need to redo
    } else if (Status s = write_mark(offset); !s.ok() && err.ok()) {
      err = storage_error("cannot record the reconciled topic command: " + s.to_string());
    }
    done(std::move(err));
  };
  if (!worker_.post(std::move(job))) done(storage_error("the topic reconciler is stopped"));
}

}  // namespace millrace::cluster
