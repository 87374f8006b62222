#include "cluster/metadata/metadata_cache.h"

#include <utility>

namespace millrace::cluster {

bool MetadataCache::publish(std::shared_ptr<const MetadataImage> next) {
  std::shared_ptr<const MetadataImage> old;  // released after the lock
  std::lock_guard lock(mu_);
  if (next->version() <= image_->version()) return false;
  old = std::exchange(image_, std::move(next));
  return true;
}

}  // namespace millrace::cluster
