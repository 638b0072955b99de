// The process figures Prometheus' client libraries export under standard
// names (process_cpu_seconds_total, process_resident_memory_bytes,
// process_open_fds, process_start_time_seconds), read from Linux's /proc:
// /proc/self/stat (CPU ticks, start time in ticks since boot), /proc/stat
// (boot time), /proc/self/statm (resident pages) and /proc/self/fd (one
// entry per open descriptor). A few small reads and one directory listing:
// cheap enough for every scrape, on the io thread.
#pragma once

#include <optional>

namespace obs::server {

struct process_stats {
    double cpu_seconds = 0;         // user + system time
    double resident_bytes = 0;
    double open_fds = 0;            // the listing's own descriptor not counted
    double max_fds = 0;             // RLIMIT_NOFILE's soft limit (raised to the hard one at startup)
    double start_time_seconds = 0;  // Unix time the process started
};

// The figures now; nullopt when /proc cannot be read or parsed (not Linux,
// or /proc not mounted).
std::optional<process_stats> read_process_stats();

}  // namespace obs::server
