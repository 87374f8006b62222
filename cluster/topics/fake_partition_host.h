// FakePartitionHost: an in-memory PartitionHost for the topic tests, which
// records every call and fails the ones a test asks it to.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cluster/topics/partition_host.h"

namespace millrace::cluster {

class FakePartitionHost final : public PartitionHost {
 public:
  storage::Status create(const storage::TopicPartition& tp, const std::map<std::string, std::string>& configs) override {
    if (auto it = create_delay.find(tp.topic); it != create_delay.end()) std::this_thread::sleep_for(it->second);
    std::lock_guard l(mu_);
    calls.push_back("create " + tp.dir_name());
    threads.insert(std::this_thread::get_id());
    if (fail_create.count(tp)) return {storage::Errc::kStorageError, "disk on fire: " + tp.dir_name()};
    if (parts.count(tp)) return {storage::Errc::kAlreadyExists, tp.dir_name()};
    parts[tp] = false;
    configs_[tp.topic] = configs;
    return {};
  }
  storage::Status remove(const storage::TopicPartition& tp) override {
    std::lock_guard l(mu_);
    calls.push_back("remove " + tp.dir_name());
    parts.erase(tp);
    return {};
  }
  storage::Status set_configs(const std::string& topic, const std::map<std::string, std::string>& c) override {
    std::lock_guard l(mu_);
    calls.push_back("configs " + topic);
    if (fail_configs) return {storage::Errc::kInvalidArgument, "refused"};
    configs_[topic] = c;
    return {};
  }
  storage::Status mark_offline(const storage::TopicPartition& tp, const storage::Status& why) override {
    std::lock_guard l(mu_);
    calls.push_back("offline " + tp.dir_name());
    if (parts.count(tp)) return {storage::Errc::kAlreadyExists, tp.dir_name()};
    parts[tp] = true;
    offline_why[tp] = why.message();
    return {};
  }
  std::vector<storage::TopicPartition> partitions() const override {
    std::lock_guard l(mu_);
    std::vector<storage::TopicPartition> out;
    for (const auto& [tp, off] : parts) out.push_back(tp);
    return out;
  }
  bool has(const storage::TopicPartition& tp) const override {
    std::lock_guard l(mu_);
    return parts.count(tp) > 0;
  }

  bool online(const std::string& topic, int32_t p) const {
    std::lock_guard l(mu_);
    auto it = parts.find({topic, p});
    return it != parts.end() && !it->second;
  }
  bool offline(const std::string& topic, int32_t p) const {
    std::lock_guard l(mu_);
    auto it = parts.find({topic, p});
    return it != parts.end() && it->second;
  }
  std::map<std::string, std::string> configs(const std::string& topic) const {
    std::lock_guard l(mu_);
    auto it = configs_.find(topic);
    return it == configs_.end() ? std::map<std::string, std::string>{} : it->second;
  }

  // Test state; the maps are read by the tests once the host is quiet.
  mutable std::mutex mu_;
  std::map<storage::TopicPartition, bool> parts;  // true: offline
  std::map<storage::TopicPartition, std::string> offline_why;
  std::map<std::string, std::map<std::string, std::string>> configs_;
  std::set<storage::TopicPartition> fail_create;
  bool fail_configs = false;
  std::map<std::string, std::chrono::milliseconds> create_delay;  // set before use
  std::vector<std::string> calls;
  std::set<std::thread::id> threads;
};

}  // namespace millrace::cluster
