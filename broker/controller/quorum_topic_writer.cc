#include "broker/controller/quorum_topic_writer.h"

#include "broker/server/request_dispatcher.h"

#include "cluster/controller/reassignment_control.h"
#include "cluster/controller/topic_control.h"
#include "cluster/topics/topic_command.h"
#include "protocol/generated/create_topics_request.h"
#include "protocol/generated/create_topics_response.h"
#include "protocol/request_frame.h"
#include "protocol/wire/reader.h"
#include "protocol/wire/writer.h"

namespace millrace::broker {

void QuorumTopicWriter::write(ControllerQuorum::Decide decide, Done done) {
  quorum_.submit(std::move(decide), [this, done = std::move(done)](WriteOutcome o) {
    if (!o.result.ok()) return done({o.result.error, o.result.message});
    mirror_.when_applied(o.applied, [done] { done({}); });
  });
}

void QuorumTopicWriter::create_async(const std::string& name, int32_t partitions, int16_t replication_factor,
                                     const std::map<std::string, std::string>& configs, bool validate_only,
                                     Done done) {
  // -1: default.replication.factor, capped by the live brokers where the
  // active controller decides (so forwarded as -1).
  if (!validate_only && !quorum_.is_leader())
    return forward_create(name, partitions, replication_factor, configs, std::move(done));
  const bool by_default = replication_factor == -1;
  const int16_t rf = by_default ? default_rf_ : replication_factor;
  topics_.create_async(name, partitions, configs, false, true,
                       [this, name, partitions, rf, by_default, configs, validate_only, done](cluster::TopicError e) {
                         if (!e.ok() || validate_only) return done(std::move(e));
                         cluster::NewTopic t{name, partitions, rf, configs, by_default};
                         write([t](const cluster::MetadataState& s) {
                           return cluster::create_topic(s, t, cluster::random_topic_id());
                         },
                               done);
                       });
}

void QuorumTopicWriter::forward_create(const std::string& name, int32_t partitions, int16_t rf,
                                       const std::map<std::string, std::string>& configs, Done done) {
  // A creation a request other than CreateTopics asked for (Metadata's
  // auto-creation) on a node that is not the active controller: sent there as
  // the CreateTopics a client would send.
  constexpr int16_t kVersion = 7;
  proto::CreateTopicsRequest req;
  auto& t = req.topics.emplace_back();
  t.name = name;
  t.num_partitions = partitions;
  t.replication_factor = rf;
  for (const auto& [k, v] : configs) t.configs.push_back({k, v});
  req.timeout_ms = 30000;
  proto::RequestHeader h;
  h.request_api_key = proto::CreateTopicsRequest::kApiKey;
  h.request_api_version = kVersion;
  h.correlation_id = 1;
  h.client_id = "millrace-auto-create";
  std::vector<uint8_t> frame;
  wire::Writer w(frame);
  proto::encode_request_frame(h, proto::RequestBody(std::move(req)), w);
  // The broker's own request (it authorized the client's): an internal principal.
  quorum_.forward(std::move(frame), std::string(kInternalPrincipal), "", [this, done = std::move(done)](ControllerQuorum::Forwarded f) {
    if (f.error != 0) return done({f.error, "the active controller did not answer; retry"});
    auto parsed = proto::parse_response_frame(f.response_frame, proto::CreateTopicsRequest::kApiKey, kVersion);
    proto::CreateTopicsResponse resp;
    if (!parsed) return done({-1, "unreadable answer from the active controller"});
    wire::Reader r(parsed->body);
    if (!resp.decode(r, kVersion) || resp.topics.empty()) return done({-1, "unreadable answer from the active controller"});
    cluster::TopicError e{resp.topics[0].error_code, resp.topics[0].error_message.value_or("")};
    mirror_.when_applied(f.metadata_offset, [done, e] { done(e); });
  });
}

void QuorumTopicWriter::remove_async(const std::string& name, const cluster::TopicId& id, Done done) {
  write(
      [name, id](const cluster::MetadataState& s) -> cluster::ControlResult {
        const auto* t = s.topic(name);
        if (t && id != cluster::TopicId{} && t->id != id)
          return {100, "the topic " + name + " no longer has that id", {}};  // UNKNOWN_TOPIC_ID
        return cluster::delete_topic(s, name);
      },
      std::move(done));
}

void QuorumTopicWriter::add_partitions_async(const std::string& name, int32_t total, bool validate_only, Done done) {
  topics_.add_partitions_async(name, total, true, [this, name, total, validate_only, done](cluster::TopicError e) {
    if (!e.ok() || validate_only) return done(std::move(e));
    write([name, total](const cluster::MetadataState& s) { return cluster::create_partitions(s, name, total); }, done);
  });
}

void QuorumTopicWriter::alter_configs_async(const std::string& name,
                                            const std::map<std::string, std::optional<std::string>>& changes,
                                            bool replace, bool validate_only, Done done) {
  topics_.alter_configs_async(name, changes, replace, true,
                              [this, name, changes, replace, validate_only, done](cluster::TopicError e) {
                                if (!e.ok() || validate_only) return done(std::move(e));
                                write([name, changes, replace](const cluster::MetadataState& s) {
                                  return cluster::alter_topic_configs(s, name, changes, replace);
                                },
                                      done);
                              });
}

void QuorumTopicWriter::reassign_async(const std::string& topic, int32_t partition,
                                       const std::optional<std::vector<int32_t>>& target, Done done) {
  write([topic, partition, target](const cluster::MetadataState& s) {
    return cluster::alter_partition_reassignment(s, topic, partition, target);
  },
        std::move(done));
}

void QuorumTopicWriter::write_records_async(std::vector<cluster::records::AnyRecord> records, Done done) {
  if (records.empty()) return done({});
  write([records = std::move(records)](const cluster::MetadataState&) {
    return cluster::ControlResult{0, "", records};
  },
        std::move(done));
}

}  // namespace millrace::broker
