// The stream benchmark's process sampling: see proc_stats.hpp. In
// /proc/PID/stat the command name (field 2) may hold spaces, so fields are
// counted from its closing parenthesis; utime and stime are fields 14 and 15.
// Threads that ended during the window drop out of the schedstat sum (the
// server's threads live as long as it does).
#include "tests/bench/proc_stats.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace obs::bench {

namespace {

double seconds_of(const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

double cpu_seconds(int who) {
    rusage usage{};
    if (getrusage(who, &usage) != 0) {
        return 0;
    }
    return seconds_of(usage.ru_utime) + seconds_of(usage.ru_stime);
}

}  // namespace

process_sample sample_process(int pid) {
    process_sample out;
    const std::string dir = "/proc/" + std::to_string(pid);
    std::ifstream stat(dir + "/stat");
    std::string line;
    if (!std::getline(stat, line)) {
        return out;
    }
    const auto close_paren = line.rfind(')');
    if (close_paren == std::string::npos) {
        return out;
    }
    std::istringstream fields(line.substr(close_paren + 2));  // starts at field 3 (state)
    std::string skip;
    for (int field = 3; field < 14; ++field) {
        fields >> skip;
    }
    unsigned long long utime = 0;
    unsigned long long stime = 0;
    if (!(fields >> utime >> stime)) {
        return out;
    }
    out.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
    std::ifstream status(dir + "/status");
    while (std::getline(status, line)) {
        std::istringstream words(line);
        std::string key;
        std::uint64_t kib = 0;
        words >> key >> kib;
        if (key == "VmRSS:") {
            out.rss_kib = kib;
        } else if (key == "VmHWM:") {
            out.hwm_kib = kib;
        }
    }
    std::error_code ec;
    std::filesystem::directory_iterator task(dir + "/task", ec);
    for (; !ec && task != std::filesystem::directory_iterator(); task.increment(ec)) {
        std::ifstream schedstat(task->path() / "schedstat");
        unsigned long long running_ns = 0;
        unsigned long long waiting_ns = 0;
        if (schedstat >> running_ns >> waiting_ns) {
            out.wait_seconds += static_cast<double>(waiting_ns) / 1e9;
        }
    }
    out.ok = true;
    return out;
}

double this_thread_cpu_seconds() { return cpu_seconds(RUSAGE_THREAD); }

double this_process_cpu_seconds() { return cpu_seconds(RUSAGE_SELF); }

}  // namespace obs::bench
