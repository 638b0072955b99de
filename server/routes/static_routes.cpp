// Embedded files; see static_routes.hpp.
#include "server/routes/static_routes.hpp"

#include "openapi_embedded.hpp"
#include "server/web/web_assets.hpp"


namespace obs::server {
namespace {

// The ETag and gzip decisions are obs_web's (tested there on header tables).
template <class File>
handler_result answer_file(const File& file, const request& req, bool page) {
    header_list headers{{"ETag", std::string(file.etag)}, {"Cache-Control", "no-cache"}, {"Vary", "Accept-Encoding"},
                        {"X-Content-Type-Options", "nosniff"}};
    if (page) headers.emplace_back("Content-Security-Policy", std::string(web::asset_csp));
    if (auto tags = req.header("if-none-match"); tags && web::if_none_match_hits(*tags, file.etag))
        return http_answer{304, "", "", std::move(headers)};
    const bool gzip = !file.gzip_body.empty() && web::accepts_gzip(req.header("accept-encoding").value_or(""));
    if (gzip) headers.emplace_back("Content-Encoding", "gzip");
    return http_answer{200, std::string(gzip ? file.gzip_body : file.body), std::string(file.content_type),
                       std::move(headers)};
}

}  // namespace

boost::asio::awaitable<handler_result> get_page(app&, request req) {
    const auto* asset = web::find_web_asset(req.path);
    if (asset == nullptr) co_return failure(error_code::not_found, "no such file of the web page");
    co_return answer_file(*asset, req, true);
}

boost::asio::awaitable<handler_result> get_openapi(app&, request req) {
    const auto* file = docs::find_embedded_file("/observability/openapi.json");
    if (file == nullptr) co_return failure(error_code::internal, "the OpenAPI document is not embedded");
    co_return answer_file(*file, req, false);
}

}  // namespace obs::server
