#include "cluster/topics/topic_controller.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <future>

#include "protocol/generated/error_codes.h"

namespace millrace::cluster {

namespace {
TopicError storage_error(std::string message) {
  return {proto::code(proto::ErrorCode::kKafkaStorageError), std::move(message)};
}
}  // namespace

TopicController::TopicController(PartitionHost& host, TopicControllerOptions options)
    : host_(host),
      options_(std::move(options)),
      log_(options_.dir, options_.legacy_file, options_.env),
      reconciler_(host, options_.dir, options_.env),
      view_(std::make_shared<const Topics>()) {}

std::shared_ptr<const TopicController::Topics> TopicController::topics() const {
  std::lock_guard l(view_mu_);
  return view_;
}

void TopicController::publish(std::shared_ptr<const Topics> view) {
  std::shared_ptr<const std::function<void()>> on_change;
  {
    std::lock_guard l(view_mu_);
    view_ = std::move(view);
    on_change = on_change_;
  }
  if (on_change && *on_change) (*on_change)();
}

std::string TopicController::start() {
  if (auto err = recover(); !err.empty()) return err;
  reconciler_.start(table_.applied_offset());
  worker_.start();
  std::lock_guard l(state_mu_);
  started_ = true;
  return {};
}

std::string TopicController::recover() {
  auto recovered = log_.open();
  if (!recovered.ok()) return recovered.status().message();
  for (const auto& note : recovered->notes) spdlog::warn("event=topic_log_recovery note=\"{}\"", note);
  table_ = std::move(recovered->snapshot);
  auto mark = reconciler_.read_mark();
  if (!mark.ok()) return mark.status().message();
  const int64_t reconciled = std::max(mark->value_or(0), table_.applied_offset());

  // Replay; the commands the reconciler had not recorded are reconciled again.
  bool redone = false;
  for (const auto& c : recovered->commands) {
    TopicDelta d = table_.apply(c.command, c.offset);
    if (c.offset <= reconciled || (d.created.empty() && d.removed.empty() && !d.configs)) continue;
    if (TopicError err = reconciler_.reconcile(d); !err.ok())
      spdlog::error("event=topic_reconcile_failed topic={} offset={} error=\"{}\"", d.topic, c.offset, err.message);
    redone = true;
  }
  if (redone)
    if (auto s = reconciler_.write_mark(table_.applied_offset()); !s.ok()) return s.to_string();

  // Adoption: partitions on disk that the table does not list.
  std::map<std::string, int32_t> on_disk;
  for (const auto& tp : host_.partitions()) on_disk[tp.topic] = std::max(on_disk[tp.topic], tp.partition + 1);
  for (auto& cmd : table_.adoption(on_disk, [](const std::string&) { return random_topic_id(); })) {
    const int64_t offset = table_.applied_offset() + 1;
    if (auto s = log_.append({offset, cmd}); !s.ok()) return "cannot adopt " + command_topic(cmd) + ": " + s.to_string();
    (void)table_.apply(cmd, offset);
    spdlog::info("event=topic_adopted topic={} partitions={}", command_topic(cmd), on_disk[command_topic(cmd)]);
  }

  // Level: every topic's configs on its partitions, and what the disk lacks offline.
  for (const auto& [name, t] : table_.topics()) {
    if (!t.configs.empty()) (void)host_.set_configs(name, t.configs);
    for (int32_t p = 0; p < t.partitions; ++p)
      if (!host_.has({name, p}))
        (void)host_.mark_offline({name, p}, storage::Status(storage::Errc::kCorruptSegment,
                                                            name + "-" + std::to_string(p) +
                                                                " is listed in the topic table (" +
                                                                options_.dir.string() + ") but missing from every log dir"));
  }
  publish(std::make_shared<const Topics>(table_.topics()));
  maybe_snapshot();
  return {};
}

void TopicController::maybe_snapshot() {
  if (log_.records() < options_.snapshot_after_records && log_.bytes() < options_.snapshot_after_bytes) return;
  // The snapshot may only cover reconciled commands: a restart redoes what
  // the log holds above the reconciled mark, and the log is emptied here.
  if (reconciler_.reconciled_offset() != table_.applied_offset()) return;
  if (auto s = log_.write_snapshot(table_); !s.ok())
    spdlog::error("event=topic_snapshot_failed error=\"{}\"", s.to_string());
  else
    spdlog::info("event=topic_snapshot offset={} topics={}", table_.applied_offset(), table_.topics().size());
}

void TopicController::submit(TopicCommand cmd, bool validate_only, Done done) {
  {
    std::lock_guard l(state_mu_);
    if (!started_) return done(storage_error("the topic table is not running"));
  }
  auto job = [this, cmd = std::move(cmd), validate_only, done]() { run(cmd, validate_only, done); };
  if (!worker_.post(std::move(job))) done(storage_error("the topic table is stopped"));
}

void TopicController::run(const TopicCommand& cmd, bool validate_only, const Done& done) {
  maybe_snapshot();
  if (TopicError err = table_.validate(cmd); !err.ok() || validate_only) return done(std::move(err));
  const int64_t offset = table_.applied_offset() + 1;
  if (auto s = log_.append({offset, cmd}); !s.ok())
    return done(storage_error("cannot write the topic command log: " + s.to_string()));
  TopicDelta delta = table_.apply(cmd, offset);
  auto view = std::make_shared<const Topics>(table_.topics());
  reconciler_.enqueue(offset, delta, [this, cmd, delta, view = std::move(view), done](TopicError err) mutable {
    reconciled(cmd, delta, std::move(view), std::move(err), done);
  });
}

void TopicController::reconciled(const TopicCommand& cmd, const TopicDelta& delta, std::shared_ptr<const Topics> view,
                                 TopicError err, const Done& done) {
  (void)worker_.post([this] { maybe_snapshot(); });  // the log may have waited for this command
  if (err.ok() || !delta.new_topic) {
    publish(std::move(view));
    return done(std::move(err));
  }
  // A new topic without its partitions: deleted again before its creator hears.
  const auto& create = std::get<CreateTopic>(cmd);
  spdlog::error("event=topic_create_failed topic={} error=\"{}\"", create.name, err.message);
  submit(DeleteTopic{create.name, create.id}, false, [done, err = std::move(err)](TopicError) { done(err); });
}

TopicError TopicController::execute(TopicCommand cmd, bool validate_only) {
  if (worker_.on_worker()) return storage_error("execute() called from the topic controller's own thread");
  std::promise<TopicError> p;
  auto f = p.get_future();
  submit(std::move(cmd), validate_only, [&p](TopicError e) { p.set_value(std::move(e)); });
  return f.get();
}

void TopicController::stop() {
  {
    std::lock_guard l(state_mu_);
    started_ = false;
  }
  worker_.stop();
  reconciler_.stop();
}

}  // namespace millrace::cluster
