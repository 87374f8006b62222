# The protocol-backed part of the client (included by CMakeLists.txt once
# millrace_protocol and millrace_record exist).
find_package(Boost REQUIRED COMPONENTS system)
add_library(millrace_client STATIC
  connection.cc cluster.cc consumer_protocol.cc admin.cc producer.cc consumer.cc consumer_group.cc consumer_fetcher.cc list_offsets.cc assignor.cc
  fetch_response_view.cc fetched_records.cc frame_buffer_pool.cc
  security_config.cc properties.cc tls_client.cc sasl_client.cc)
millrace_test(client_assignor_test assignor_test.cc LIBS millrace_client)
millrace_test(client_close_test close_test.cc LIBS millrace_client)
millrace_test(client_producer_batch_test producer_batch_test.cc LIBS millrace_client)
millrace_test(client_admin_test admin_test.cc LIBS millrace_client)
millrace_test(client_cli_rate_limiter_test cli/rate_limiter_test.cc LIBS millrace_client)
# Under the "tsan" label too (make tsan): application threads blocked in send/poll/admin
# calls against the io thread while close() stops it (Cluster::run's hand-off, the
# connections' teardown). The TSan build gets Boost.Asio through the root CMakeLists'
# BOOST_ASIO_DISABLE_FENCED_BLOCK.
millrace_tsan_test(client_tsan_close client_close_test *)
target_link_libraries(millrace_client PUBLIC millrace_client_core millrace_protocol millrace_record
  millrace_sasl millrace_tls Boost::system Threads::Threads)
# Security: the Java client's properties, TLS contexts, SASL exchanges (against
# security/sasl's SCRAM server), and secured connections to an in-process broker
# (TLS, mTLS, SASL PLAIN with re-authentication, refusals, a silent broker).
millrace_test(client_security_test security_config_test.cc properties_test.cc sasl_client_test.cc
  tls_connection_test.cc LIBS millrace_client)
# The connection cases again under TSan (make tsan): application threads calling into
# the io thread while it re-authenticates, the in-process broker on a thread of its own.
millrace_tsan_test(client_tsan_security client_security_test TlsConnection.*)

find_package(CLI11 QUIET)
add_executable(millrace cli/main.cc cli/topic_cmd.cc cli/produce_cmd.cc cli/consume_cmd.cc cli/group_cmd.cc
  cli/bench_cmd.cc)
target_link_libraries(millrace PRIVATE millrace_client)

# Live-cluster tests: run by tests/client/run against Millrace and Apache Kafka
# (not registered as unit tests: they need a broker).
add_executable(millrace_client_integration testing/integration_test.cc)
target_link_libraries(millrace_client_integration PRIVATE millrace_client GTest::gtest GTest::gtest_main)
# In the TSan build the same cases run under the "tsan" label against the Release
# broker (tests/client/tsan-live; skipped when build/release has none): the producer's
# sender and flush and the consumer's io-thread hand-offs need a live broker.
if(MILLRACE_SANITIZE STREQUAL "thread")
  add_test(NAME client_tsan_live COMMAND bash ${CMAKE_SOURCE_DIR}/tests/client/tsan-live
           ${CMAKE_SOURCE_DIR}/build/release ${CMAKE_BINARY_DIR})
  set_tests_properties(client_tsan_live PROPERTIES LABELS tsan SKIP_RETURN_CODE 77 TIMEOUT 900)
  set_property(GLOBAL APPEND PROPERTY MILLRACE_TSAN_TARGETS millrace_client_integration)
endif()

# librdkafka reference producer for the bench comparison (tests/client/bench-vs-librdkafka).
pkg_check_modules(RDKAFKA QUIET IMPORTED_TARGET rdkafka)
if(RDKAFKA_FOUND)
  add_executable(millrace_rdkafka_bench testing/rdkafka_bench.cc)
  target_link_libraries(millrace_rdkafka_bench PRIVATE PkgConfig::RDKAFKA)
endif()

# Consumer data path: the zero-copy Fetch response view and lazy batch decoding.
millrace_test(client_fetch_response_view_test fetch_response_view_test.cc LIBS millrace_client)
millrace_test(client_fetched_records_test fetched_records_test.cc LIBS millrace_client)
millrace_test(client_frame_buffer_pool_test frame_buffer_pool_test.cc LIBS millrace_client)
# Frames taken on the io thread and released by application threads.
millrace_tsan_test(client_tsan_frame_buffer_pool client_frame_buffer_pool_test *)
