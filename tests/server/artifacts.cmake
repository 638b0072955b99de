# Tests of server/artifact_routes.cpp: their own Boost.Test executable (the
# module, and so main(), is defined here). Included by
# tests/server/CMakeLists.txt.
obs_add_test_suite(unit_artifact_routes
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/artifact_routes_test.cpp
  LIBS obs_server)
target_compile_definitions(unit_artifact_routes PRIVATE BOOST_TEST_MODULE=unit_artifact_routes)
