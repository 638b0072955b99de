// The provider's calling-thread side: construction, log(), artifacts,
// flush(), close() and stats(). The background thread is in delivery.cpp.
#include "event_line.hpp"
#include "observability/run_scope.hpp"
#include "provider_impl.hpp"

#include "domain/artifact_name.hpp"
#include "domain/event.hpp"
#include "domain/time.hpp"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>

namespace observability {
namespace {

std::string from_env_or(const std::string& given, const char* name, const char* fallback) {
    if (!given.empty()) return given;
    if (const char* v = std::getenv(name); v && *v) return v;
    return fallback;
}

// True for http://127.x.x.x, localhost and [::1] (any port, any path).
bool is_loopback_url(std::string_view url) {
    const auto scheme = url.find("://");
    auto host = url.substr(scheme == std::string_view::npos ? 0 : scheme + 3);
    if (const auto at = host.find('@'); at != std::string_view::npos && at < host.find('/')) host.remove_prefix(at + 1);
    return host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("[::1]");
}

}  // namespace

provider::impl::impl(options o) : opts(std::move(o)) {
    url = from_env_or(opts.url, "OBS_URL", "http://127.0.0.1:8000");
    opts.api_key = from_env_or(opts.api_key, "OBS_API_KEY", "");
    using compression = options::compression;
    gzip = opts.body_compression == compression::gzip ||
           (opts.body_compression == compression::automatic && !is_loopback_url(url));
    // flush_at only triggers a send: a batch is cut at max_batch_events, and
    // a flush_at above that leaves sending to flush_interval, flush and close.
    if (opts.flush_at == 0) opts.flush_at = 1;
    lanes.resize(std::clamp<std::size_t>(opts.connections, 1, 16));
    if (!opts.report)
        opts.report = [](std::string_view message) { std::cerr << "observability: " << message << std::endl; };
    // The lanes' threads report too: one call at a time, as with one thread.
    opts.report = [sink = std::move(opts.report), mu = std::make_shared<std::mutex>()](std::string_view message) {
        std::lock_guard lock(*mu);
        sink(message);
    };
    if (!opts.spool_dir.empty()) {
        spool.emplace(opts.spool_dir, detail::spool_options{.max_bytes = opts.spool_max_bytes});
        // What an earlier provider left goes first: seqs 1..n, read back
        // from the files by the thread.
        last_seq = spool->leftover_records();
        if (last_seq > 0) {
            disk_mode = true;
            disk_cursor = spool->start();
            disk_seq = 1;
        }
    }
}

provider::provider(options opts) : impl_(std::make_unique<impl>(std::move(opts))) {
    impl_->worker = std::thread([this] { impl_->run(); });
}

provider::~provider() { close(); }

std::string provider::log(std::string_view step_type, boost::json::object data, const log_options& where) {
    const std::int64_t now_ms = obs::domain::now_unix_ms();
    // The line is written into this thread's buffer, which keeps its
    // capacity, and copied into the queue's block under the lock: no
    // allocation for it in the common call.
    thread_local std::string line;
    if (line.capacity() > (64u << 10)) std::string().swap(line);  // a huge event's buffer is not kept
    std::string id = detail::make_event_line(step_type, std::move(data), where, now_ms, line);
    impl& s = *impl_;
    std::unique_lock lock(s.mu);
    if (s.closed) {
        ++s.dropped;
        return id;
    }
    std::uint64_t segment = 0;
    bool wake = false;  // the thread has work: a spare block or the spool's upkeep
    if (s.spool) {
        if (!s.disk_mode && s.queue.size() >= s.opts.max_queue) {
            // Memory is full: from here on events are read back from the spool.
            s.disk_mode = true;
            s.disk_cursor = s.spool->end();
            s.disk_seq = s.last_seq + 1;
        }
        segment = s.spool->append(line, wake);
        if (segment == 0) {
            ++s.dropped;
            lock.unlock();
            if (wake) s.wake.notify_one();
            return id;
        }
        ++s.spooled;
    } else if (s.queue.size() >= s.opts.max_queue) {
        ++s.dropped;
        return id;
    }
    const std::uint64_t seq = ++s.last_seq;
    if (!s.disk_mode) wake |= s.queue.push(seq, segment, now_ms, line);  // true: make the next spare block
    if (s.wants_events && s.queue.size() >= s.opts.flush_at) {
        s.wants_events = false;  // one wake-up is enough
        wake = true;
    }
    lock.unlock();
    if (wake) s.wake.notify_one();
    return id;
}

void provider::artifact(std::string run_id, std::string name, std::string bytes, std::string content_type,
                        std::string step_id) {
    if (!obs::domain::is_valid_id(run_id)) throw validation_error("run_id", "must be 1 to 128 characters of [A-Za-z0-9._:-]");
    if (auto problem = obs::domain::artifact_name_problem(name)) throw validation_error("name", *problem);
    if (!step_id.empty() && !obs::domain::is_valid_id(step_id))
        throw validation_error("step_id", "must be 1 to 128 characters of [A-Za-z0-9._:-]");
    impl& s = *impl_;
    {
        std::lock_guard lock(s.mu);
        if (s.closed) {
            ++s.dropped;
            return;
        }
        s.artifacts.push_back(
            {s.last_seq, std::move(run_id), std::move(name), std::move(bytes), {}, std::move(content_type),
             std::move(step_id)});
        ++s.artifacts_added;
    }
    s.wake.notify_one();
}

void provider::artifact_file(std::string run_id, std::string name, std::filesystem::path path,
                             std::string content_type, std::string step_id) {
    if (path.empty()) throw std::invalid_argument("artifact_file: empty path");
    artifact(std::move(run_id), std::move(name), {}, std::move(content_type), std::move(step_id));
    std::lock_guard lock(impl_->mu);
    if (!impl_->artifacts.empty()) impl_->artifacts.back().path = std::move(path);
}

bool provider::flush(std::chrono::milliseconds timeout) {
    impl& s = *impl_;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock lock(s.mu);
    const std::uint64_t target = s.last_seq;
    const std::uint64_t artifacts_target = s.artifacts_added;
    s.flush_wanted = true;
    s.wake.notify_one();
    return s.progress.wait_until(lock, deadline, [&] {
        return (s.done_seq >= target && s.artifacts_done >= artifacts_target) || s.thread_ended;
    }) && s.done_seq >= target && s.artifacts_done >= artifacts_target;
}

void provider::close(std::chrono::milliseconds timeout) {
    impl& s = *impl_;
    {
        std::unique_lock lock(s.mu);
        if (!s.worker.joinable()) return;
        s.closed = true;
        s.closing = true;
        s.wake.notify_one();
        if (!s.progress.wait_for(lock, timeout, [&] { return s.thread_ended; })) {
            s.abort = true;
            s.wake.notify_one();
            s.lanes_wake.notify_all();
        }
    }
    s.worker.join();
    std::lock_guard lock(s.mu);
    // Without a spool what was not delivered is lost: count it. With one it
    // stays on disk for the next provider.
    if (!s.spool) {
        s.dropped += s.last_seq - s.acked;
        s.acked = s.last_seq;  // no longer queued: counted as dropped
        s.done_seq = s.last_seq;
    }
    s.dropped += s.artifacts_added - s.artifacts_done;
    s.artifacts_done = s.artifacts_added;
    s.spool.reset();
}

stats provider::stats() const {
    const impl& s = *impl_;
    observability::stats out;
    {
        std::lock_guard lock(s.mu);
        out.queued = s.last_seq - s.acked;
    }
    out.sent = s.sent;
    out.duplicates = s.duplicates;
    out.dropped = s.dropped;
    out.retries = s.retries;
    out.spooled = s.spooled;
    out.rejected = s.rejected;
    out.artifacts_sent = s.artifacts_sent;
    out.gzip = s.gzip;
    return out;
}

}  // namespace observability
