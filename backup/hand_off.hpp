// The one hand-off between threads: "run this there, resume here". A
// coroutine on the io thread starts work on another thread (a worker pool,
// a SQLite reader, the writer) and suspends; the other thread finishes and
// the coroutine resumes on its own executor with the value, or with the
// exception the work threw. It lives in backup/ because that is the lowest
// folder that links Asio; server/ uses it for every hop it makes.
//
// GCC 12 and coroutines: GCC 12 relocates (copies bitwise) or destroys twice
// some temporaries written inside a co_await expression: a closure, an
// aggregate, a prvalue argument. A captured std::string then points into a
// small-string buffer that moved, or is freed twice. So every argument of a
// co_await-ed call in this project is a named variable, moved in, and the
// functions here take their closures by value and name them before they
// suspend. This is the one place that says so; callers only follow it.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace obs::async {

// What the other thread delivers: the value, or what it threw.
template <class T>
using outcome = std::variant<T, std::exception_ptr>;

// Runs `f()` and captures its value or exception.
template <class F>
outcome<std::invoke_result_t<F&>> capture(F& f) noexcept {
    using value_t = std::invoke_result_t<F&>;
    try {
        return outcome<value_t>(std::in_place_index<0>, f());
    } catch (...) {
        return outcome<value_t>(std::in_place_index<1>, std::current_exception());
    }
}

// Resumes the coroutine waiting in `handler` with `value`, on `home`: at
// once when this thread already runs `home` (an io_context's executor),
// else through a post. Inline is what dispatch() would do too, but dispatch
// through the type-erased executor wraps the call in a heap function first.
template <class Handler, class T>
void resume_on(const boost::asio::any_io_executor& home, const std::shared_ptr<Handler>& handler, T value) {
    const auto* io = home.target<boost::asio::io_context::executor_type>();
    if (io != nullptr && io->running_in_this_thread()) {
        (*handler)(std::move(value));
        return;
    }
    boost::asio::post(home, [handler, value = std::move(value)]() mutable { (*handler)(std::move(value)); });
}

// Suspends until `start(deliver)` has had `deliver(T)` called once, from any
// thread, and resumes on `home` with that value. `start` runs when the
// caller co_awaits, on the caller's thread; it must arrange for exactly one
// call of `deliver` (a queue that refuses the job delivers its refusal as a
// value, e.g. nullopt). `deliver` is copyable, so it fits std::function-based
// queues. When `deliver` runs on `home`'s thread already (e.g. from a
// completion queue drained there), the coroutine resumes inline. Not a
// coroutine itself: the awaitable it returns is the operation, one frame
// fewer per hop; `start` is therefore held by value until it runs.
template <class T, class Start>
auto await_hand_off(boost::asio::any_io_executor home, Start start) {
    auto initiation = [home = std::move(home), start = std::move(start)](auto handler) mutable {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        auto deliver = [home, shared](T value) { resume_on(home, shared, std::move(value)); };
        start(std::move(deliver));
    };
    return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(T)>(std::move(initiation),
                                                                                       boost::asio::use_awaitable);
}

// Runs `f()` on `there` (any executor: a thread_pool's) and resumes on `home`
// with its value; rethrows what `f` threw. `f` is moved to the other thread.
template <class Executor, class F>
boost::asio::awaitable<std::invoke_result_t<F&>> run_on(Executor there, boost::asio::any_io_executor home, F f) {
    using value_t = std::invoke_result_t<F&>;
    auto start = [there, &f](auto deliver) {
        boost::asio::post(there, [f = std::move(f), deliver = std::move(deliver)]() mutable { deliver(capture(f)); });
    };
    outcome<value_t> result = co_await await_hand_off<outcome<value_t>>(home, std::move(start));
    if (result.index() == 1) std::rethrow_exception(std::get<1>(result));
    co_return std::move(std::get<0>(result));
}

// Runs `job(args...)` through `submit`, a queue of a thread of its own that
// takes a std::function-like job and returns false when it is full; resumes
// on `home` with the job's value, or nullopt when the queue refused it.
// Rethrows what the job threw. (The read_pool's post is such a queue.)
template <class Submit, class F, class Arg>
boost::asio::awaitable<std::optional<std::invoke_result_t<F&, Arg>>> run_queued(Submit submit,
                                                                              boost::asio::any_io_executor home, F f) {
    using value_t = std::invoke_result_t<F&, Arg>;
    using delivered = std::optional<outcome<value_t>>;
    auto start = [&submit, &f](auto deliver) {
        const bool queued = submit([f = std::move(f), deliver](Arg arg) mutable {
            auto bound = [&f, &arg] { return f(arg); };
            deliver(delivered(capture(bound)));
        });
        if (!queued) deliver(delivered{});
    };
    delivered result = co_await await_hand_off<delivered>(home, std::move(start));
    if (!result) co_return std::nullopt;
    if (result->index() == 1) std::rethrow_exception(std::get<1>(*result));
    co_return std::move(std::get<0>(*result));
}

}  // namespace obs::async
