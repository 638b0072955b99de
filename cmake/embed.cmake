# Embeds files in a target at build time: each file's bytes, its URL path,
# its content type, a strong ETag (its SHA-256, computed at build time) and a
# gzip copy of it (compressed once, at build time), so the binary serves them
# with nothing installed beside it. Used for the web page (server/web) and
# for any other static document a route serves (e.g. docs/openapi.json).
#
#   include(${PROJECT_SOURCE_DIR}/cmake/embed.cmake)
#   obs_embed_files(TARGET <existing target> NAMESPACE <c++ namespace>
#                   URL_PREFIX </prefix/> [BASE_DIR <dir>] [HEADER <name.hpp>]
#                   FILES <absolute paths...>)
#
# Each file's URL path is URL_PREFIX followed by its path relative to BASE_DIR
# (default: its file name). The generated header HEADER (default
# <target>_embedded.hpp, on the target's PUBLIC include path) declares, in
# NAMESPACE:
#   struct embedded_file { path, content_type, etag, body, gzip_body; };
#   std::span<const embedded_file> embedded_files();       // sorted by path
#   const embedded_file* find_embedded_file(std::string_view path);
# A file changed on disk regenerates the source at the next build; a file
# added to the list needs a re-configure (as any source list does).
#
# The same file is the generator: run with `cmake -DOBS_EMBED_MANIFEST=... -P`.

if(NOT CMAKE_SCRIPT_MODE_FILE)
  set(OBS_EMBED_SCRIPT ${CMAKE_CURRENT_LIST_FILE})

  function(obs_embed_files)
    cmake_parse_arguments(ARG "" "TARGET;NAMESPACE;URL_PREFIX;BASE_DIR;HEADER" "FILES" ${ARGN})
    if(NOT ARG_TARGET OR NOT ARG_NAMESPACE OR NOT ARG_URL_PREFIX OR NOT ARG_FILES)
      message(FATAL_ERROR "obs_embed_files: TARGET, NAMESPACE, URL_PREFIX and FILES are required")
    endif()
    if(NOT ARG_HEADER)
      set(ARG_HEADER ${ARG_TARGET}_embedded.hpp)
    endif()
    set(gen_dir ${CMAKE_CURRENT_BINARY_DIR}/${ARG_TARGET}_embed)
    set(urls "")
    foreach(f IN LISTS ARG_FILES)
      if(NOT IS_ABSOLUTE "${f}")
        message(FATAL_ERROR "obs_embed_files: '${f}' is not an absolute path")
      endif()
      if(ARG_BASE_DIR)
        file(RELATIVE_PATH rel "${ARG_BASE_DIR}" "${f}")
      else()
        get_filename_component(rel "${f}" NAME)
      endif()
      list(APPEND urls "${ARG_URL_PREFIX}${rel}")
    endforeach()
    # The manifest carries the lists to the build-time step; file(CONFIGURE)
    # rewrites it only when it changes, so a re-configure alone rebuilds nothing.
    set(EMBED_NAMESPACE ${ARG_NAMESPACE})
    set(EMBED_FILES "${ARG_FILES}")
    set(EMBED_URLS "${urls}")
    set(EMBED_HEADER ${ARG_HEADER})
    set(EMBED_DIR ${gen_dir})
    set(EMBED_CPP ${gen_dir}/${ARG_TARGET}_embedded.cpp)
    file(CONFIGURE OUTPUT ${gen_dir}/manifest.cmake CONTENT [==[
set(EMBED_NAMESPACE "@EMBED_NAMESPACE@")
set(EMBED_FILES "@EMBED_FILES@")
set(EMBED_URLS "@EMBED_URLS@")
set(EMBED_HEADER "@EMBED_HEADER@")
set(EMBED_DIR "@EMBED_DIR@")
set(EMBED_CPP "@EMBED_CPP@")
]==] @ONLY)
    set(out_cpp ${EMBED_CPP})
    set(out_hpp ${gen_dir}/${ARG_HEADER})
    add_custom_command(
      OUTPUT ${out_cpp} ${out_hpp}
      COMMAND ${CMAKE_COMMAND} -DOBS_EMBED_MANIFEST=${gen_dir}/manifest.cmake -P ${OBS_EMBED_SCRIPT}
      DEPENDS ${ARG_FILES} ${gen_dir}/manifest.cmake ${OBS_EMBED_SCRIPT}
      COMMENT "Embedding ${ARG_TARGET}'s files (${ARG_URL_PREFIX})"
      VERBATIM)
    target_sources(${ARG_TARGET} PRIVATE ${out_cpp} ${out_hpp})
    target_include_directories(${ARG_TARGET} PUBLIC ${gen_dir})
  endfunction()
  return()
