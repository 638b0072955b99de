# The HTTP core's unit suites (the route table, auth, config, error bodies,
# response heads and gzip bodies, the writer-to-io completion inbox).
obs_add_test_suite(unit_server_core
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/server_core_main.cpp
    ${CMAKE_CURRENT_LIST_DIR}/route_table_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/auth_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/config_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/api_error_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/respond_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/completion_inbox_test.cpp
  LIBS obs_server)
