# Tests of persistence/artifact_store.cpp. Included by
# tests/persistence/CMakeLists.txt after unit_persistence is defined: the
# suite joins that executable and uses its main.cpp and support.cpp, and
# the test data shared with the server and end-to-end suites.
target_sources(unit_persistence PRIVATE ${CMAKE_CURRENT_LIST_DIR}/artifact_store_test.cpp)
target_link_libraries(unit_persistence PRIVATE obs_test_support)
