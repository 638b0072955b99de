// The short-slice hint; see short_slices.hpp. glibc 2.36 has no wrapper for
// sched_getattr/sched_setattr, so the system calls are made directly, with
// the kernel's struct sched_attr (its layout is ABI; <linux/sched/types.h>
// cannot be included beside glibc's <sched.h>).
#include "short_slices.hpp"

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace observability::detail {
namespace {

struct sched_attr {
    std::uint32_t size;
    std::uint32_t sched_policy;
    std::uint64_t sched_flags;
    std::int32_t sched_nice;
    std::uint32_t sched_priority;
    std::uint64_t sched_runtime;  // for SCHED_OTHER under EEVDF: the requested slice, ns
    std::uint64_t sched_deadline;
    std::uint64_t sched_period;
    std::uint32_t sched_util_min;
    std::uint32_t sched_util_max;
};

}  // namespace

void ask_for_short_slices() {
    sched_attr attr{};
    if (::syscall(SYS_sched_getattr, 0, &attr, static_cast<unsigned>(sizeof attr), 0u) != 0) return;
    if (attr.sched_policy != SCHED_OTHER) return;  // the application chose another policy: keep it
    constexpr std::uint64_t shortest_slice_ns = 100'000;  // the kernel's lower bound
    attr.size = sizeof attr;
    attr.sched_flags = 0;
    attr.sched_runtime = shortest_slice_ns;
    (void)::syscall(SYS_sched_setattr, 0, &attr, 0u);
}

}  // namespace observability::detail
