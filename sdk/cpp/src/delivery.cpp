// The provider's background thread: takes batches off the queue (or reads
// them back from the spool), sends them as one JSON batch each, gzip-compressed while the
// server takes that, and handles every answer:
//   2xx            done (new and duplicate events counted)
//   0 (no answer), 408, 429, 5xx, 401/403/404
//                  sent again after a backoff (exponential with jitter, or the
//                  server's Retry-After), without limit while the process lives
//   415/400 to a gzip body
//                  the server does not decode gzip: plain bodies from then on
//   422/409        the events named by details[].index are rejected (reported
//                  once, counted), the rest is sent again as one batch
//   other 4xx      the batch is halved until the bad event is alone
// A batch is finished before the next is taken, which keeps each run's order.
#include "provider_impl.hpp"
#include "short_slices.hpp"

#include "domain/time.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <vector>

namespace observability {
namespace {

using namespace std::chrono_literals;
using detail::queued_event;

constexpr auto backoff_first = 100ms;
constexpr auto backoff_max = 10s;  // an agent waits at most this long after an outage ends

// The number after `"key":` in `body`, or 0.
std::uint64_t number_after(std::string_view body, std::string_view key) {
    const auto pos = body.find(key);
    if (pos == std::string_view::npos) return 0;
    std::uint64_t n = 0;
    const char* start = body.data() + pos + key.size();
    std::from_chars(start, body.data() + body.size(), n);
    return n;
}

// A JSON string field's value at the start of an event line ("id", "run_id").
std::string_view line_field(std::string_view line, std::string_view key) {
    const auto pos = line.find(key);
    if (pos == std::string_view::npos) return "?";
    const auto start = pos + key.size();
    const auto end = line.find('"', start);
    return end == std::string_view::npos ? "?" : line.substr(start, end - start);
}

// details[].index -> "path: message" of an error body (the first per index).
std::map<std::size_t, std::string> bad_events_of(const std::string& body) {
    std::map<std::size_t, std::string> out;
    boost::system::error_code ec;
    const auto v = boost::json::parse(body, ec);
    if (ec || !v.is_object()) return out;
    const auto* error = v.get_object().if_contains("error");
    const auto* details = error && error->is_object() ? error->get_object().if_contains("details") : nullptr;
    if (!details || !details->is_array()) return out;
    for (const auto& d : details->get_array()) {
        const auto* o = d.if_object();
        const auto* index = o ? o->if_contains("index") : nullptr;
        if (!index || !index->is_int64() || index->get_int64() < 0) continue;
        std::string what;
        if (const auto* p = o->if_contains("path"); p && p->is_string()) what = std::string(p->get_string()) + ": ";
        if (const auto* m = o->if_contains("message"); m && m->is_string()) what += std::string(m->get_string());
        out.emplace(static_cast<std::size_t>(index->get_int64()), std::move(what));
    }
    return out;
}

bool is_retryable(int status) {
    return status == 0 || status == 408 || status == 429 || status >= 500 || status == 401 || status == 403 ||
           status == 404;
}

// The background thread's working state: the HTTP client and what has been
// reported, so each condition is said once.
class delivery {
public:
    explicit delivery(provider::impl& s) : s_(s), http_(s.url, s.opts.api_key, s.abort), rng_(std::random_device{}()) {}

    void loop();

private:
    bool deliver(std::vector<queued_event*> events);
    bool send_artifact(detail::artifact_job& job);
    bool wait_before_retry(int attempt, std::optional<std::chrono::milliseconds> retry_after);
    void note_failure(const detail::http_result& r, const std::string& what);
    void note_success();
    void reject(const queued_event& e, int status, const std::string& why);
    void refill_from_spool();
    void finish_batch(const std::vector<queued_event>& batch);
    void prepare_spare();

