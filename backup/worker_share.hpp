// The backup worker's claim on the CPU while a backup runs (issue 13,
// item 9: a backup must finish on a busy machine, and on an idle one must
// not slow ingestion).
//
// While a backup runs the worker yields the core to anything that wants it
// (SCHED_IDLE): a waking io or writer thread then runs at once, where under
// SCHED_OTHER, even at nice 5, it could wait for the worker's slice. That
// alone starved backups beside a compile on both cores (2 CPU-seconds in 4
// minutes), so the worker's wait is checked four times a second: when it
// spent more than half of the last check's window runnable but without a
// core, the machine is busy, and it takes a bounded low share for a second
// (SCHED_OTHER at its nice value, 5 above the server's: about a quarter of
// a core against each busy nice-0 task), then yields again and looks anew.
//
// Leaving SCHED_IDLE needs CAP_SYS_NICE or an RLIMIT_NICE that allows the
// worker's nice value. Whether it may is tried once at construction on a
// thread of its own; when it may not, the worker never yields and keeps its
// nice value under SCHED_OTHER throughout, the share it always has.
//
// Thread-safety: the constructor, start() and stop() on the io thread;
// set_worker() on the worker thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <cstdint>
#include <memory>

#include <sys/types.h>

namespace obs::backup {

// The check's decision, apart from the clock and the scheduler (tested on
// its own).
struct share_state {
    bool sharing = false;   // SCHED_OTHER at the worker's nice value; else SCHED_IDLE
    int checks_left = 0;    // while sharing: checks until it yields again
};

inline constexpr int share_checks = 4;  // a second at four checks a second

// The state after one check: `waited_ns` is how long the worker was
// runnable without a core during the check's window of `window_ns`.
share_state next_share_state(share_state s, std::uint64_t waited_ns, std::uint64_t window_ns);

class worker_share {
public:
    explicit worker_share(boost::asio::any_io_executor io);
    ~worker_share();
    worker_share(const worker_share&) = delete;
    worker_share& operator=(const worker_share&) = delete;

    // The worker thread names itself (its gettid()).
    void set_worker(pid_t tid) { worker_tid_.store(tid); }

    // A backup starts: the worker yields, and the checks run until stop().
    void start();
    // The backup ended: the worker goes back to SCHED_OTHER (its nice value).
    void stop();

    // Whether the worker yields during backups on this machine; for tests.
    bool yields() const noexcept { return may_leave_idle_; }

private:
    struct checks;

    std::atomic<pid_t> worker_tid_{0};
    bool may_leave_idle_ = false;
    std::shared_ptr<checks> checks_;  // while a backup runs
    boost::asio::any_io_executor io_;
};

}  // namespace obs::backup
