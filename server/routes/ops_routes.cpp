// Operations routes: /healthz and /readyz (/metrics is metrics_route.cpp).
#include "persistence/event_writer.hpp"
#include "server/app.hpp"
#include "server/routes/routes.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace obs::server {

boost::asio::awaitable<handler_result> healthz(app&, request) {
    co_return http_answer{200, "ok\n", "text/plain; charset=utf-8", {}};
}

boost::asio::awaitable<handler_result> readyz(app& a, request) {
    if (!a.writer().healthy())
        co_return failure(error_code::unavailable, "the database does not take writes: " + a.writer().health_reason());
    boost::json::object body{{"status", "ready"},
                             {"schema_version", a.schema_version()},
                             {"last_offset", a.writer().last_offset()},
                             {"queued_events", a.writer().queue_depth()}};
    co_return json_answer(200, boost::json::serialize(body));
}

}  // namespace obs::server
