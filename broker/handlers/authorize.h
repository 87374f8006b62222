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

inline bool topic_allowed(RequestContext& ctx, const cluster::MetadataImage& image, acl::AclOperation op,
                          std::string_view topic, bool audit = true) {
  return allowed(ctx, image, op, acl::ResourceType::kTopic, topic, audit);
}

inline bool group_allowed(RequestContext& ctx, const cluster::MetadataImage& image, acl::AclOperation op,
                          std::string_view group) {
  return allowed(ctx, image, op, acl::ResourceType::kGroup, group);
}

inline bool cluster_allowed(RequestContext& ctx, const cluster::MetadataImage& image, acl::AclOperation op,
                            bool audit = true) {
  return allowed(ctx, image, op, acl::ResourceType::kCluster, acl::kClusterName, audit);
}

}  // namespace millrace::broker
