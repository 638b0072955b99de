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

}  // namespace obs::web
