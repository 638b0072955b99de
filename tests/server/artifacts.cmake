# Tests of the artifact routes (server/artifact_routes.cpp) and of the pure
# parts they use, the header decisions (artifact_http.cpp) and the artifact
# event (artifact_service.cpp): their own Boost.Test executable. Included by
# tests/server/CMakeLists.txt.
obs_add_test_suite(unit_artifact_routes
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/artifacts_main.cpp
    ${CMAKE_CURRENT_LIST_DIR}/artifact_http_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/artifact_service_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/artifact_routes_test.cpp
  LIBS obs_server obs_test_support)
