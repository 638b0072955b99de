// Embedded files; see static_routes.hpp.
#include "server/routes/static_routes.hpp"

#include "openapi_embedded.hpp"
#include "server/web/web_assets.hpp"

#include <cctype>

namespace obs::server {
namespace {

// True when an Accept-Encoding value lists gzip without q=0.
bool accepts_gzip(std::string_view accept) {
    std::string lower(accept);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto at = lower.find("gzip");
    if (at == std::string::npos) return false;
    const auto end = lower.find(',', at);
    const auto item = lower.substr(at, end == std::string::npos ? std::string::npos : end - at);
    return item.find("q=0") == std::string::npos || item.find("q=0.") != std::string::npos;
}

// True when If-None-Match lists `etag` (weak or strong) or is *.
bool etag_matches(std::string_view if_none_match, std::string_view etag) {
    if (if_none_match.find('*') != std::string_view::npos) return true;
    return if_none_match.find(etag) != std::string_view::npos;
}

template <class File>
handler_result answer_file(const File& file, const request& req) {
    header_list headers{{"ETag", std::string(file.etag)}, {"Cache-Control", "no-cache"}, {"Vary", "Accept-Encoding"},
                        {"X-Content-Type-Options", "nosniff"}};
    if (auto tags = req.header("if-none-match"); tags && etag_matches(*tags, file.etag))
        return http_answer{304, "", "", std::move(headers)};
    const bool gzip = !file.gzip_body.empty() && accepts_gzip(req.header("accept-encoding").value_or(""));
    if (gzip) headers.emplace_back("Content-Encoding", "gzip");
    return http_answer{200, std::string(gzip ? file.gzip_body : file.body), std::string(file.content_type),
                       std::move(headers)};
}

}  // namespace

boost::asio::awaitable<handler_result> get_page(app&, request req) {
    const auto* asset = web::find_web_asset(req.path);
    if (asset == nullptr) co_return failure(error_code::not_found, "no such file of the web page");
    co_return answer_file(*asset, req);
}

boost::asio::awaitable<handler_result> get_openapi(app&, request req) {
    const auto* file = docs::find_embedded_file("/observability/openapi.json");
    if (file == nullptr) co_return failure(error_code::internal, "the OpenAPI document is not embedded");
    co_return answer_file(*file, req);
}

}  // namespace obs::server
