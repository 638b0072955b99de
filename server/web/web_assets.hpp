// The web page's files as the server serves them: "/" is index.html and
// every other file lives under the one prefix "/ui/" (e.g. /ui/app.js). The
// bytes, Content-Type, strong ETag and a gzip copy were embedded at build
// time (cmake/embed.cmake), so the binary needs no files beside it.
//
// Serving contract for the routes GET / and GET /ui/{file}: answer 200 with
// body (or gzip_body with Content-Encoding: gzip when the request's
// Accept-Encoding allows gzip and gzip_body is not empty), Content-Type,
// ETag, Vary: Accept-Encoding and Cache-Control: no-cache; an If-None-Match
// that lists etag (or is *) gets 304 with the ETag and no body.
#pragma once

#include <span>
#include <string_view>

#include "web_embedded.hpp"

namespace obs::web {

using web_asset = embedded::embedded_file;

// The prefix every asset is served under.
inline constexpr std::string_view asset_prefix = "/ui/";

// The asset served at `url_path` ("/" -> index.html, "/ui/NAME" -> NAME), or
// nullptr. A query string ("?...") is ignored; anything else must match
// exactly (no decoding, no "..": the names are fixed at build time).
const web_asset* find_web_asset(std::string_view url_path);

// Every asset, sorted by path (each once; "/" is not listed separately).
std::span<const web_asset> web_assets();

// True when an If-None-Match header value matches `etag` (RFC 9110 13.1.2:
// "*", or any entry of the comma-separated list, compared weakly, so a
// W/"..." form matches too). An empty header matches nothing.
bool if_none_match_hits(std::string_view if_none_match, std::string_view etag);

// True when an Accept-Encoding header value accepts gzip: a "gzip" (or "*")
// entry whose q is not 0 (RFC 9110 12.5.3). Case-insensitive.
bool accepts_gzip(std::string_view accept_encoding);

// The headers every asset answer carries besides Content-Type, ETag and
// Content-Encoding: revalidate on each use (the URLs are not versioned),
// one cache entry per encoding, and the page's Content-Security-Policy
// (only this server; blob:/data: images for artifact previews).
inline constexpr std::string_view asset_cache_control = "no-cache";
inline constexpr std::string_view asset_vary = "Accept-Encoding";
inline constexpr std::string_view asset_csp =
    "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

}  // namespace obs::web
