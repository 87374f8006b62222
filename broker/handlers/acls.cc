// CreateAcls (key 30, v2-3), DescribeAcls (key 29, v1-3), DeleteAcls (key 31,
// v2-3): kafka-acls.sh. Bindings live in the metadata log
// (AccessControlEntryRecord); Create and Delete run where the active
// controller is (the dispatcher forwards them with the client's principal),
// Describe answers from this node's image. Without an authorizer
// (authorizer.class.name empty) each answers SECURITY_DISABLED, as Kafka
// does. They need ALTER (Create, Delete) or DESCRIBE on the cluster.
#include <map>
#include <set>
#include <tuple>

#include "broker/handlers/authorize.h"
#include "broker/handlers/await_callback.h"
#include "broker/handlers/handlers.h"
#include "broker/kafka/authz.h"
#include "cluster/metadata/records/generated/remove_access_control_entry_record.h"
#include "cluster/topics/topic_command.h"

namespace millrace::broker {

namespace {

constexpr const char* kNoAuthorizer = "No Authorizer is configured on the broker";

acl::AclBindingFilter filter_of(int8_t type, const std::optional<std::string>& name, int8_t pattern,
                                const std::optional<std::string>& principal, const std::optional<std::string>& host,
                                int8_t operation, int8_t permission) {
  acl::AclBindingFilter f;
  f.resource_type = acl::resource_type_from_code(type);
  f.resource_name = name;
  f.pattern_type = acl::pattern_type_from_code(pattern);
  f.principal = principal;
  f.host = host;
  f.operation = acl::operation_from_code(operation);
  f.permission = acl::permission_from_code(permission);
  return f;
}

}  // namespace

Task<proto::CreateAclsResponse> handle(RequestContext& ctx, proto::CreateAclsRequest& req) {
  proto::CreateAclsResponse resp;
  auto fail_all = [&](proto::ErrorCode code, const std::string& message) {
    for (size_t i = 0; i < req.creations.size(); ++i)
      resp.results.push_back({ctx.note(code), message, {}});
  };
  if (!ctx.broker.authz || !ctx.broker.authz->enabled()) {
    fail_all(proto::ErrorCode::kSecurityDisabled, kNoAuthorizer);
    co_return resp;
  }
  auto image = ctx.broker.metadata.current();
  if (!cluster_allowed(ctx, *image, acl::AclOperation::kAlter)) {
    fail_all(proto::ErrorCode::kClusterAuthorizationFailed, "Cluster authorization failed.");
    co_return resp;
  }
  std::set<acl::AclBinding> existing;
  for (const auto& r : image->security().acls) existing.insert(Authz::binding_of(r));
  std::vector<cluster::records::AnyRecord> records;
  std::vector<std::pair<int16_t, std::string>> results;
  for (const auto& c : req.creations) {
    acl::AclBinding b;
    b.resource_type = acl::resource_type_from_code(c.resource_type);
    b.resource_name = c.resource_name;
    b.pattern_type = acl::pattern_type_from_code(c.resource_pattern_type);
    b.principal = c.principal;
    b.host = c.host;
    b.operation = acl::operation_from_code(c.operation);
    b.permission = acl::permission_from_code(c.permission_type);
    if (auto e = acl::validate_for_create(b)) {
      results.emplace_back(e->error_code, e->message);
      continue;
    }
    results.emplace_back(0, "");
    if (!existing.insert(b).second) continue;  // already there: Kafka answers success
    cluster::records::AccessControlEntryRecord r;
    r.id.bytes = cluster::random_topic_id();
    r.resource_type = c.resource_type;
    r.resource_name = c.resource_name;
    r.pattern_type = c.resource_pattern_type;
    r.principal = c.principal;
    r.host = c.host;
    r.operation = c.operation;
    r.permission_type = c.permission_type;
    records.emplace_back(std::move(r));
  }
  int16_t written = 0;
  std::string why;
  if (!records.empty()) {
    auto done = await_callback<cluster::TopicError>(ctx.executor, [&ctx, &records](auto cb) {
      ctx.broker.topic_writer->write_records_async(std::move(records), std::move(cb));
    });
    cluster::TopicError e = co_await std::move(done);
    written = e.code;
    why = e.message;
  }
  for (auto& [code, message] : results) {
    auto& out = resp.results.emplace_back();
    out.error_code = ctx.note(code != 0 ? code : written);
    out.error_message = code != 0 ? std::optional(message) : written != 0 ? std::optional(why) : std::nullopt;
  }
  co_return resp;
}

Task<proto::DescribeAclsResponse> handle(RequestContext& ctx, proto::DescribeAclsRequest& req) {
  proto::DescribeAclsResponse resp;
  if (!ctx.broker.authz || !ctx.broker.authz->enabled()) {
    resp.error_code = ctx.note(proto::ErrorCode::kSecurityDisabled);
    resp.error_message = kNoAuthorizer;
    co_return resp;
  }
  auto image = ctx.broker.metadata.current();
  if (!cluster_allowed(ctx, *image, acl::AclOperation::kDescribe)) {
    resp.error_code = ctx.note(proto::ErrorCode::kClusterAuthorizationFailed);
    resp.error_message = "Cluster authorization failed.";
    co_return resp;
  }
  auto f = filter_of(req.resource_type_filter, req.resource_name_filter, req.pattern_type_filter,
                     req.principal_filter, req.host_filter, req.operation, req.permission_type);
  if (auto e = acl::validate_filter(f)) {
    resp.error_code = ctx.note(e->error_code);
    resp.error_message = e->message;
    co_return resp;
  }
  std::map<std::tuple<int8_t, std::string, int8_t>, std::vector<acl::AclBinding>> by_resource;
  for (const auto& b : ctx.broker.authz->for_image(*image)->acls(f))
    by_resource[{static_cast<int8_t>(b.resource_type), b.resource_name, static_cast<int8_t>(b.pattern_type)}]
        .push_back(b);
  for (const auto& [key, bindings] : by_resource) {
    auto& r = resp.resources.emplace_back();
    r.resource_type = std::get<0>(key);
    r.resource_name = std::get<1>(key);
    r.pattern_type = std::get<2>(key);
    for (const auto& b : bindings)
      r.acls.push_back({b.principal, b.host, static_cast<int8_t>(b.operation), static_cast<int8_t>(b.permission), {}});
  }
  resp.error_message = std::nullopt;
  co_return resp;
}

Task<proto::DeleteAclsResponse> handle(RequestContext& ctx, proto::DeleteAclsRequest& req) {
  proto::DeleteAclsResponse resp;
  auto fail_all = [&](proto::ErrorCode code, const std::string& message) {
    for (size_t i = 0; i < req.filters.size(); ++i) {
      auto& r = resp.filter_results.emplace_back();
      r.error_code = ctx.note(code);
      r.error_message = message;
    }
  };
  if (!ctx.broker.authz || !ctx.broker.authz->enabled()) {
    fail_all(proto::ErrorCode::kSecurityDisabled, kNoAuthorizer);
    co_return resp;
  }
  auto image = ctx.broker.metadata.current();
  if (!cluster_allowed(ctx, *image, acl::AclOperation::kAlter)) {
    fail_all(proto::ErrorCode::kClusterAuthorizationFailed, "Cluster authorization failed.");
    co_return resp;
  }
  auto authorizer = ctx.broker.authz->for_image(*image);
  std::set<acl::AclId> removing;
  std::vector<cluster::records::AnyRecord> records;
  for (const auto& fr : req.filters) {
    auto& out = resp.filter_results.emplace_back();
    out.error_message = std::nullopt;
    auto f = filter_of(fr.resource_type_filter, fr.resource_name_filter, fr.pattern_type_filter, fr.principal_filter,
                       fr.host_filter, fr.operation, fr.permission_type);
    if (auto e = acl::validate_filter(f)) {
      out.error_code = ctx.note(e->error_code);
      out.error_message = e->message;
      continue;
    }
    for (const auto& [id, b] : authorizer->find(f)) {
      auto& m = out.matching_acls.emplace_back();
      m.error_message = std::nullopt;
      m.resource_type = static_cast<int8_t>(b.resource_type);
      m.resource_name = b.resource_name;
      m.pattern_type = static_cast<int8_t>(b.pattern_type);
      m.principal = b.principal;
      m.host = b.host;
      m.operation = static_cast<int8_t>(b.operation);
      m.permission_type = static_cast<int8_t>(b.permission);
      if (!removing.insert(id).second) continue;
      cluster::records::RemoveAccessControlEntryRecord r;
      r.id.bytes = id;
      records.emplace_back(std::move(r));
    }
  }
  if (!records.empty()) {
    auto done = await_callback<cluster::TopicError>(ctx.executor, [&ctx, &records](auto cb) {
      ctx.broker.topic_writer->write_records_async(std::move(records), std::move(cb));
    });
    cluster::TopicError e = co_await std::move(done);
    if (e.code != 0)
      for (auto& r : resp.filter_results)
        if (r.error_code == 0) {
          r.error_code = ctx.note(e.code);
          r.error_message = e.message;
          r.matching_acls.clear();
        }
  }
  co_return resp;
}

}  // namespace millrace::broker
