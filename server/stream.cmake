# The live stream (Server-Sent Events): framing, the request's query, the
# fan-out hub and the stream session. Included by server/CMakeLists.txt (and
# by tests/server/stream.cmake when built before the server folder has it).
add_library(obs_stream STATIC
  ${CMAKE_CURRENT_LIST_DIR}/sse_frame.cpp
  ${CMAKE_CURRENT_LIST_DIR}/stream_query.cpp
  ${CMAKE_CURRENT_LIST_DIR}/stream_hub.cpp
  ${CMAKE_CURRENT_LIST_DIR}/stream_session.cpp
)
target_include_directories(obs_stream PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(obs_stream PUBLIC obs_persistence obs_asio Boost::url PRIVATE obs_warnings)
