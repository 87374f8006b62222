// UpdateFeatures (key 57), v0-2 (kafka-features.sh upgrade / downgrade).
// Every feature Millrace supports has exactly one level
// (cluster/metadata/features.h), so a request either names the levels
// finalized now (nothing to write: answered here, on any broker, without the
// controller) or is refused whole with Kafka's INVALID_UPDATE_VERSION and its
// message. Cluster ALTER, as in Kafka. A downgrade flag on a level that is the
// current one changes nothing either.
#include "broker/handlers/authorize.h"
#include "broker/handlers/handlers.h"
#include "cluster/metadata/features.h"

namespace millrace::broker {

bool dynamic_quorum(const Config& config);  // api_versions.cc

Task<proto::UpdateFeaturesResponse> handle(RequestContext& ctx, proto::UpdateFeaturesRequest& req) {
  proto::UpdateFeaturesResponse resp;
  auto image = ctx.broker.metadata.current();
  auto answer = [&](int16_t code, std::optional<std::string> message) {
    resp.error_code = ctx.note(code);
    resp.error_message = std::move(message);
    for (const auto& u : req.feature_updates) {  // v0-1: one result per feature
      auto& r = resp.results.emplace_back();
      r.feature = u.feature;
      r.error_code = resp.error_code;
      r.error_message = resp.error_message;
    }
  };
  if (!cluster_allowed(ctx, *image, acl::AclOperation::kAlter)) {
    // Kafka's error response: the top-level error alone, no result per feature.
    resp.error_code = ctx.note(proto::ErrorCode::kClusterAuthorizationFailed);
    resp.error_message = authorization_message(resp.error_code);
    co_return resp;
  }
  const int32_t controller = image->controller_id() >= 0 ? image->controller_id() : ctx.broker.node_id;
  const bool dynamic = dynamic_quorum(ctx.broker.config);
  for (const auto& u : req.feature_updates) {
    if (ctx.api_version >= 1 && (u.upgrade_type < 1 || u.upgrade_type > 3)) {
      answer(proto::code(proto::ErrorCode::kInvalidRequest),
             "Invalid upgrade type " + std::to_string(u.upgrade_type) + " for feature " + u.feature);
      co_return resp;
    }
    if (std::string why = cluster::check_feature_update(u.feature, u.max_version_level, dynamic, controller);
        !why.empty()) {
      answer(proto::code(proto::ErrorCode::kInvalidUpdateVersion),
             "The update failed for all features since the following feature had an error: " + why);
      co_return resp;
    }
  }
  answer(0, std::nullopt);
  co_return resp;
}

}  // namespace millrace::broker
