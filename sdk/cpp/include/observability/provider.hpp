// The C++ Observability SDK (issue 15): a provider that agents share, one per
// process. log() checks an event with the server's own rules (domain/) in the
// calling thread, gives it a UUIDv7 id and queues it; a background thread
// batches it for the sending thread of its run's connection, which sends and
// retries it. log() never waits for the network and never throws for a
// delivery problem. With a spool directory every event is
// also appended to a file before log() returns, so it survives a server
// outage of any length and a kill -9 of the agent. design: sdk/README.md.
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace observability {

class run_scope;
struct run_options;

// Where delivery problems are reported: each rejected event once, each change
// of the server's reachability once. Called on the SDK's background threads,
// one call at a time.
using report_sink = std::function<void(std::string_view message)>;

struct options {
    std::string url{};                                         // empty: $OBS_URL, then http://127.0.0.1:8000
    std::string api_key{};                                     // empty: $OBS_API_KEY, then none
    std::size_t flush_at = 256;                                // send when this many events wait
    std::chrono::milliseconds flush_interval{200};             // or when the oldest waited this long
    std::size_t max_queue = 100000;                            // events held in memory
    std::filesystem::path spool_dir{};                         // empty: no spool
    std::uint64_t spool_max_bytes = std::uint64_t{1} << 30;    // then drop and count
    std::chrono::milliseconds timeout{10000};                  // one HTTP request
    // Request bodies: gzip (while the server takes it: a 415 switches to
    // plain), plain, or automatic: gzip except to a loopback host, where
    // compressing costs both processes CPU and saves no network (measured by
    // scripts/bench-sdk: about half the delivered rate on one core).
    enum class compression { automatic, gzip, none };
    compression body_compression = compression::automatic;
    // Connections sending events at once (1 to 16). Each run's events all go
    // over one of them (chosen by a hash of the run id), one batch at a time,
    // so a run's order is kept; different runs are in flight side by side,
    // which lets the server's group commit merge their batches (one request
    // at a time left its writer idle: scripts/bench-sdk). Artifacts use one
    // more connection.
    std::size_t connections = 2;
    report_sink report{};                                      // empty: one line on stderr
};

// Envelope fields of one event. run_id is required (a run_scope fills it).
// Every member has an initializer so designated initializers may name any
// subset ({.node = "worker-1"}) under -Wextra.
struct log_options {
    std::string run_id{};
    std::optional<std::string> node{};       // which controller or worker
    std::optional<std::string> parent_id{};  // the step this one nests under
    std::optional<std::string> id{};         // default: a fresh UUIDv7
    std::optional<std::string> ts{};         // RFC 3339; default: the time of the log() call
};

struct stats {
    std::uint64_t queued = 0;      // logged, not yet acknowledged (memory and spool)
    std::uint64_t sent = 0;        // stored by the server as new events
    std::uint64_t duplicates = 0;  // answered as already stored (a resend)
    std::uint64_t dropped = 0;     // refused by a full queue or spool, or left at close
    std::uint64_t retries = 0;     // requests sent again after a failure
    std::uint64_t spooled = 0;     // events written to the spool
    std::uint64_t rejected = 0;    // refused by the server (422/409), reported once each
    std::uint64_t artifacts_sent = 0;
    bool gzip = false;             // bodies are sent gzip-compressed right now
};

// An event that breaks the contract: the first violation's field path
// ("payload.tool", "run_id") and message ("required"), as the server says them.
class validation_error : public std::invalid_argument {
public:
    validation_error(std::string path, std::string message);
    const std::string& path() const { return path_; }
    const std::string& detail() const { return detail_; }

private:
    std::string path_;
    std::string detail_;
};

class provider {
public:
    // Starts the background thread. With a spool_dir, takes it for this
    // process (throws std::runtime_error when another live provider holds it)
    // and queues whatever a previous provider left there.
    explicit provider(options opts = {});
    ~provider();  // close()
    provider(const provider&) = delete;
    provider& operator=(const provider&) = delete;

    // Checks the event (throws validation_error), queues it and returns its
    // id. Thread-safe. Never blocks on I/O (with a spool: a copy into the
    // mapped segment file, in the page cache). A full queue or spool drops
    // the event and counts it.
    std::string log(std::string_view step_type, boost::json::object data, const log_options& where);

    // Starts a run: logs run_started now, run_finished when the scope ends.
    run_scope run(std::string name, std::string agent, run_options opts);
    run_scope run(std::string name, std::string agent);

    // Uploads `bytes` (or the file at `path`, read when it is sent) as
    // artifact `name` of `run_id` in the background, after every event logged
    // before this call. Throws std::invalid_argument for a bad name or id.
    // Artifacts live in memory only (not in the spool).
    void artifact(std::string run_id, std::string name, std::string bytes, std::string content_type = {},
                  std::string step_id = {});
    void artifact_file(std::string run_id, std::string name, std::filesystem::path path,
                       std::string content_type = {}, std::string step_id = {});

    // Waits until every event logged before the call is acknowledged (stored,
    // a duplicate, or rejected). True when that happened within `timeout`.
    bool flush(std::chrono::milliseconds timeout = std::chrono::hours(24));

    // Delivers what is queued for at most `timeout`, then stops the thread.
    // What is left stays in the spool (or is counted as dropped). Idempotent;
    // log() after close() drops and counts.
    void close(std::chrono::milliseconds timeout = std::chrono::seconds(5));

    observability::stats stats() const;

    struct impl;

private:
    std::unique_ptr<impl> impl_;
};

}  // namespace observability
