// The writer thread's way back to the io thread: completions (a request's
// outcome, a group's events for the stream hub) are collected here while
// the writer finishes a group, and the io thread is woken once per group to
// run them all, in the order they were pushed.
//
// Why not one post per completion: the io thread and the writer share a
// core under load (the benchmark pins the whole server to one), and each
// post could wake the io thread to run one completion and go back to epoll
// while the writer pushed the next. Measured on one core with the writer a
// batch thread (event_writer.cpp): single-event POSTs at 25-32k requests/s
// with the inbox, 16-25k with one post per completion.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace obs::server {

class completion_inbox : public std::enable_shared_from_this<completion_inbox> {
public:
    explicit completion_inbox(boost::asio::any_io_executor io) : io_(std::move(io)) {}

    // Any thread: queues `f` to run on the io thread at the next flush().
    void push(std::function<void()> f);
    // Any thread: wakes the io thread to run what is queued, if anything is.
    void flush();
    // Drops what is queued without running it (after the io thread stopped).
    void discard();

private:
    void run_pending();

    boost::asio::any_io_executor io_;
    std::mutex mu_;
    std::vector<std::function<void()>> pending_;  // guarded by mu_
    bool flush_posted_ = false;                   // guarded by mu_: a run_pending is on its way
};

}  // namespace obs::server
