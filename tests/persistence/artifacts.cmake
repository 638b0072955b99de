# Tests of persistence/artifact_store.cpp. Included by
# tests/persistence/CMakeLists.txt after unit_persistence is defined: the
# suite joins that executable and uses its main.cpp and support.cpp.
target_sources(unit_persistence PRIVATE ${CMAKE_CURRENT_LIST_DIR}/artifact_store_test.cpp)
