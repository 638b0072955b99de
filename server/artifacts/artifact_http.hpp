// The HTTP header decisions of the artifact routes, as pure functions of
// header values: which bytes a `Range` asks for, whether `If-None-Match`
// matches, the ETag of a content address, and the Content-Type an upload is
// stored with. No I/O and no Beast, so they are tested on strings alone;
// artifact_routes.cpp applies them to requests. Included by
// artifact_routes.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace obs::server {

// What a GET with a Range header serves.
struct range_decision {
    enum class kind { whole, partial, unsatisfiable } what = kind::whole;
    std::uint64_t first = 0;  // with partial: the first byte served
    std::uint64_t last = 0;   // with partial: the last byte served (inclusive)
};
// Decides a `Range` header value for content of `size` bytes (RFC 9110
// 14.2): one `bytes=a-b`, `a-` or `-n` range is partial or unsatisfiable;
// anything else (several ranges, another unit, bad syntax) is whole.
range_decision decide_range(std::string_view range, std::uint64_t size);

// True when an If-None-Match value matches the ETag of `sha256` (`*`, or a
// listed tag equal to "<sha256>", weak or not).
bool if_none_match_hits(std::string_view if_none_match, std::string_view sha256);

// The strong ETag of content whose address is `sha256`: the digest quoted.
std::string etag_of(std::string_view sha256);

// The Content-Type to store for an upload whose header is `header`: the
// header as sent, or application/octet-stream when it is empty. nullopt when
// it is longer than 255 bytes or not printable ASCII (it is sent back as a
// header and in JSON).
std::optional<std::string> stored_content_type(std::string_view header);

}  // namespace obs::server
