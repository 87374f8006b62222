#include "broker/kafka/authz.h"

#include <spdlog/spdlog.h>

#include "broker/metrics/broker_metrics.h"
#include "security/acl/api_operations.h"

namespace millrace::broker {

Authz::Authz(std::string class_name, std::string_view super_users, bool allow_if_no_acl, BrokerMetrics* metrics)
    : enabled_(!class_name.empty()),
      options_([&] {
        acl::AuthorizerOptions o;
        size_t start = 0;
        const std::string text(super_users);
        while (start <= text.size()) {
          size_t semi = text.find(';', start);
          std::string u = text.substr(start, semi == std::string::npos ? std::string::npos : semi - start);
          u.erase(0, u.find_first_not_of(" \t"));
          u.erase(u.find_last_not_of(" \t") + 1);
          if (!u.empty()) o.super_users.insert(u);
          if (semi == std::string::npos) break;
          start = semi + 1;
        }
        o.allow_everyone_if_no_acl_found = allow_if_no_acl;
        return o;
      }()),
      metrics_(metrics) {}

acl::AclBinding Authz::binding_of(const cluster::records::AccessControlEntryRecord& r) {
  acl::AclBinding b;
  b.resource_type = acl::resource_type_from_code(r.resource_type);
  b.resource_name = r.resource_name;
  b.pattern_type = acl::pattern_type_from_code(r.pattern_type);
  b.principal = r.principal;
  b.host = r.host;
  b.operation = acl::operation_from_code(r.operation);
  b.permission = acl::permission_from_code(r.permission_type);
  return b;
}

std::shared_ptr<const acl::Authorizer> Authz::for_image(const cluster::MetadataImage& image) {
  if (!enabled_) return nullptr;
  std::lock_guard lock(mu_);
  const cluster::SecurityImage* security = &image.security();
  if (current_ && built_for_ == image.version()) return current_;
  auto a = std::make_shared<acl::Authorizer>(options_);
  std::vector<std::pair<acl::AclId, acl::AclBinding>> bindings;
  for (const auto& r : security->acls) bindings.emplace_back(r.id.bytes, binding_of(r));
  a->replace_all(std::move(bindings));
  current_ = std::move(a);
  built_for_ = image.version();
  return current_;
}

bool Authz::allow(const cluster::MetadataImage& image, const SecuritySession& session, std::string_view api,
                  acl::AclOperation op, acl::ResourceType type, std::string_view name, bool audit) {
  auto a = for_image(image);
  if (!a || session.principal == kInternalPrincipal) return true;
  auto d = a->authorize(session.principal, session.host, op, type, name);
  if (d.allowed) return true;
  if (!audit) return false;
  if (metrics_) metrics_->authorization_denials(api, acl::name(type)).Increment();
  spdlog::info("event=authorization_denied api={} {}", api,
               acl::audit_message(session.principal, session.host, op, type, name, d));
  return false;
}

bool Authz::allow_any(const cluster::MetadataImage& image, const SecuritySession& session, acl::AclOperation op,
                      acl::ResourceType type) {
  auto a = for_image(image);
  return !a || a->authorize_by_resource_type(session.principal, session.host, op, type);
}

int32_t Authz::operations(const cluster::MetadataImage& image, const SecuritySession& session,
                          acl::ResourceType type, std::string_view name) {
  auto a = for_image(image);
  if (!a) return acl::supported_operations(type);
  return a->authorized_operations(session.principal, session.host, type, name);
}

int32_t Authz::cluster_operations(const cluster::MetadataImage& image, const SecuritySession& session,
                                  std::string_view api) {
  if (!allow(image, session, api, acl::AclOperation::kDescribe, acl::ResourceType::kCluster, acl::kClusterName))
    return 0;
  return operations(image, session, acl::ResourceType::kCluster, acl::kClusterName);
}

int16_t Authz::config_error(const cluster::MetadataImage& image, const SecuritySession& session, std::string_view api,
                            acl::AclOperation op, int8_t config_type, std::string_view name) {
  auto check = acl::config_resource_check(config_type);
  if (!check) return 0;
  const std::string_view resource = check->cluster_resource ? acl::kClusterName : name;
  return allow(image, session, api, op, check->resource_type, resource) ? 0 : check->error_code;
}

}  // namespace millrace::broker
