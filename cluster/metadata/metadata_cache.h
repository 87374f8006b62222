// The current metadata image, swapped whole: publish() replaces it, current()
// hands a reader a snapshot it keeps for its whole request (no lock is held
// across a handler; an image is immutable). Versions only move forward: an
// image older than the current one is ignored, so two publishers racing can
// never roll the view back.
//
// Thread-safety: any thread. A mutex guards only the pointer copy (a few
// nanoseconds, never held across a handler); std::atomic<std::shared_ptr> of
// libstdc++ 12 locks with a bit TSan cannot see, so it reported false races.
#pragma once

#include <mutex>
#include <memory>

#include "cluster/metadata/metadata_image.h"

namespace millrace::cluster {

class MetadataCache {
 public:
  MetadataCache() : image_(std::make_shared<const MetadataImage>()) {}
  std::shared_ptr<const MetadataImage> current() const {
    std::lock_guard lock(mu_);
    return image_;
  }
  // Returns false (and keeps the current image) when `next` is not newer.
  bool publish(std::shared_ptr<const MetadataImage> next);

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const MetadataImage> image_;  // GUARDED_BY(mu_), never null
};

}  // namespace millrace::cluster
