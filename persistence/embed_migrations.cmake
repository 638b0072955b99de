# Writes a C++ file that holds every migration file's text, so the binary
# carries its schema and runs from any folder. Called by add_custom_command
# with OUT (the .cpp to write) and FILES (the sorted .sql paths).
set(body "")
foreach(f IN LISTS FILES)
  get_filename_component(name "${f}" NAME)
  string(REGEX MATCH "^([0-9]+)_" _ "${name}")
  if(NOT CMAKE_MATCH_1)
    message(FATAL_ERROR "migration file ${name} does not start with NNNN_")
  endif()
  math(EXPR version "${CMAKE_MATCH_1}")
  file(READ "${f}" hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," chars "${hex}")
  string(APPEND body "    {${version}, \"${name}\", std::string{${chars}}},\n")
endforeach()
file(WRITE "${OUT}.tmp" "// Generated from migrations/*.sql by embed_migrations.cmake; do not edit.
#include \"persistence/migrations.hpp\"

namespace obs::persistence {

const std::vector<migration>& embedded_migrations() {
    static const std::vector<migration> all{
${body}    };
    return all;
}

}  // namespace obs::persistence
")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
