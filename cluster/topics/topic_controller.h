// TopicController: this node's topic table, fed by ordered commands. It owns
// the table (topic_table.h), its command log (command_log.h) and the
// reconciler (reconciler.h), and runs the pipeline a command goes through:
//
//   submit(cmd) -> [controller thread] validate against the table, append to
//   the log and fdatasync, apply -> [reconciler thread] create / remove /
//   reconfigure partitions, record progress -> publish the table as of that
//   command, call on_change, complete the command.
//
// So a command completes once it is applied AND reconciled: a topic is usable
// as soon as its creation completes. Readers (topics()) see the published
// table, which only lists partitions that exist (or are offline stand-ins):
// it moves one reconciled command at a time. Later the controller's Raft log
// replaces the local log, and this class's submit() becomes a proposal.
//
// A new topic whose partitions cannot be created is deleted again (a second
// command) before its creator hears KAFKA_STORAGE_ERROR, as if it had never
// been created.
//
// start() recovers: the snapshot and the log (or topics.json, once), the
// commands the reconciler had not recorded are reconciled again, partitions
// found on disk but not in the table are adopted (commands too, so the log
// says where every topic id came from), and partitions the table lists but no
// log dir has are served offline, never re-created empty.
//
// Thread-safety: every public call from any thread, except: execute() must
// not be called from on_change or a completion (it would wait for its own
// thread).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "cluster/topics/command_log.h"
#include "cluster/topics/partition_host.h"
#include "cluster/topics/reconciler.h"
#include "cluster/topics/serial_worker.h"
#include "cluster/topics/topic_table.h"

namespace millrace::cluster {

struct TopicControllerOptions {
  std::filesystem::path dir;          // the command log's directory (the broker's first log dir)
  std::filesystem::path legacy_file;  // topics.json to migrate from (empty: none)
  storage::Env* env = nullptr;        // null: Env::posix()
  // The log is replaced by a snapshot once it holds this many records or bytes.
  int64_t snapshot_after_records = 1000;
  int64_t snapshot_after_bytes = 1 << 20;
};

class TopicController {
 public:
  using Done = std::function<void(TopicError)>;
  using Topics = TopicTable::Topics;

  TopicController(PartitionHost& host, TopicControllerOptions options);
  ~TopicController() { stop(); }

  // Recovers (see the top) and starts the threads. Returns an error message.
  std::string start();

  // Runs `cmd` through the pipeline; `done` is called once, from the
  // controller's or the reconciler's thread with no lock held. validate_only:
  // completes after validation, nothing written. Before start() or after
  // stop(): KAFKA_STORAGE_ERROR.
  void submit(TopicCommand cmd, bool validate_only, Done done);
  // submit() and wait.
  TopicError execute(TopicCommand cmd, bool validate_only);

  // The published table (see the top); never null.
  std::shared_ptr<const Topics> topics() const;
  // Called after each published change, on the reconciler's thread (or the
  // caller of start()), with no lock held. May be set at any time.
  void set_on_change(std::function<void()> cb) {
    std::lock_guard l(view_mu_);
    on_change_ = std::make_shared<const std::function<void()>>(std::move(cb));
  }

  // Completes what was submitted, then joins both threads.
  void stop();

  // The table as applied (tests). REQUIRES: no command in flight.
  const TopicTable& table_for_tests() const { return table_; }
  const TopicCommandLog& log_for_tests() const { return log_; }

 private:
  void run(const TopicCommand& cmd, bool validate_only, const Done& done);  // on worker_
  void reconciled(const TopicCommand& cmd, const TopicDelta& delta, std::shared_ptr<const Topics> view, TopicError err,
                  const Done& done);  // on the reconciler's thread
  std::string recover();
  void maybe_snapshot();
  void publish(std::shared_ptr<const Topics> view);

  PartitionHost& host_;
  const TopicControllerOptions options_;
  TopicCommandLog log_;       // on worker_ (or start())
  TopicTable table_;          // on worker_ (or start())
  TopicReconciler reconciler_;
  SerialWorker worker_;
  mutable std::mutex view_mu_;
  std::shared_ptr<const Topics> view_;                         // GUARDED_BY(view_mu_)
  std::shared_ptr<const std::function<void()>> on_change_;     // GUARDED_BY(view_mu_)
  std::mutex state_mu_;
  bool started_ = false;  // GUARDED_BY(state_mu_)
};

}  // namespace millrace::cluster
