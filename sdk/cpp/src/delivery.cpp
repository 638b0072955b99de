// The provider's background thread and its lanes. The background thread
// waits for a batch's worth of events (flush_at, or the oldest has waited
// flush_interval, or flush/close), takes them off the queue in seq order (or
// reads them back from the spool) and routes each to a lane by a hash of its
// run id; it also sends artifacts once every event logged before them is
// done. Each lane's thread sends its batches one after another over its own
// connection (sender.hpp handles the answers), which keeps each run's order
// while several runs' batches are in flight at once.
#include "provider_impl.hpp"
#include "sender.hpp"
#include "short_slices.hpp"

#include "domain/time.hpp"

#include <algorithm>
#include <filesystem>
#include <vector>

namespace observability {
namespace {

using detail::outgoing_batch;
using detail::queued_event;

// The lane of an event line: FNV-1a of its run id (the second field of every
// line make_event_line writes), so a run always takes the same lane.
std::size_t lane_of(std::string_view line, std::size_t lanes) {
    if (lanes == 1) return 0;
    constexpr std::string_view key = "\"run_id\":\"";
    auto pos = line.find(key);
    std::uint64_t h = 0xcbf29ce484222325ULL;
    if (pos != std::string_view::npos) {
        for (pos += key.size(); pos < line.size() && line[pos] != '"'; ++pos) {
            h ^= static_cast<unsigned char>(line[pos]);
            h *= 0x100000001b3ULL;
        }
    }
    return static_cast<std::size_t>(h % lanes);
}

class delivery {
public:
    explicit delivery(provider::impl& s) : s_(s), artifacts_(s, s.wake, true) {}

    void loop();

private:
    bool route_next();
    void lane_loop(std::size_t index);
    void acknowledge(const outgoing_batch& batch, std::unique_lock<std::mutex>& lock);
    void refill_from_spool();
    bool lanes_idle() const;
    void sleep(std::chrono::milliseconds limit, bool for_events);

