// The live stream's fan-out: see stream_hub.hpp. The hub keeps plain
// pointers to its subscribers (each one removes itself when closed or
// destroyed), so publishing is a loop over a vector with no allocation
// beyond the one shared frame per event.
#include "server/stream/stream_hub.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cassert>
#include <utility>

namespace obs::server {

// ---- stream_subscriber ------------------------------------------------------

stream_subscriber::stream_subscriber(key, stream_hub& hub, stream_filter filter, queue_limits limits,
                                     std::int64_t start_offset)
    : hub_(&hub), filter_(std::move(filter)), limits_(limits), start_offset_(start_offset),
      position_(start_offset), wake_timer_(hub.get_executor()) {}

stream_subscriber::~stream_subscriber() {
    close_hook_ = nullptr;  // the session that set it is gone or going
    close();
}

void stream_subscriber::advance_to(std::int64_t offset) {
    if (offset > position_) {
        position_ = offset;
    }
}

std::size_t stream_subscriber::take_all(std::vector<shared_frame>& out) {
    std::size_t taken = 0;
    for (auto& q : queue_) {
        // Skips what a replay or an earlier resume point already covered.
        if (q.offset > position_) {
            out.push_back(std::move(q.frame));
            position_ = q.offset;
            ++taken;
        }
    }
    drop_queue();
    return taken;
}

void stream_subscriber::note_sent(std::size_t frames) {
    if (hub_ != nullptr) {
        hub_->frames_sent_ += frames;
        ++hub_->flushes_;
    }
}

boost::asio::awaitable<void> stream_subscriber::wait(clock::time_point deadline) {
    if (queue_.empty()) {
        co_await pause_until(deadline, pause::wait);
    }
}

boost::asio::awaitable<void> stream_subscriber::hold(clock::time_point deadline) {
    co_await pause_until(deadline, pause::hold);
}

boost::asio::awaitable<void> stream_subscriber::pause_until(clock::time_point deadline, pause kind) {
    if (closed_ || overflowed_ || clock::now() >= deadline) {
        co_return;
    }
    wake_timer_.expires_at(deadline);
    paused_ = kind;
    // A cancel (wake) and an expiry both just resume the caller, which
    // re-checks the state: the error code carries no information here.
    co_await wake_timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    paused_ = pause::none;
}

void stream_subscriber::wake() {
    if (paused_ == pause::wait) {
        wake_timer_.cancel();
    }
}

void stream_subscriber::alert() {
    if (paused_ != pause::none) {
        wake_timer_.cancel();
    }
}

void stream_subscriber::close() {
    if (closed_) {
        return;
    }
    closed_ = true;
    drop_queue();
    if (hub_ != nullptr) {
        hub_->remove(*this);
    }
    alert();
    if (auto hook = std::move(close_hook_)) {
        close_hook_ = nullptr;
        hook();
    }
}

void stream_subscriber::enqueue(const shared_frame& frame, std::int64_t offset) {
    const bool fits = queue_.empty() ||
                      (queue_.size() < limits_.max_frames && queued_bytes_ + frame->size() <= limits_.max_bytes);
    if (!fits) {
        // The client fell behind: free its queue now; the session sends
        // overflow (with position(), what it did receive) and closes.
        overflowed_ = true;
        drop_queue();
        if (hub_ != nullptr) {
            ++hub_->overflows_;
        }
        wake_pending_ = true;
        return;
    }
    queue_.push_back(queued_frame{frame, offset});
    queued_bytes_ += frame->size();
    if (hub_ != nullptr) {
        ++hub_->frames_queued_;
    }
    wake_pending_ = true;
}

void stream_subscriber::drop_queue() {
    if (hub_ != nullptr) {
        hub_->frames_queued_ -= queue_.size();
    }
    // A fresh deque: clear() would keep the blocks of a long queue.
    std::deque<queued_frame>().swap(queue_);
    queued_bytes_ = 0;
}

// ---- stream_hub ---------------------------------------------------------------

stream_hub::stream_hub(executor_type io, std::int64_t last_offset, hub_options options)
    : io_(io), last_published_(last_offset), options_(options) {}

stream_hub::~stream_hub() {
    // Subscribers may outlive the hub (their sessions' frames are destroyed
    // with the io_context): detach them so they never touch it again.
    for (stream_subscriber* sub : subscribers_) {
        sub->closed_ = true;
        sub->hub_ = nullptr;
        std::deque<stream_subscriber::queued_frame>().swap(sub->queue_);
        sub->queued_bytes_ = 0;
    }
}

void stream_hub::publish(const persistence::committed_events& batch) {
    if (batch) {
        publish(*batch);
    }
}

void stream_hub::publish(const std::vector<domain::stored_event>& events) {
    assert(io_.running_in_this_thread());
    if (stopped_) {
        return;
    }
    for (const auto& ev : events) {
        if (ev.offset <= last_published_) {
            continue;  // covered by the start offset or a batch seen before
        }
        last_published_ = ev.offset;
        shared_frame frame;  // encoded on the first match only
        for (stream_subscriber* sub : subscribers_) {
            if (sub->overflowed_ || !sub->filter_.matches(ev)) {
                continue;
            }
            if (!frame) {
                frame = encode_event_frame(ev);
                ++frames_encoded_;
            }
            sub->enqueue(frame, ev.offset);
        }
    }
    // One wake per subscriber per batch, however many of its events it got.
    for (stream_subscriber* sub : subscribers_) {
        if (sub->wake_pending_) {
            sub->wake_pending_ = false;
            if (sub->overflowed_) {
                sub->alert();
            } else {
                sub->wake();
            }
        }
    }
}

boost::system::result<subscription, api_error> stream_hub::subscribe(stream_filter filter, queue_limits limits) {
    assert(io_.running_in_this_thread());
    if (stopped_) {
        return make_error(error_code::unavailable, "the server is shutting down");
    }
    if (subscribers_.size() >= options_.max_subscribers) {
        api_error e = make_error(error_code::overloaded, "too many streams are open; retry later");
        e.retry_after_seconds = 5;
        return e;
    }
    auto sub = std::make_shared<stream_subscriber>(stream_subscriber::key{}, *this, std::move(filter), limits,
                                                   last_published_);
    sub->slot_ = subscribers_.size();
    subscribers_.push_back(sub.get());
    return sub;
}

void stream_hub::shutdown() {
    stopped_ = true;
    // close() removes each from the list, so take from the back.
    while (!subscribers_.empty()) {
        subscribers_.back()->close();
    }
}

void stream_hub::remove(stream_subscriber& sub) {
    assert(sub.slot_ < subscribers_.size() && subscribers_[sub.slot_] == &sub);
    stream_subscriber* last = subscribers_.back();
    subscribers_[sub.slot_] = last;
    last->slot_ = sub.slot_;
    subscribers_.pop_back();
    sub.hub_ = nullptr;
}

}  // namespace obs::server
