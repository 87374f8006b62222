// The handlers' one call into the authorizer (kafka/authz.h): is this
// request's principal allowed `op` on the resource? Always true without an
// authorizer. A denial is logged and counted by Authz.
#pragma once

#include <string_view>

#include "broker/kafka/authz.h"
#include "broker/kafka/request_context.h"
#include "protocol/generated/api_keys.h"

namespace millrace::broker {

inline bool allowed(RequestContext& ctx, const cluster::MetadataImage& image, acl::AclOperation op,
                    acl::ResourceType type, std::string_view name, bool audit = true) {
  return !ctx.broker.authz ||
         ctx.broker.authz->allow(image, *ctx.conn.security, proto::api_name(ctx.api_key), op, type, name, audit);
}

// The *_authorized_operations bits (every supported operation without an authorizer).
inline int32_t operations(RequestContext& ctx, const cluster::MetadataImage& image, acl::ResourceType type,
                          std::string_view name) {
  return ctx.broker.authz ? ctx.broker.authz->operations(image, *ctx.conn.security, type, name)
                          : acl::supported_operations(type);
}

// cluster_authorized_operations: DESCRIBE on the cluster, else 0 (Kafka's rule;
// every cluster operation without an authorizer).
inline int32_t cluster_operations(RequestContext& ctx, const cluster::MetadataImage& image) {
  return ctx.broker.authz ? ctx.broker.authz->cluster_operations(image, *ctx.conn.security, proto::api_name(ctx.api_key))
                          : acl::supported_operations(acl::ResourceType::kCluster);
}

// 0, or the authorization error of a config resource (Authz::config_error).
inline int16_t config_error(RequestContext& ctx, const cluster::MetadataImage& image, acl::AclOperation op,
                            int8_t config_type, std::string_view name) {
  return ctx.broker.authz ? ctx.broker.authz->config_error(image, *ctx.conn.security, proto::api_name(ctx.api_key),
                                                           op, config_type, name)
                          : 0;
}

// Kafka's message for an authorization error code (Errors.message()).
inline const char* authorization_message(int16_t code) {
  switch (static_cast<proto::ErrorCode>(code)) {
    case proto::ErrorCode::kTopicAuthorizationFailed: return "Topic authorization failed.";
    case proto::ErrorCode::kGroupAuthorizationFailed: return "Group authorization failed.";
    case proto::ErrorCode::kClusterAuthorizationFailed: return "Cluster authorization failed.";
    default: return "";
  }
}

inline bool topic_allowed(RequestContext& ctx, const cluster::MetadataImage& image, acl::AclOperation op,
                          std::string_view topic, bool audit = true) {
  return allowed(ctx, image, op, acl::ResourceType::kTopic, topic, audit);
}

inline bool group_allowed(RequestContext& ctx, const cluster::MetadataImage& image, acl::AclOperation op,
                          std::string_view group, bool audit = true) {
  return allowed(ctx, image, op, acl::ResourceType::kGroup, group, audit);
}

inline bool cluster_allowed(RequestContext& ctx, const cluster::MetadataImage& image, acl::AclOperation op,
                            bool audit = true) {
  return allowed(ctx, image, op, acl::ResourceType::kCluster, acl::kClusterName, audit);
}

}  // namespace millrace::broker
