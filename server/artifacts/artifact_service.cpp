// The artifact service (see artifact_service.hpp): the store's lifetime
// around its worker pool, and the event that records a stored artifact.
// The server writes that event itself (clients may not post `artifact`).
#include "server/artifacts/artifact_service.hpp"

#include "server/log.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace obs::server {

artifact_service::artifact_service(boost::asio::io_context& io, std::string data_dir, std::uint64_t max_bytes,
                                   std::size_t worker_threads)
    : io_(io), store_(std::move(data_dir)), max_bytes_(max_bytes), workers_(worker_threads) {
    if (const auto removed = store_.remove_stale_temporaries(); removed > 0)
        log_line("info", "removed unfinished artifact uploads", {{"files", removed}});
}

artifact_service::~artifact_service() { stop(); }

void artifact_service::stop() { workers_.join(); }

domain::event make_artifact_event(const persistence::artifact_row& row) {
    boost::json::object payload{{"name", row.name},
                                {"sha256", row.sha256},
                                {"size", row.size},
                                {"content_type", row.content_type}};
    if (row.step_id) payload["step_id"] = *row.step_id;
    domain::event ev;
    ev.id = row.id;
    ev.run_id = row.run_id;
    ev.type = domain::event_type::artifact;
    ev.ts_ms = row.created_ms;
    ev.received_ms = row.created_ms;
    ev.parent_id = row.step_id;
    ev.payload_json = boost::json::serialize(payload);
    return ev;
}

}  // namespace obs::server