endif()

# ---- build-time generator (script mode) ----
if(NOT DEFINED OBS_EMBED_MANIFEST)
  message(FATAL_ERROR "embed.cmake: run with -DOBS_EMBED_MANIFEST=<manifest.cmake>")
endif()
include(${OBS_EMBED_MANIFEST})

# The Content-Type a browser needs for each kind of file we serve (an if
# chain: a CMake list cannot hold "; charset=").
function(embed_content_type path out)
  string(REGEX MATCH "\\.[A-Za-z0-9]+$" ext "${path}")
  string(TOLOWER "${ext}" ext)
  set(utf8 "; charset=utf-8")
  if(ext STREQUAL ".html")
    set(t "text/html${utf8}")
  elseif(ext STREQUAL ".js" OR ext STREQUAL ".mjs")
    set(t "text/javascript${utf8}")
  elseif(ext STREQUAL ".css")
    set(t "text/css${utf8}")
  elseif(ext STREQUAL ".json")
    set(t "application/json${utf8}")
  elseif(ext STREQUAL ".txt")
    set(t "text/plain${utf8}")
  elseif(ext STREQUAL ".svg")
    set(t "image/svg+xml")
  elseif(ext STREQUAL ".png")
    set(t "image/png")
  elseif(ext STREQUAL ".ico")
    set(t "image/x-icon")
  else()
    set(t "application/octet-stream")
  endif()
  set(${out} "${t}" PARENT_SCOPE)
endfunction()

# A C++ array initializer of the bytes in `hex` (two hex digits a byte).
function(embed_hex_to_initializer hex out)
  if(hex STREQUAL "")
    set(${out} "0" PARENT_SCOPE)
    return()
  endif()
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  # one line every 24 bytes (5 characters each) keeps the file readable for tools
  string(REGEX REPLACE "(........................................................................................................................)" "\\1\n" bytes "${bytes}")
  set(${out} "${bytes}" PARENT_SCOPE)
endfunction()

# Sort by URL path so find_embedded_file can search by halves.
set(order "")
list(LENGTH EMBED_URLS count)
math(EXPR last "${count} - 1")
foreach(i RANGE ${last})
  list(GET EMBED_URLS ${i} url)
  list(APPEND order "${url}|${i}")
endforeach()
list(SORT order)

