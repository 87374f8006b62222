// IoPool: every index run exactly once per round, on several threads at once,
// round after round (so a late worker never runs a finished round's jobs).
#include "cluster/replication/io_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace millrace::cluster {
namespace {

TEST(IoPool, EveryIndexRunsOnceInEveryRound) {
  IoPool pool(4);
  for (size_t n : {0u, 1u, 2u, 7u, 100u, 1000u}) {
    for (int round = 0; round < 20; ++round) {
      std::vector<std::atomic<int>> hits(n);
      pool.run(n, [&](size_t i) { hits[i].fetch_add(1); });
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "n " << n << " index " << i;
    }
  }
}

TEST(IoPool, BlockingJobsOverlap) {
  IoPool pool(4);
  std::atomic<int> running{0}, most{0};
  pool.run(8, [&](size_t) {
    int now = running.fetch_add(1) + 1;
    for (int m = most.load(); now > m && !most.compare_exchange_weak(m, now);) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    running.fetch_sub(1);
  });
  EXPECT_GE(most.load(), 2) << "jobs ran one after another";
}

TEST(IoPool, NoThreadsRunsOnTheCaller) {
  IoPool pool(0);
  std::set<std::thread::id> ids;
  std::mutex mu;
  pool.run(5, [&](size_t) {
    std::lock_guard lock(mu);
    ids.insert(std::this_thread::get_id());
  });
  EXPECT_EQ(ids, std::set<std::thread::id>{std::this_thread::get_id()});
}

}  // namespace
}  // namespace millrace::cluster
