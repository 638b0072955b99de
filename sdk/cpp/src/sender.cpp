// A connection's sending and the handling of every answer; see sender.hpp.
#include "sender.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <map>
#include <sstream>

namespace observability::detail {
namespace {

using namespace std::chrono_literals;

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

// The body of the events `picks` of `batch`, for a part of a split batch.
std::string body_of(const outgoing_batch& batch, const std::vector<std::size_t>& picks) {
    std::string body = "{\"events\":[";
    for (const auto i : picks) body.append(batch.line(batch.events[i])).push_back(',');
    body.back() = ']';
    body.push_back('}');
    return body;
}

}  // namespace

sender::sender(provider::impl& s, std::condition_variable& idle, bool prepares_ahead)
    : s_(s), idle_(idle), prepares_ahead_(prepares_ahead), http_(s.url, s.opts.api_key, s.abort),
      rng_(std::random_device{}()) {}

bool sender::send(const outgoing_batch& batch) {
    std::vector<std::size_t> all(batch.events.size());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
    return deliver(batch, all, batch.body);
}

bool sender::deliver_picks(const outgoing_batch& batch, std::vector<std::size_t> picks) {
    return deliver(batch, picks, body_of(batch, picks));
}

bool sender::deliver(const outgoing_batch& batch, const std::vector<std::size_t>& picks, std::string_view body) {
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
            // compressed bytes. The same body is valid uncompressed. Only the
            // first sender to see it reports it.
            if (s_.gzip.exchange(false))
                s_.opts.report("the server does not take gzip bodies (" + std::to_string(r.status) +
                               "); sending plain bodies from now on");
            continue;
        }
        if (r.status == 422 || r.status == 409) {
            const auto bad = bad_events_of(r.body);
            if (!bad.empty() && bad.rbegin()->first < picks.size()) {
                std::vector<std::size_t> rest;
                for (std::size_t i = 0; i < picks.size(); ++i) {
                    if (const auto it = bad.find(i); it != bad.end())
                        reject(batch.line(batch.events[picks[i]]), r.status, it->second);
                    else
                        rest.push_back(picks[i]);
                }
                return rest.empty() || deliver_picks(batch, std::move(rest));
            }
        } else if (is_retryable(r.status)) {
            note_failure(r, "sending events");
            ++s_.retries;
            if (!wait_before_retry(attempt, r.retry_after)) return false;
            continue;
        }
        // A refusal without usable details: halve until the culprit is alone.
        if (picks.size() == 1) {
            reject(batch.line(batch.events[picks[0]]), r.status, r.body.substr(0, 300));
            return true;
        }
        const auto half = picks.begin() + static_cast<std::ptrdiff_t>(picks.size() / 2);
        return deliver_picks(batch, {picks.begin(), half}) && deliver_picks(batch, {half, picks.end()});
    }
}

void sender::reject(std::string_view line, int status, const std::string& why) {
    ++s_.rejected;
    s_.opts.report("event " + std::string(line_field(line, "\"id\":\"")) + " of run " +
                   std::string(line_field(line, "\"run_id\":\"")) + " was rejected by the server (" +
                   std::to_string(status) + "): " + why);
}

bool sender::send_artifact(artifact_job& job) {
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
bool sender::wait_before_retry(int attempt, std::optional<std::chrono::milliseconds> retry_after) {
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
    // The background thread still prepares spare blocks and the spool's
    // pages meanwhile: a queue or spool growing while the server is away is
    // where log() would otherwise fault on fresh memory.
    const auto until = std::chrono::steady_clock::now() + delay;
    std::unique_lock lock(s_.mu);
    for (;;) {
        if (s_.abort) break;
        if (prepares_ahead_) s_.prepare_ahead(lock);
        const auto woken = [&] { return s_.abort.load() || (prepares_ahead_ && s_.wants_preparation()); };
        if (!idle_.wait_until(lock, until, woken)) break;
    }
    return !s_.abort;
}

void sender::note_failure(const http_result& r, const std::string& what) {
    if (s_.failing.exchange(true)) return;
    s_.opts.report(what + " to " + s_.url + " failed (" +
                   (r.status == 0 ? r.error : "HTTP " + std::to_string(r.status)) +
                   "); retrying, nothing is lost while the process lives");
}

void sender::note_success() {
    if (!s_.failing.exchange(false)) return;
    s_.opts.report("delivering to " + s_.url + " again");
}

}  // namespace observability::detail
