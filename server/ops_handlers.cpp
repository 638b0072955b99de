// Operations routes (/healthz, /readyz, /metrics) and the dispatch of every
// buffered-body route to its handler.
#include "server/artifact_routes.hpp"
#include "server/handlers.hpp"
#include "server/stream_hub.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <sstream>

namespace obs::server {

boost::asio::awaitable<http_answer> healthz(app&) {
    co_return http_answer{200, "ok\n", "text/plain; charset=utf-8", {}};
}

boost::asio::awaitable<http_answer> readyz(app& a) {
    if (!a.writer().healthy()) {
        api_error e = make_error(error_code::unavailable, "the database does not take writes: " + a.writer().health_reason());
        co_return error_answer(e);
    }
    boost::json::object body{{"status", "ready"},
                             {"schema_version", a.schema_version()},
                             {"last_offset", a.writer().last_offset()},
                             {"queued_events", a.writer().queue_depth()}};
    co_return json_answer(200, boost::json::serialize(body));
}

boost::asio::awaitable<http_answer> metrics(app& a) {
    const auto& c = a.counters();
    auto& hub = a.hub();
    std::ostringstream out;
    const auto metric = [&out](const char* name, const char* type, const char* help, auto value) {
        out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n'
            << name << ' ' << value << '\n';
    };
    metric("obs_http_requests_total", "counter", "HTTP requests received.", c.requests);
    out << "# HELP obs_http_responses_total HTTP responses by status class.\n"
           "# TYPE obs_http_responses_total counter\n"
        << "obs_http_responses_total{class=\"2xx\"} " << c.responses_2xx << '\n'
        << "obs_http_responses_total{class=\"4xx\"} " << c.responses_4xx << '\n'
        << "obs_http_responses_total{class=\"5xx\"} " << c.responses_5xx << '\n';
    metric("obs_events_accepted_total", "counter", "Events stored.", c.events_accepted);
    metric("obs_events_duplicate_total", "counter", "Events answered as duplicates.", c.events_duplicate);
    metric("obs_rejected_overloaded_total", "counter", "Requests refused because a queue was full.",
           c.rejected_overloaded);
    metric("obs_open_connections", "gauge", "Open HTTP connections.", c.open_connections);
    metric("obs_write_queue_events", "gauge", "Events waiting for the writer.", a.writer().queue_depth());
    metric("obs_last_offset", "gauge", "Offset of the last committed event.", a.writer().last_offset());
    metric("obs_write_groups_total", "counter", "Write transactions committed (each holds one or more requests).",
           a.writer().groups_committed());
    metric("obs_wal_checkpoints_total", "counter", "WAL checkpoints run between write transactions.",
           a.writer().checkpoints_run());
    metric("obs_stream_subscribers", "gauge", "Open stream listeners.", hub.subscribers());
    metric("obs_stream_frames_sent_total", "counter", "Frames written to stream listeners.", hub.frames_sent());
    metric("obs_stream_overflows_total", "counter", "Listeners closed for falling behind.", hub.overflows());
    metric("obs_stream_flushes_total", "counter", "Gathered socket writes to stream listeners.", hub.flushes());
    co_return http_answer{200, out.str(), "text/plain; version=0.0.4; charset=utf-8", {}};
}

boost::asio::awaitable<http_answer> handle_route(app& a, route_match route, http_request_view req) {
    switch (route.id) {
        case route_id::post_events: co_return co_await post_events(a, std::move(req));
        case route_id::post_runs: co_return co_await post_run(a, std::move(req));
        case route_id::list_runs: co_return co_await list_runs(a, std::move(req));
        case route_id::get_run: co_return co_await get_run(a, std::move(route.run_id), std::move(req));
        case route_id::post_steps: co_return co_await post_steps(a, std::move(route.run_id), std::move(req));
        case route_id::list_steps: co_return co_await list_steps(a, std::move(route.run_id), std::move(req));
        case route_id::finish_run: co_return co_await finish_run(a, std::move(route.run_id), std::move(req));
        case route_id::list_artifacts: co_return co_await list_artifacts(a, std::move(route.run_id), std::move(req));
        case route_id::post_backup: co_return co_await post_backup(a, std::move(req));
        case route_id::list_backups: co_return co_await list_backups(a, std::move(req));
        case route_id::healthz: co_return co_await healthz(a);
        case route_id::readyz: co_return co_await readyz(a);
        case route_id::metrics: co_return co_await metrics(a);
        default: break;
    }
    fail(error_code::not_found, "no such route");
}

}  // namespace obs::server
