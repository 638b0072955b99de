# The live stream's unit tests (framing, query, hub, hand-over, session over
# loopback TCP). obs_stream is defined by server/stream.cmake; it is included
# here only while server/CMakeLists.txt does not include it yet.
if(NOT TARGET obs_stream)
  include(${PROJECT_SOURCE_DIR}/server/stream.cmake)
endif()

obs_add_test_suite(unit_stream
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/sse_frame_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/stream_query_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/stream_hub_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/fake_event_log.cpp
    ${CMAKE_CURRENT_LIST_DIR}/stream_session_replay_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/stream_session_test.cpp
  LIBS obs_stream obs_persistence obs_asio)