set(arrays "")
set(rows "")
set(n 0)
foreach(entry IN LISTS order)
  string(REGEX REPLACE "^.*\\|" "" i "${entry}")
  list(GET EMBED_FILES ${i} f)
  list(GET EMBED_URLS ${i} url)
  file(READ "${f}" hex HEX)
  string(LENGTH "${hex}" hex_len)
  math(EXPR size "${hex_len} / 2")
  file(SHA256 "${f}" digest)
  embed_content_type("${url}" type)

  # gzip once, here; the header's MTIME field (bytes 4-7) is zeroed so equal
  # inputs give equal output (and ccache hits).
  set(gz_path ${EMBED_DIR}/file${n}.gz)
  file(ARCHIVE_CREATE OUTPUT ${gz_path} PATHS "${f}" FORMAT raw COMPRESSION GZip COMPRESSION_LEVEL 9)
  file(READ ${gz_path} gz_hex HEX)
  file(REMOVE ${gz_path})
  string(SUBSTRING "${gz_hex}" 0 8 gz_head)
  string(SUBSTRING "${gz_hex}" 16 -1 gz_tail)
  set(gz_hex "${gz_head}00000000${gz_tail}")
  string(LENGTH "${gz_hex}" gz_len)
  math(EXPR gz_size "${gz_len} / 2")
  # A gzip copy no smaller than the file (images) is left out: served as is.
  if(gz_size GREATER_EQUAL size)
    set(gz_hex "")
    set(gz_size 0)
  endif()

  embed_hex_to_initializer("${hex}" body_init)
  embed_hex_to_initializer("${gz_hex}" gz_init)
  string(APPEND arrays "// ${url} (${size} bytes, gzip ${gz_size})\n"
    "const unsigned char body_${n}[] = {\n${body_init}};\n"
    "const unsigned char gzip_${n}[] = {\n${gz_init}};\n\n")
  string(APPEND rows "        {\"${url}\", \"${type}\", \"\\\"${digest}\\\"\",\n"
    "         std::string_view{reinterpret_cast<const char*>(body_${n}), ${size}},\n"
    "         std::string_view{reinterpret_cast<const char*>(gzip_${n}), ${gz_size}}},\n")
  math(EXPR n "${n} + 1")
endforeach()

set(hpp "// Generated by cmake/embed.cmake; do not edit. Files embedded at build time.
#pragma once

#include <span>
#include <string_view>

namespace ${EMBED_NAMESPACE} {

// One embedded file. Every view points into static storage (valid for the
// whole program).
struct embedded_file {
    std::string_view path;          // the URL path it is served at
    std::string_view content_type;  // for the Content-Type header
    std::string_view etag;          // strong ETag, quoted: \"<sha256 hex of body>\"
    std::string_view body;          // the file's bytes
    std::string_view gzip_body;     // body gzip-compressed; empty when that is no smaller
};

// Every embedded file, sorted by path.
std::span<const embedded_file> embedded_files();

// The file served at exactly `path`, or nullptr.
const embedded_file* find_embedded_file(std::string_view path);

}  // namespace ${EMBED_NAMESPACE}
")

set(cpp "// Generated by cmake/embed.cmake; do not edit.
#include \"${EMBED_HEADER}\"

#include <algorithm>

namespace ${EMBED_NAMESPACE} {
namespace {

${arrays}}  // namespace

std::span<const embedded_file> embedded_files() {
    // Function-local, so a caller in another static initializer sees it built.
    static const embedded_file files[] = {
${rows}    };
    return files;
}

const embedded_file* find_embedded_file(std::string_view path) {
    auto files = embedded_files();
    auto it = std::lower_bound(files.begin(), files.end(), path,
                               [](const embedded_file& f, std::string_view p) { return f.path < p; });
    return it != files.end() && it->path == path ? &*it : nullptr;
}

}  // namespace ${EMBED_NAMESPACE}
")

# Written through a temporary file and copied only on change: an unchanged
# output keeps its dependants from recompiling.
file(WRITE ${EMBED_DIR}/${EMBED_HEADER}.tmp "${hpp}")
file(WRITE ${EMBED_CPP}.tmp "${cpp}")
file(COPY_FILE ${EMBED_DIR}/${EMBED_HEADER}.tmp ${EMBED_DIR}/${EMBED_HEADER} ONLY_IF_DIFFERENT)
file(COPY_FILE ${EMBED_CPP}.tmp ${EMBED_CPP} ONLY_IF_DIFFERENT)
file(REMOVE ${EMBED_DIR}/${EMBED_HEADER}.tmp ${EMBED_CPP}.tmp)
