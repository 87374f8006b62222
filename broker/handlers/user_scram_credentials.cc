// DescribeUserScramCredentials (key 50, v0) and AlterUserScramCredentials
// (key 51, v0): kafka-configs.sh --entity-type users. Alter runs where the
// active controller is (the dispatcher forwards it): each user's changes are
// checked against the credentials in its image (cluster/controller/
// scram_control.h) and the good users' records written in one batch, answered
// once committed and applied here. Describe answers from this node's image:
// the mechanisms and iterations of each user's credentials, never the keys.
#include "broker/handlers/await_callback.h"
#include "broker/handlers/authorize.h"
#include "broker/handlers/handlers.h"
#include "cluster/controller/scram_control.h"

namespace millrace::broker {

Task<proto::DescribeUserScramCredentialsResponse> handle(RequestContext& ctx,
                                                         proto::DescribeUserScramCredentialsRequest& req) {
  proto::DescribeUserScramCredentialsResponse resp;
  auto image = ctx.broker.metadata.current();
  if (!cluster_allowed(ctx, *image, acl::AclOperation::kDescribe)) {
    resp.error_code = ctx.note(proto::ErrorCode::kClusterAuthorizationFailed);
    resp.error_message = "Cluster authorization failed.";
    // As Kafka's error response: a result per named user, its name left empty.
    for (size_t i = 0; i < (req.users ? req.users->size() : 0); ++i) {
      auto& r = resp.results.emplace_back();
      r.error_code = resp.error_code;
      r.error_message = resp.error_message;
    }
    co_return resp;
  }
  const auto& scram = image->security().scram;
  std::vector<std::string> users;
  if (req.users && !req.users->empty()) {
    for (const auto& u : *req.users) users.push_back(u.name);
  } else {
    for (const auto& [key, r] : scram)
      if (users.empty() || users.back() != key.first) users.push_back(key.first);
  }
  std::map<std::string, int> seen;
  for (const auto& u : users) ++seen[u];
  std::set<std::string> answered;
  for (const auto& user : users) {
    if (!answered.insert(user).second) continue;
    auto& r = resp.results.emplace_back();
    r.user = user;
    if (seen[user] > 1) {
      r.error_code = ctx.note(proto::ErrorCode::kDuplicateResource);
      r.error_message = "Cannot describe SCRAM credentials for the same user twice in a single request: " + user;
      continue;
    }
    for (auto it = scram.lower_bound({user, 0}); it != scram.end() && it->first.first == user; ++it)
      r.credential_infos.push_back({it->second.mechanism, it->second.iterations});
    if (r.credential_infos.empty()) {
      r.error_code = ctx.note(proto::ErrorCode::kResourceNotFound);
      r.error_message = "Attempt to describe a user credential that does not exist: " + user;
    }
  }
  co_return resp;
}

Task<proto::AlterUserScramCredentialsResponse> handle(RequestContext& ctx,
                                                      proto::AlterUserScramCredentialsRequest& req) {
  proto::AlterUserScramCredentialsResponse resp;
  std::vector<cluster::ScramChange> changes;
  for (const auto& d : req.deletions) changes.push_back({d.name, d.mechanism, true, 0, {}, {}});
  for (const auto& u : req.upsertions)
    changes.push_back({u.name, u.mechanism, false, u.iterations, u.salt, u.salted_password});
  auto image = ctx.broker.metadata.current();
  if (!cluster_allowed(ctx, *image, acl::AclOperation::kAlter)) {
    std::set<std::string> users;
    for (const auto& c : changes)
      if (users.insert(c.user).second)
        resp.results.push_back({c.user, ctx.note(proto::ErrorCode::kClusterAuthorizationFailed),
                                "Cluster authorization failed.", {}});
    co_return resp;
  }
  auto decision = cluster::alter_scram_credentials(image->security().scram, changes);
  int16_t written = 0;
  std::string why;
  if (!decision.records.empty()) {
    auto done = await_callback<cluster::TopicError>(ctx.executor, [&ctx, &decision](auto cb) {
      ctx.broker.topic_writer->write_records_async(std::move(decision.records), std::move(cb));
    });
    cluster::TopicError e = co_await std::move(done);
    written = e.code;
    why = e.message;
  }
  for (const auto& r : decision.results) {
    auto& out = resp.results.emplace_back();
    out.user = r.user;
    out.error_code = ctx.note(r.error != 0 ? r.error : written);
    if (r.error != 0) out.error_message = r.message;
    else if (written != 0) out.error_message = why;
    else out.error_message = std::nullopt;
  }
  co_return resp;
}

}  // namespace millrace::broker
