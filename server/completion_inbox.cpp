// See completion_inbox.hpp.
#include "server/completion_inbox.hpp"

#include <boost/asio/post.hpp>

namespace obs::server {

void completion_inbox::push(std::function<void()> f) {
    std::lock_guard lk(mu_);
    pending_.push_back(std::move(f));
}

void completion_inbox::flush() {
    {
        std::lock_guard lk(mu_);
        if (pending_.empty() || flush_posted_) return;
        flush_posted_ = true;
    }
    boost::asio::post(io_, [self = shared_from_this()] { self->run_pending(); });
}

void completion_inbox::discard() {
    std::vector<std::function<void()>> dropped;
    std::lock_guard lk(mu_);
    dropped.swap(pending_);
}

void completion_inbox::run_pending() {
    std::vector<std::function<void()>> now;
    {
        std::lock_guard lk(mu_);
        now.swap(pending_);
        flush_posted_ = false;
    }
    for (auto& f : now) f();
}

}  // namespace obs::server
