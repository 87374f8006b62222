#include "operator/config_diff.h"

namespace millrace::op {

std::vector<ConfigOp> diff_topic_config(const std::map<std::string, std::string>& desired,
                                        const std::map<std::string, std::string>& dynamic) {
  std::vector<ConfigOp> ops;
  auto d = desired.begin();
  auto l = dynamic.begin();
  // Merge walk over two sorted maps.
  while (d != desired.end() || l != dynamic.end()) {
    if (l == dynamic.end() || (d != desired.end() && d->first < l->first)) {
      ops.push_back({ConfigOp::Kind::kSet, d->first, d->second});
      ++d;
    } else if (d == desired.end() || l->first < d->first) {
      ops.push_back({ConfigOp::Kind::kDelete, l->first, ""});
      ++l;
    } else {
      if (d->second != l->second) ops.push_back({ConfigOp::Kind::kSet, d->first, d->second});
      ++d;
      ++l;
    }
  }
  return ops;
}

}  // namespace millrace::op
