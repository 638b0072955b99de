// One connection's sending, with every answer handled: a lane's thread sends
// its event batches through one sender, the background thread its artifacts
// through another. Each owns a libcurl handle (one kept-alive connection) and
// its backoff state; what it learns (gzip refused, counters, reachability) is
// the provider's, shared by all senders.
//   2xx            done (new and duplicate events counted)
//   0 (no answer), 408, 429, 5xx, 401/403/404
//                  sent again after a backoff (exponential with jitter, or the
//                  server's Retry-After), without limit while the process lives
//   415/400 to a gzip body
//                  the server does not decode gzip: plain bodies from then on
//   422/409        the events named by details[].index are rejected (reported
//                  once, counted), the rest is sent again as one batch
//   other 4xx      the batch is halved until the bad event is alone
// A call returns once its batch is wholly done, so a caller that sends one
// batch after another keeps their order.
#pragma once

#include "http_client.hpp"
#include "provider_impl.hpp"

#include <condition_variable>
#include <random>
#include <vector>

namespace observability::detail {

class sender {
public:
    // `idle` is the condition variable the sender sleeps on between retries
    // (close() notifies it on abort). `prepares_ahead`: the background
    // thread's sender keeps doing provider::impl::prepare_ahead while it waits.
    sender(provider::impl& s, std::condition_variable& idle, bool prepares_ahead);

    // Sends `batch` (finished) until every event is stored or rejected. False
    // when close() aborted it first.
    bool send(const outgoing_batch& batch);
    // PUT of one artifact; a refusal is reported and counts as done. False
    // when aborted.
    bool send_artifact(artifact_job& job);

private:
    // Sends the events `picks` (indexes into batch.events, in order) whose
    // body is `body`.
    bool deliver(const outgoing_batch& batch, const std::vector<std::size_t>& picks, std::string_view body);
    bool deliver_picks(const outgoing_batch& batch, std::vector<std::size_t> picks);
    bool wait_before_retry(int attempt, std::optional<std::chrono::milliseconds> retry_after);
    void note_failure(const http_result& r, const std::string& what);
    void note_success();
    void reject(std::string_view line, int status, const std::string& why);

    provider::impl& s_;
    std::condition_variable& idle_;
    bool prepares_ahead_;
    http_client http_;
    std::mt19937_64 rng_;
};

}  // namespace observability::detail
