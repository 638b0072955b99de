// What the stream benchmark reads about processes from Linux's /proc and
// getrusage: a server's CPU time and memory (sampled around the posting
// window, so CPU % is the server's share of one core while it fans out), and
// the benchmark's own CPU time (to tell whether the client was the limit).
#pragma once

#include <cstdint>

namespace obs::bench {

struct process_sample {
    bool ok = false;             // false when /proc/PID could not be read (the process is gone)
    double cpu_seconds = 0;      // utime + stime of every thread, so far
    std::uint64_t rss_kib = 0;   // VmRSS now
    std::uint64_t hwm_kib = 0;   // VmHWM: the peak RSS so far
    double wait_seconds = 0;     // time its threads were runnable but not running (schedstat),
                                 // so far: shows when other load takes the pinned core
};

// Reads /proc/PID/stat, /proc/PID/status and /proc/PID/task/*/schedstat.
// Never throws.
process_sample sample_process(int pid);

// CPU seconds (user + system) used so far by the calling thread, and by the
// whole calling process.
double this_thread_cpu_seconds();
double this_process_cpu_seconds();

}  // namespace obs::bench
