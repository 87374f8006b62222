#include "cluster/metadata/metadata_cache.h"

namespace millrace::cluster {

bool MetadataCache::publish(std::shared_ptr<const MetadataImage> next) {
  auto cur = image_.load(std::memory_order_acquire);
  while (!cur || next->version() > cur->version()) {
    if (image_.compare_exchange_weak(cur, next, std::memory_order_acq_rel, std::memory_order_acquire)) return true;
  }
  return false;
}

}  // namespace millrace::cluster
