// Operations routes: /healthz, /readyz and /metrics (Prometheus text
// format 0.0.4).
#include "persistence/event_writer.hpp"
#include "server/app.hpp"
#include "server/routes/routes.hpp"
#include "server/stream/stream_hub.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <sstream>

namespace obs::server {
namespace {

// Writes one series family: HELP, TYPE and its samples.
class exposition {
public:
    void family(const char* name, const char* type, const char* help) {
        out_ << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
    }
    template <class T>
    void sample(const char* name, const std::string& labels, T value) {
        out_ << name;
        if (!labels.empty()) out_ << '{' << labels << '}';
        out_ << ' ' << value << '\n';
    }
    template <class T>
    void single(const char* name, const char* type, const char* help, T value) {
        family(name, type, help);
        sample(name, "", value);
    }
    std::string text() const { return out_.str(); }

private:
    std::ostringstream out_;
};

const char* const status_classes[] = {"2xx", "4xx", "5xx"};

// A label value: backslash, quote and line feed escaped.
std::string label_value(std::string_view v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

}  // namespace

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

boost::asio::awaitable<handler_result> metrics(app& a, request) {
    const auto& c = a.counters();
    auto& hub = a.hub();
    exposition out;
    out.single("obs_http_requests_total", "counter", "HTTP requests received.", c.requests);
    out.family("obs_http_responses_total", "counter", "HTTP responses by status class (1xx and 3xx count as 2xx).");
    for (int k = 0; k < 3; ++k)
        out.sample("obs_http_responses_total", std::string("class=\"") + status_classes[k] + "\"", c.responses.by_class[k]);
    out.family("obs_http_route_responses_total", "counter", "HTTP responses by route and status class.");
    for (std::size_t r = 0; r < c.per_route.size() && r < a.route_names().size(); ++r)
        for (int k = 0; k < 3; ++k)
            out.sample("obs_http_route_responses_total",
                       "route=\"" + label_value(a.route_names()[r]) + "\",class=\"" + status_classes[k] + "\"",
                       c.per_route[r].by_class[k]);
    out.single("obs_events_accepted_total", "counter", "Events stored.", c.events_accepted);
    out.single("obs_events_duplicate_total", "counter", "Events answered as duplicates.", c.events_duplicate);
    out.single("obs_rejected_overloaded_total", "counter", "Requests refused because a queue was full.",
               c.rejected_overloaded);
    out.single("obs_open_connections", "gauge", "Open HTTP connections.", c.open_connections);
    out.single("obs_write_queue_events", "gauge", "Events waiting for the writer.", a.writer().queue_depth());
    out.single("obs_last_offset", "gauge", "Offset of the last committed event.", a.writer().last_offset());
    out.single("obs_write_groups_total", "counter", "Write transactions committed (each holds one or more requests).",
               a.writer().groups_committed());
    out.single("obs_wal_checkpoints_total", "counter", "WAL checkpoints run between write transactions.",
               a.writer().checkpoints_run());
    out.single("obs_stream_subscribers", "gauge", "Open stream listeners.", hub.subscribers());
    out.single("obs_stream_frames_sent_total", "counter", "Frames written to stream listeners.", hub.frames_sent());
    out.single("obs_stream_overflows_total", "counter", "Listeners closed for falling behind.", hub.overflows());
    out.single("obs_stream_flushes_total", "counter", "Gathered socket writes to stream listeners.", hub.flushes());
    co_return http_answer{200, out.text(), "text/plain; version=0.0.4; charset=utf-8", {}};
}

}  // namespace obs::server
