// TopicReconciler: makes this node's partitions follow the topic table
// (Redpanda's controller_backend, KRaft's metadata loader). The table's owner
// hands it the delta of each applied command, in command order, with a
// completion; on its own thread (never an io thread, never under the table's
// owner's locks) it creates, removes and reconfigures partitions through a
// PartitionHost, records how far it got, then calls the completion.
//
// topics.reconciled (in the command log's directory), written with
// write_file_atomic after each command whose delta touched partitions:
//   | version u8 = 1 | offset i64 | crc32c u32 |   (storage::encode_framed)
//   every command up to `offset` has been reconciled. At start, the commands
//   above it are reconciled again (a partition they made may exist already:
//   fine); those at or below it are not, so a partition they made that the
//   disk lacks now was lost and stays offline, never re-created empty.
//
// Failure: when a partition cannot be created the completion gets
// KAFKA_STORAGE_ERROR (56) with the reason. For a new topic the partitions
// already made for it are removed again (the owner then deletes the topic from
// the table, as if it had never been created); for added partitions the ones
// not made are marked offline, as the table lists them. A partition that
// cannot be removed is left for the next start (logged by the host). A config
// change the host refuses answers INVALID_CONFIG (40).
//
// Thread-safety: enqueue(), reconciled_offset() from any thread; the rest from
// the owner before start() (or after stop()).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>

#include "cluster/topics/partition_host.h"
#include "cluster/topics/serial_worker.h"
#include "cluster/topics/topic_table.h"
#include "storage/env.h"
#include "storage/status.h"

namespace millrace::cluster {

class TopicReconciler {
 public:
  static constexpr uint8_t kMarkVersion = 1;
  static constexpr const char* kMarkName = "topics.reconciled";

  // env null: Env::posix().
  TopicReconciler(PartitionHost& host, std::filesystem::path dir, storage::Env* env = nullptr);
  ~TopicReconciler() { stop(); }

  // topics.reconciled's offset; nullopt when the file is missing; an error
  // when it cannot be read or fails its CRC.
  storage::Result<std::optional<int64_t>> read_mark() const;
  storage::Status write_mark(int64_t offset);

  // Reconciles `delta` on the calling thread (at start, before start()).
  TopicError reconcile(const TopicDelta& delta);

  // Starts the thread; `offset` is what is reconciled so far.
  void start(int64_t offset);
  // Reconciles the command at `offset` after every one enqueued before it,
  // records it, then calls `done` (on the reconciler's thread, no lock held).
  // After stop(), `done` is called at once with KAFKA_STORAGE_ERROR.
  void enqueue(int64_t offset, TopicDelta delta, std::function<void(TopicError)> done);
  // Finishes what was enqueued, then joins.
  void stop() { worker_.stop(); }

  int64_t reconciled_offset() const { return reconciled_.load(std::memory_order_acquire); }

 private:
  PartitionHost& host_;
  std::filesystem::path mark_;
  storage::Env* env_;
  std::atomic<int64_t> reconciled_{0};
  SerialWorker worker_;
};

}  // namespace millrace::cluster