    provider::impl& s_;
    detail::http_client http_;
    std::mt19937_64 rng_;
    bool failing_ = false;  // the last request failed and it was reported
    std::unique_lock<std::mutex> lock_{s_.mu, std::defer_lock};
};

void delivery::loop() {
    lock_.lock();
    for (;;) {
        if (s_.abort) break;
        prepare_spare();
        if (!s_.artifacts.empty() && s_.artifacts.front().after_seq <= s_.done_seq) {
            auto job = std::move(s_.artifacts.front());
            s_.artifacts.pop_front();
            lock_.unlock();
            const bool done = send_artifact(job);
            lock_.lock();
            if (!done) break;
            ++s_.artifacts_done;
            s_.progress.notify_all();
            continue;
        }
        if (s_.queue.empty() && s_.disk_mode) refill_from_spool();
        if (s_.queue.empty()) {
            if (s_.closing && s_.artifacts.empty()) break;
            s_.flush_wanted = false;
            s_.wake.wait_for(lock_, s_.opts.flush_interval);
            continue;
        }
        // Wait for a full batch, at most until the oldest event has waited
        // flush_interval.
        const auto ready = [&] { return s_.abort || s_.queue.size() >= s_.opts.flush_at || s_.flush_wanted || s_.closing; };
        if (!ready()) {
            const auto waited = std::chrono::milliseconds(obs::domain::now_unix_ms() - s_.queue.front().logged_ms);
            if (waited < s_.opts.flush_interval) {
                s_.wake.wait_for(lock_, s_.opts.flush_interval - waited,
                                 [&] { return ready() || s_.queue.wants_spare(); });
                continue;
            }
        }
        // An artifact waits for the events logged before it, and no longer.
        const std::uint64_t limit = s_.artifacts.empty() ? UINT64_MAX : s_.artifacts.front().after_seq;
        std::vector<queued_event> batch;
        std::vector<detail::event_queue::block_ref> blocks;  // keep the batch's lines valid
        std::size_t bytes = 0;
        while (!s_.queue.empty() && batch.size() < detail::max_batch_events) {
            const queued_event e = s_.queue.front();
            if (e.seq > limit || (!batch.empty() && bytes + e.line.size() > detail::max_batch_bytes)) break;
            bytes += e.line.size();
            batch.push_back(e);
            s_.queue.pop_front(blocks);
        }
        if (batch.empty()) continue;
        lock_.unlock();
        std::vector<queued_event*> events;
        events.reserve(batch.size());
        for (auto& e : batch) events.push_back(&e);
        const bool done = deliver(std::move(events));
        lock_.lock();
        if (!done) {
            // Aborted by close(): what stays unsent is counted there.
            s_.queue.recycle(blocks);
            break;
        }
        finish_batch(batch);
        batch.clear();
        s_.queue.recycle(blocks);
    }
    s_.thread_ended = true;
    lock_.unlock();
    s_.progress.notify_all();
}

// REQUIRES: lock_ held. Moves done_seq and removes spool segments that hold
// nothing unacknowledged any more.
void delivery::finish_batch(const std::vector<queued_event>& batch) {
    s_.done_seq = batch.back().seq;
    std::vector<std::filesystem::path> removable;
    if (s_.spool) {
        for (const auto& e : batch)
            if (e.segment != 0) s_.spool->acknowledge(e.segment);
        removable = s_.spool->take_removable();
    }
    lock_.unlock();
    s_.progress.notify_all();
    for (const auto& path : removable) {
        std::error_code ignored;
        std::filesystem::remove(path, ignored);
    }
    lock_.lock();
}

// REQUIRES: lock_ held. Gives the queue a spare block, its pages touched
// here rather than by log() (made without the lock).
void delivery::prepare_spare() {
    if (!s_.queue.wants_spare()) return;
    lock_.unlock();
    auto spare = detail::event_queue::make_spare();
    lock_.lock();
    s_.queue.add_spare(std::move(spare));
}

// REQUIRES: lock_ held, disk_mode. Reads the next events back from the spool;
// leaves disk mode once it has caught up with log()'s appends.
void delivery::refill_from_spool() {
    std::vector<detail::spool_record> records;
    const auto end = s_.spool->end();
    s_.disk_cursor = s_.spool->read_records(s_.disk_cursor, end, detail::max_batch_events, records);
    for (auto& r : records) {
        r.line.push_back('\n');
        s_.queue.push(s_.disk_seq++, r.segment, 0, r.line);
    }
    if (s_.disk_cursor == end) s_.disk_mode = false;
}

// The body of POST /observability/events: {"events":[line,line,...]}. The
// JSON batch form rather than NDJSON because the server decodes it on its
// streaming fast path (domain/plain_batch.hpp), no DOM per event: about
// twice the events per server CPU-second (scripts/bench-sdk).
std::string batch_body(const std::vector<queued_event*>& events) {
    std::size_t size = 16;
    for (const auto* e : events) size += e->line.size();
    std::string body;
    body.reserve(size);
    body.append("{\"events\":[");
    for (const auto* e : events) {
        std::string_view line = e->line;
        if (line.ends_with('\n')) line.remove_suffix(1);
        body.append(line).push_back(',');
    }
    body.back() = ']';
    body.push_back('}');
    return body;
}

bool delivery::deliver(std::vector<queued_event*> events) {
    const std::string body = batch_body(events);
    for (int attempt = 0;; ++attempt) {
        if (s_.abort) return false;
        const bool gzip = s_.gzip;
        const auto r = http_.post_events(body, gzip, s_.opts.timeout);
        if (r.status >= 200 && r.status < 300) {
            note_success();
            s_.sent += number_after(r.body, "\"accepted\":");
            s_.duplicates += number_after(r.body, "\"duplicates\":");
            return true;
        }
        if (gzip && (r.status == 415 || r.status == 400)) {
            // 415 is the contract's answer to an encoding the server does not
            // take; 400 is what a server that ignores the header says of
            // compressed bytes. The same body is valid as plain NDJSON.
            s_.gzip = false;
            s_.opts.report("the server does not take gzip bodies (" + std::to_string(r.status) +
                           "); sending plain bodies from now on");
            continue;
        }
        if (r.status == 422 || r.status == 409) {
            const auto bad = bad_events_of(r.body);
            if (!bad.empty() && bad.rbegin()->first < events.size()) {
                std::vector<queued_event*> rest;
                for (std::size_t i = 0; i < events.size(); ++i) {
                    if (const auto it = bad.find(i); it != bad.end())
                        reject(*events[i], r.status, it->second);
                    else
                        rest.push_back(events[i]);
                }
                return rest.empty() || deliver(std::move(rest));
            }
        } else if (is_retryable(r.status)) {
            note_failure(r, "sending events");
            ++s_.retries;
            if (!wait_before_retry(attempt, r.retry_after)) return false;
            continue;
        }
        // A refusal without usable details: halve until the culprit is alone.
        if (events.size() == 1) {
            reject(*events[0], r.status, r.body.substr(0, 300));
            return true;
        }
        const auto half = events.begin() + static_cast<std::ptrdiff_t>(events.size() / 2);
        return deliver({events.begin(), half}) && deliver({half, events.end()});
    }
}

void delivery::reject(const queued_event& e, int status, const std::string& why) {
    ++s_.rejected;
    s_.opts.report("event " + std::string(line_field(e.line, "\"id\":\"")) + " of run " +
                   std::string(line_field(e.line, "\"run_id\":\"")) + " was rejected by the server (" +
                   std::to_string(status) + "): " + why);
}

bool delivery::send_artifact(detail::artifact_job& job) {
    if (!job.path.empty()) {
        std::ifstream in(job.path, std::ios::binary);
        std::ostringstream bytes;
        if (!in || !(bytes << in.rdbuf())) {
            s_.opts.report("artifact " + job.name + " of run " + job.run_id + ": cannot read " + job.path.string());
            return true;
        }
        job.bytes = std::move(bytes).str();
    }
    for (int attempt = 0;; ++attempt) {
        if (s_.abort) return false;
        const auto r = http_.put_artifact(job.run_id, job.name, job.bytes, job.content_type, job.step_id,
                                          s_.opts.timeout);
        if (r.status >= 200 && r.status < 300) {
            note_success();
            ++s_.artifacts_sent;
            return true;
        }
        if (r.status == 404 || !is_retryable(r.status)) {
            s_.opts.report("artifact " + job.name + " of run " + job.run_id + " was refused (" +
                           std::to_string(r.status) + "): " + r.body.substr(0, 300));
            return true;
        }
        note_failure(r, "uploading an artifact");
        ++s_.retries;
        if (!wait_before_retry(attempt, r.retry_after)) return false;
    }
}

// Sleeps before attempt `attempt + 1`; false when close() aborted the wait.
bool delivery::wait_before_retry(int attempt, std::optional<std::chrono::milliseconds> retry_after) {
    std::chrono::milliseconds delay;
    if (retry_after) {
        // At least what the server asked, plus up to a fifth so that many
        // clients told the same do not return at the same instant.
        std::uniform_int_distribution<long> jitter(0, retry_after->count() / 5);
        delay = *retry_after + std::chrono::milliseconds(jitter(rng_));
    } else {
        const auto ceiling = std::min<std::chrono::milliseconds>(backoff_max, backoff_first * (1L << std::min(attempt, 16)));
        std::uniform_int_distribution<long> jitter(ceiling.count() / 2, ceiling.count());
        delay = std::chrono::milliseconds(jitter(rng_));
    }
    // Spare blocks are still made meanwhile: a queue growing while the
    // server is away is where log() would otherwise fault on fresh memory.
    const auto until = std::chrono::steady_clock::now() + delay;
    lock_.lock();
    for (;;) {
        if (s_.abort) break;
        prepare_spare();
        if (!s_.wake.wait_until(lock_, until, [&] { return s_.abort.load() || s_.queue.wants_spare(); })) break;
    }
    const bool aborted = s_.abort;
    lock_.unlock();
    return !aborted;
}

void delivery::note_failure(const detail::http_result& r, const std::string& what) {
    if (failing_) return;
    failing_ = true;
    s_.opts.report(what + " to " + s_.url + " failed (" +
                   (r.status == 0 ? r.error : "HTTP " + std::to_string(r.status)) +
                   "); retrying, nothing is lost while the process lives");
}

void delivery::note_success() {
    if (!failing_) return;
    failing_ = false;
    s_.opts.report("delivering to " + s_.url + " again");
}

}  // namespace

void provider::impl::run() {
    detail::ask_for_short_slices();
    delivery d(*this);
    d.loop();
}

}  // namespace observability
