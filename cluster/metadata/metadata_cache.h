// The current metadata image, swapped whole: publish() replaces it, current()
// hands a reader a snapshot it keeps for its whole request (no lock is held
// across a handler; an image is immutable). Versions only move forward: an
// image older than the current one is ignored, so two publishers racing can
// never roll the view back.
//
// Thread-safety: any thread (std::atomic<std::shared_ptr>).
#pragma once

#include <atomic>
#include <memory>

#include "cluster/metadata/metadata_image.h"

namespace millrace::cluster {

class MetadataCache {
 public:
  MetadataCache() : image_(std::make_shared<const MetadataImage>()) {}
  std::shared_ptr<const MetadataImage> current() const { return image_.load(std::memory_order_acquire); }
  // Returns false (and keeps the current image) when `next` is not newer.
  bool publish(std::shared_ptr<const MetadataImage> next);

 private:
  std::atomic<std::shared_ptr<const MetadataImage>> image_;
};

}  // namespace millrace::cluster
