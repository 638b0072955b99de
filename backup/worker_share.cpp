// The backup worker's scheduling while a backup runs (see worker_share.hpp).
// The worker's wait for a core is read from /proc/self/task/<tid>/schedstat,
// whose second field is the time it spent runnable on a run queue (ns).
#include "backup/worker_share.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

namespace obs::backup {

namespace {

constexpr auto check_every = std::chrono::milliseconds(250);
constexpr int worker_nice_above_server = 5;  // as backup_job.cpp gives the worker

bool set_policy(pid_t tid, int policy) {
    sched_param param{};
    return ::sched_setscheduler(tid, policy, &param) == 0;
}

// The time thread `tid` has spent runnable without a core, ns.
std::optional<std::uint64_t> run_queue_wait_ns(pid_t tid) {
    std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/schedstat");
    std::uint64_t on_cpu = 0, waited = 0;
    if (!(in >> on_cpu >> waited)) return std::nullopt;
    return waited;
}

// Whether a thread at the worker's nice value may leave SCHED_IDLE again,
// tried on a thread of its own, which ends right after.
bool may_leave_idle() {
    bool may = false;
    std::thread probe([&may] {
        const auto tid = static_cast<id_t>(::gettid());
        errno = 0;
        const int current = ::getpriority(PRIO_PROCESS, tid);
        if (errno == 0) (void)::setpriority(PRIO_PROCESS, tid, current + worker_nice_above_server);
        may = set_policy(0, SCHED_IDLE) && set_policy(0, SCHED_OTHER);
    });
    probe.join();
    return may;
}

}  // namespace

share_state next_share_state(share_state s, std::uint64_t waited_ns, std::uint64_t window_ns) {
    if (s.sharing) {
        if (--s.checks_left <= 0) s = share_state{};
        return s;
    }
    if (waited_ns * 2 > window_ns) return share_state{true, share_checks};
    return s;
}

struct worker_share::checks {
    explicit checks(boost::asio::any_io_executor io) : timer(io) {}
    boost::asio::steady_timer timer;
    pid_t tid = 0;
    share_state state;
    std::uint64_t last_waited = 0;
    std::chrono::steady_clock::time_point last_at;
    bool stopped = false;
};

worker_share::worker_share(boost::asio::any_io_executor io) : may_leave_idle_(may_leave_idle()), io_(std::move(io)) {
    if (!may_leave_idle_)
        std::fprintf(stderr, "backup: the worker keeps its share during backups (it may not leave SCHED_IDLE here)\n");
}

worker_share::~worker_share() { stop(); }

void worker_share::start() {
    const pid_t tid = worker_tid_.load();
    if (!may_leave_idle_ || tid == 0) return;
    stop();
    auto c = std::make_shared<checks>(io_);
    c->tid = tid;
    c->last_waited = run_queue_wait_ns(tid).value_or(0);
    c->last_at = std::chrono::steady_clock::now();
    if (!set_policy(tid, SCHED_IDLE)) return;
    checks_ = c;
    // Each check reads the worker's wait since the last and sets its
    // policy. The pending wait holds the checks weakly: stop() and the
    // destructor end them by dropping the one strong reference.
    struct tick {
        std::weak_ptr<checks> weak;
        void operator()(const boost::system::error_code& ec) const {
            const std::shared_ptr<checks> c = weak.lock();
            if (ec || !c || c->stopped) return;
            const auto now = std::chrono::steady_clock::now();
            const auto waited = run_queue_wait_ns(c->tid);
            if (!waited) return;  // the thread is gone
            const auto window = static_cast<std::uint64_t>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(now - c->last_at).count());
            const share_state next = next_share_state(c->state, *waited - c->last_waited, window);
            if (next.sharing != c->state.sharing) (void)set_policy(c->tid, next.sharing ? SCHED_OTHER : SCHED_IDLE);
            c->state = next;
            c->last_waited = *waited;
            c->last_at = now;
            c->timer.expires_after(check_every);
            c->timer.async_wait(*this);
        }
    };
    c->timer.expires_after(check_every);
    c->timer.async_wait(tick{c});
}

void worker_share::stop() {
    if (!checks_) return;
    checks_->stopped = true;
    checks_->timer.cancel();
    (void)set_policy(checks_->tid, SCHED_OTHER);
    checks_.reset();
}

}  // namespace obs::backup
