// The OTLP trace route; see otlp_route.hpp.
#include "server/routes/otlp_route.hpp"

#include "domain/time.hpp"
#include "server/app.hpp"
#include "server/otlp/otlp.hpp"

namespace obs::server {

boost::asio::awaitable<handler_result> post_traces(app& a, request req) {
    const auto enc = otlp::encoding_of(req.header("content-type").value_or(""));
    if (!enc)
        co_return failure(error_code::unsupported_media_type,
                          "Content-Type must be application/x-protobuf or application/json (OTLP/HTTP)");
    auto mapped = otlp::decode_and_map(req.body, *enc, domain::now_unix_ms());
    if (!mapped) co_return failure(error_code::bad_request, "the OTLP body cannot be decoded: " + mapped.error().message);
    if (!mapped->events.empty()) {
        std::vector<domain::event> events = std::move(mapped->events);
        auto outcome = co_await a.submit(std::move(events));
        if (!outcome) co_return outcome.error();
    }
    co_return http_answer{200, otlp::encode_response(*mapped, *enc), std::string(otlp::content_type_of(*enc)), {}};
}

}  // namespace obs::server
