# The live stream's unit tests (framing, query, hub, hand-over, session over
# loopback TCP), against server/stream/'s library obs_stream.

obs_add_test_suite(unit_stream
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/sse_frame_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/stream_query_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/stream_hub_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/fake_event_log.cpp
    ${CMAKE_CURRENT_LIST_DIR}/stream_session_replay_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/stream_session_test.cpp
  LIBS obs_stream obs_persistence obs_asio)
