// The broker's authorizer (Kafka's StandardAuthorizer, by its keys):
// authorizer.class.name turns it on, super.users (User:a;User:b) and
// allow.everyone.if.no.acl.found set its rules, and the ACL bindings are the
// metadata image's (AccessControlEntryRecords): the security/acl Authorizer is
// built again when the image's ACLs change and shared, immutable, by the
// requests that read it. Each denial is logged with Kafka's audit line
// (principal, operation, host, resource, the rule) and counted in
// millrace_authorization_denials_total{api,resource}. Off, every request is
// allowed (Kafka without an authorizer) and the ACL APIs answer
// SECURITY_DISABLED.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "broker/server/request_dispatcher.h"
#include "cluster/metadata/metadata_image.h"
#include "security/acl/authorizer.h"

namespace millrace::broker {

namespace acl = security::acl;

class BrokerMetrics;

class Authz {
 public:
  // `class_name`: authorizer.class.name ("" = off); `super_users`: super.users.
  Authz(std::string class_name, std::string_view super_users, bool allow_if_no_acl, BrokerMetrics* metrics);

  bool enabled() const { return enabled_; }
  // The authorizer for `image`'s ACLs (null when off).
  std::shared_ptr<const acl::Authorizer> for_image(const cluster::MetadataImage& image);

  // Is `session` allowed `op` on the resource? Logs and counts a denial
  // (api: the request's name, for the metric). Always true when off.
  // `audit` false: a filter (Metadata of all topics), not logged or counted.
  bool allow(const cluster::MetadataImage& image, const SecuritySession& session, std::string_view api,
             acl::AclOperation op, acl::ResourceType type, std::string_view name, bool audit = true);
  // Kafka's authorizeByResourceType (InitProducerId: WRITE on any topic).
  bool allow_any(const cluster::MetadataImage& image, const SecuritySession& session, acl::AclOperation op,
                 acl::ResourceType type);
  // The *_authorized_operations bits of the resource for this session.
  int32_t operations(const cluster::MetadataImage& image, const SecuritySession& session, acl::ResourceType type,
                     std::string_view name);
  // cluster_authorized_operations of Metadata (v8-10) and DescribeCluster as
  // Kafka reports them: the cluster's bits when DESCRIBE on the cluster is
  // allowed (a denial is logged and counted), else 0.
  int32_t cluster_operations(const cluster::MetadataImage& image, const SecuritySession& session,
                             std::string_view api);
  // A config resource of DescribeConfigs, AlterConfigs or
  // IncrementalAlterConfigs (`config_type` as on the wire: TOPIC 2, BROKER 4,
  // BROKER_LOGGER 8, CLIENT_METRICS 16, GROUP 32): 0 when `op`
  // (DESCRIBE_CONFIGS or ALTER_CONFIGS) is allowed on the resource Kafka checks
  // for that type (the topic, the cluster, the group), else the error Kafka
  // answers for that resource (TOPIC_, CLUSTER_ or GROUP_AUTHORIZATION_FAILED).
  // 0 for a type Kafka does not know: the handler refuses it as INVALID_REQUEST.
  int16_t config_error(const cluster::MetadataImage& image, const SecuritySession& session, std::string_view api,
                       acl::AclOperation op, int8_t config_type, std::string_view name);

  // The image's AccessControlEntryRecords as bindings.
  static acl::AclBinding binding_of(const cluster::records::AccessControlEntryRecord& r);

 private:
  const bool enabled_;
  const acl::AuthorizerOptions options_;
  BrokerMetrics* metrics_;
  std::mutex mu_;
  uint64_t built_for_ = UINT64_MAX;  // GUARDED_BY(mu_): the image version
  std::shared_ptr<const acl::Authorizer> current_;       // GUARDED_BY(mu_)
};

}  // namespace millrace::broker
