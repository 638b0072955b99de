# The HTTP core's unit suites (router, auth, config, error bodies, the
# writer-to-io completion inbox).
obs_add_test_suite(unit_server_core
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/server_core_main.cpp
    ${CMAKE_CURRENT_LIST_DIR}/router_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/auth_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/config_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/api_error_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/http_io_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/completion_inbox_test.cpp
  LIBS obs_server)
