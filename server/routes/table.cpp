// The route table; see table.hpp. Rows with the same path keep together so
// a 405's Allow lists them in this order.
#include "server/routes/table.hpp"

#include "server/artifacts/artifact_routes.hpp"
#include "server/routes/otlp_route.hpp"
#include "server/routes/routes.hpp"
#include "server/routes/static_routes.hpp"
#include "server/stream/stream_route.hpp"

namespace obs::server {

route_table build_route_table(const config& cfg) {
    const std::size_t body = cfg.max_body_bytes;
    using enum body_mode;
    return route_table({
        {"POST", "/observability/events", scope::ingest, buffered, body, post_events},
        {"GET", "/observability/runs", scope::read, none, 0, list_runs},
        {"POST", "/observability/runs", scope::ingest, buffered, body, post_run},
        {"GET", "/observability/runs/{run_id}", scope::read, none, 0, get_run},
        {"DELETE", "/observability/runs/{run_id}", scope::admin, none, 0, delete_run},
        {"GET", "/observability/runs/{run_id}/steps", scope::read, none, 0, list_steps},
        {"POST", "/observability/runs/{run_id}/steps", scope::ingest, buffered, body, post_steps},
        {"POST", "/observability/runs/{run_id}/finish", scope::ingest, buffered, body, finish_run},
        {"GET", "/observability/runs/{run_id}/artifacts", scope::read, none, 0, list_artifacts},
        {"GET", "/observability/runs/{run_id}/artifacts/{name}", scope::read, download, 0, get_artifact},
        {"PUT", "/observability/runs/{run_id}/artifacts/{name}", scope::ingest, upload, 0, put_artifact},
        {"GET", "/observability/stream", scope::read, event_stream, 0, open_stream},
        {"POST", "/observability/backup", scope::admin, buffered, body, post_backup},
        {"GET", "/observability/backups", scope::admin, none, 0, list_backups},
        {"GET", "/observability/openapi.json", std::nullopt, none, 0, get_openapi},
        {"POST", "/v1/traces", scope::ingest, buffered, body, post_traces},
        {"GET", "/", std::nullopt, none, 0, get_page},
        {"GET", "/ui/{file}", std::nullopt, none, 0, get_page},
        {"GET", "/healthz", std::nullopt, none, 0, healthz},
        {"GET", "/readyz", std::nullopt, none, 0, readyz},
        {"GET", "/metrics", std::nullopt, none, 0, metrics},
    });
}

std::vector<std::string> route_names(const route_table& table) {
    std::vector<std::string> names;
    for (const auto& row : table.rows()) names.push_back(std::string(row.method) + " " + std::string(row.pattern));
    return names;
}

}  // namespace obs::server