    provider::impl& s_;
    detail::sender artifacts_;
    std::unique_lock<std::mutex> lock_{s_.mu, std::defer_lock};
};

void delivery::loop() {
    std::vector<std::thread> lane_threads;
    for (std::size_t i = 0; i < s_.lanes.size(); ++i) lane_threads.emplace_back([this, i] { lane_loop(i); });
    lock_.lock();
    for (;;) {
        if (s_.abort) break;
        s_.prepare_ahead(lock_);
        if (!s_.artifacts.empty() && s_.artifacts.front().after_seq <= s_.done_seq) {
            auto job = std::move(s_.artifacts.front());
            s_.artifacts.pop_front();
            lock_.unlock();
            const bool done = artifacts_.send_artifact(job);
            lock_.lock();
            if (!done) break;
            ++s_.artifacts_done;
            s_.progress.notify_all();
            continue;
        }
        if (s_.queue.empty() && s_.disk_mode) refill_from_spool();
        if (s_.queue.empty()) {
            if (s_.closing && s_.artifacts.empty() && lanes_idle()) break;
            s_.flush_wanted = false;
            sleep(s_.opts.flush_interval, true);
            continue;
        }
        // Wait for a full batch, at most until the oldest event has waited
        // flush_interval.
        const auto ready = [&] { return s_.abort || s_.queue.size() >= s_.opts.flush_at || s_.flush_wanted || s_.closing; };
        if (!ready()) {
            const auto waited = std::chrono::milliseconds(obs::domain::now_unix_ms() - s_.queue.front().logged_ms);
            if (waited < s_.opts.flush_interval) {
                s_.wants_events = true;
                s_.wants_lanes = true;
                s_.wake.wait_for(lock_, s_.opts.flush_interval - waited,
                                 [&] { return ready() || s_.wants_preparation(); });
                s_.wants_events = s_.wants_lanes = false;
                continue;
            }
        }
        if (!route_next()) {
            // The lanes are full, or an artifact waits for the events before
            // it: a lane's progress wakes this thread, log() does not.
            sleep(s_.opts.flush_interval, false);
        }
    }
    s_.lanes_stop = true;
    lock_.unlock();
    s_.lanes_wake.notify_all();
    for (auto& t : lane_threads) t.join();
    lock_.lock();
    s_.thread_ended = true;
    lock_.unlock();
    s_.progress.notify_all();
}

// REQUIRES: lock_ held. Waits at most `limit` for a lane's progress, flush,
// close, a spare block wanted, and with `for_events` for flush_at events
// queued. Each waker notifies only while the matching flag is set, so an
// agent logging fast does not wake this thread every flush_at events while
// the lanes have all they can take.
void delivery::sleep(std::chrono::milliseconds limit, bool for_events) {
    s_.wants_events = for_events;
    s_.wants_lanes = true;
    s_.wake.wait_for(lock_, limit);
    s_.wants_events = s_.wants_lanes = false;
}

bool delivery::lanes_idle() const {
    return s_.in_lanes == 0 && s_.routing_first == 0;
}

// REQUIRES: lock_ held, queue not empty. Takes the next events off the queue
// and hands them to their lanes; false when none could be taken.
bool delivery::route_next() {
    const std::size_t room = detail::max_lane_events * s_.lanes.size();
    if (s_.in_lanes >= room) return false;
    // An artifact waits for the events logged before it, and no longer.
    const std::uint64_t limit = s_.artifacts.empty() ? UINT64_MAX : s_.artifacts.front().after_seq;
    std::vector<queued_event> taken;
    std::vector<detail::event_queue::block_ref> blocks;  // keep the taken lines valid
    std::size_t bytes = 0;
    const std::size_t most = std::min(detail::max_batch_events, room - s_.in_lanes);
    while (!s_.queue.empty() && taken.size() < most) {
        const queued_event e = s_.queue.front();
        if (e.seq > limit || (!taken.empty() && bytes + e.line.size() > detail::max_batch_bytes)) break;
        bytes += e.line.size();
        taken.push_back(e);
        s_.queue.pop_front(blocks);
    }
    if (taken.empty()) return false;
    s_.routing_first = taken.front().seq;
    s_.routed_seq = taken.back().seq;
    lock_.unlock();
    // The lines are copied into the lanes' bodies outside the lock: log()
    // only waits for the pops above.
    std::vector<outgoing_batch> routed(s_.lanes.size());
    for (const auto& e : taken) {
        std::string_view line = e.line;
        if (line.ends_with('\n')) line.remove_suffix(1);
        routed[lane_of(line, routed.size())].add(e.seq, e.segment, line);
    }
    lock_.lock();
    s_.queue.recycle(blocks);
    for (std::size_t i = 0; i < routed.size(); ++i)
        if (!routed[i].events.empty()) s_.lanes[i].pending.push_back(std::move(routed[i]));
    s_.in_lanes += taken.size();
    s_.routing_first = 0;
    s_.update_done_seq();
    s_.lanes_wake.notify_all();
    return true;
}

// A lane's thread: sends the batches routed to it, one at a time, merging
// those waiting into one batch up to the batch limits.
void delivery::lane_loop(std::size_t index) {
    detail::ask_for_short_slices();
    detail::sender out(s_, s_.lanes_wake, false);
    detail::lane& me = s_.lanes[index];
    std::unique_lock lock(s_.mu);
    for (;;) {
        if (s_.abort) break;
        if (me.pending.empty()) {
            if (s_.lanes_stop) break;
            s_.lanes_wake.wait(lock);
            continue;
        }
        outgoing_batch batch = std::move(me.pending.front());
        me.pending.pop_front();
        std::vector<outgoing_batch> more;
        std::size_t events = batch.events.size(), bytes = batch.line_bytes();
        while (!me.pending.empty() && events + me.pending.front().events.size() <= detail::max_batch_events &&
               bytes + me.pending.front().line_bytes() <= detail::max_batch_bytes) {
            events += me.pending.front().events.size();
            bytes += me.pending.front().line_bytes();
            more.push_back(std::move(me.pending.front()));
            me.pending.pop_front();
        }
        me.in_flight_first = batch.events.front().seq;
        lock.unlock();
        for (const auto& m : more) batch.append(m);
        batch.finish();
        const bool done = out.send(batch);
        lock.lock();
        // Aborted by close(): what stays unsent is counted there, and
        // in_flight_first keeps done_seq below it.
        if (!done) break;
        me.in_flight_first = 0;
        acknowledge(batch, lock);
    }
}

// REQUIRES: `lock` holds mu. The batch is done: counts it, moves done_seq
// and removes spool segments that hold nothing unacknowledged any more.
void delivery::acknowledge(const outgoing_batch& batch, std::unique_lock<std::mutex>& lock) {
    s_.in_lanes -= batch.events.size();
    s_.acked += batch.events.size();
    s_.update_done_seq();
    std::vector<std::filesystem::path> removable;
    if (s_.spool) {
        for (const auto& e : batch.events)
            if (e.segment != 0) s_.spool->acknowledge(e.segment);
        removable = s_.spool->take_removable();
    }
    // Notified with the lock held, which the lane keeps to take its next
    // batch: letting go of it here meant taking it once more per batch, and
    // with agent threads calling log() flat out on the same core each take
    // could wait a scheduler slice for one of them preempted holding it.
    s_.progress.notify_all();
    if (s_.wants_lanes) s_.wake.notify_one();
    if (removable.empty()) return;
    lock.unlock();
    for (const auto& path : removable) {
        std::error_code ignored;
        std::filesystem::remove(path, ignored);
    }
    lock.lock();
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

}  // namespace

namespace detail {

void outgoing_batch::add(std::uint64_t seq, std::uint64_t segment, std::string_view line) {
    events.push_back({seq, segment, body.size(), line.size()});
    body.append(line).push_back(',');
}

void outgoing_batch::append(const outgoing_batch& other) {
    constexpr std::size_t head = std::string_view("{\"events\":[").size();
    const std::size_t shift = body.size() - head;
    body.append(other.body, head);
    for (auto e : other.events) {
        e.offset += shift;
        events.push_back(e);
    }
}

void outgoing_batch::finish() {
    body.back() = ']';
    body.push_back('}');
}

}  // namespace detail

void provider::impl::update_done_seq() {
    std::uint64_t low = routing_first == 0 ? UINT64_MAX : routing_first;
    for (const auto& l : lanes) {
        if (l.in_flight_first != 0)
            low = std::min(low, l.in_flight_first);
        else if (!l.pending.empty())
            low = std::min(low, l.pending.front().events.front().seq);
    }
    done_seq = low == UINT64_MAX ? routed_seq : low - 1;
}

bool provider::impl::wants_preparation() const {
    return queue.wants_spare() || (spool && spool->wants_upkeep());
}

void provider::impl::prepare_ahead(std::unique_lock<std::mutex>& lock) {
    if (spool) spool->upkeep(lock);
    if (!queue.wants_spare()) return;
    lock.unlock();
    auto spare = detail::event_queue::make_spare();
    lock.lock();
    queue.add_spare(std::move(spare));
}

void provider::impl::run() {
    detail::ask_for_short_slices();
    delivery d(*this);
    d.loop();
}

}  // namespace observability
