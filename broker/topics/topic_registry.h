// The broker's topic metadata: which topics exist, their partition counts,
// topic ids and Kafka-named config overrides. A facade over the topic table of
// cluster/topics (topic_controller.h): every change is a command, written to
// the local command log (<first log dir>/topics.log, bounded by
// topics.snapshot; formats in cluster/topics/command_log.h) and applied in
// order; the reconciler then creates or removes the partition logs on a thread
// of its own. A change call completes once its command is applied AND
// reconciled, so a topic is usable as soon as its creation answers.
//
// topics.json, the file this replaces (a JSON table rewritten on every change,
// framed version 2 or the older unframed JSON), is read at the first start as
// the table's first snapshot, then removed: ids and configs are kept.
// At start, partitions found on disk but missing from the table are adopted
// (a topic with k partitions on disk gets k), so a lost table loses only
// config overrides. A partition the table lists but no log dir has is offline
// (KAFKA_STORAGE_ERROR), never re-created empty.
//
// Thread-safety: every call may run from any thread. Reads (get, all) see the
// table as of the last reconciled command. The blocking change calls must not
// be made from the on_change callback or a completion.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/topics/partition_host.h"
#include "cluster/topics/topic_controller.h"
#include "storage/log_manager.h"

namespace millrace::broker {

using TopicInfo = cluster::TopicInfo;
using TopicError = cluster::TopicError;

class TopicRegistry {
 public:
  // `file`: <first log dir>/topics.json; the command log lives beside it.
  // Partitions are made in `logs` (through cluster::LogManagerPartitionHost).
  TopicRegistry(storage::LogManager& logs, std::filesystem::path file, storage::Env* env = nullptr);
  // Partitions are made through `host` (e.g. the partition manager).
  TopicRegistry(cluster::PartitionHost& host, std::filesystem::path file, storage::Env* env = nullptr);
  ~TopicRegistry();

  // Recovers the table and starts it. Returns an error message.
  std::string load();

  std::optional<TopicInfo> get(const std::string& name) const;
  std::vector<TopicInfo> all() const;

  using Done = std::function<void(TopicError)>;
  // The change calls. Each calls `done` once, from the topic table's threads
  // (never the caller's), with a Kafka error code (0, TOPIC_ALREADY_EXISTS 36,
  // INVALID_TOPIC_EXCEPTION 17, INVALID_PARTITIONS 37, INVALID_CONFIG 40,
  // UNKNOWN_TOPIC_OR_PARTITION 3, UNKNOWN_TOPIC_ID 100, KAFKA_STORAGE_ERROR 56)
  // and a message. validate_only: checked, nothing changed.
  void create_async(const std::string& name, int32_t partitions, const std::map<std::string, std::string>& configs,
                    bool internal, bool validate_only, Done done);
  // `id` non-zero: the topic must still have that id.
  void remove_async(const std::string& name, const cluster::TopicId& id, Done done);
  void add_partitions_async(const std::string& name, int32_t total, bool validate_only, Done done);
  // Replaces (replace=true) or merges the topic's overrides; value nullopt deletes a key.
  void alter_configs_async(const std::string& name, const std::map<std::string, std::optional<std::string>>& changes,
                           bool replace, bool validate_only, Done done);

  // Applies a command as given (the metadata mirror: a topic with the id the
  // controller chose).
  void submit(cluster::TopicCommand cmd, Done done) { controller_.submit(std::move(cmd), false, std::move(done)); }

  // The same, blocking until done; return the code and fill `message`.
  int16_t create(const std::string& name, int32_t partitions, const std::map<std::string, std::string>& configs,
                 bool internal, bool validate_only, std::string& message);
  int16_t remove(const std::string& name, std::string& message);
  int16_t add_partitions(const std::string& name, int32_t total, bool validate_only, std::string& message);
  int16_t alter_configs(const std::string& name, const std::map<std::string, std::optional<std::string>>& changes,
                        bool replace, bool validate_only, std::string& message);

  static bool valid_topic_name(const std::string& name, std::string& why) {
    return cluster::valid_topic_name(name, why);
  }

  // Called after every change of the table has been applied and reconciled
  // (on the table's threads, no lock held): how the metadata image learns of
  // it. May be set at any time.
  void set_on_change(std::function<void()> cb) { controller_.set_on_change(std::move(cb)); }

  // Finishes the changes in flight and stops the table's threads.
  void stop() { controller_.stop(); }

 private:
  static int16_t wait(cluster::TopicController& c, cluster::TopicCommand cmd, bool validate_only, std::string& message);

  std::unique_ptr<cluster::PartitionHost> owned_host_;
  cluster::TopicController controller_;
};

}  // namespace millrace::broker
