// Reading the process figures from /proc; see process_stats.hpp.
#include "server/process_stats.hpp"

#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

namespace obs::server {
namespace {

std::optional<std::string> read_file(const char* path) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// The Unix time the machine booted (`btime` of /proc/stat).
std::optional<long long> boot_time() {
    std::ifstream in("/proc/stat");
    std::string key;
    long long value = 0;
    while (in >> key) {
        if (key == "btime" && in >> value) return value;
        in.ignore(1 << 20, '\n');
    }
    return std::nullopt;
}

struct stat_fields {
    double utime_ticks = 0;
    double stime_ticks = 0;
    double start_ticks = 0;
};

// /proc/self/stat: "pid (comm) state ppid ...". comm may hold spaces and
// parentheses, so the fields are counted after its last ')': field 3 (state)
// is the first there, utime and stime are fields 14 and 15, starttime 22.
std::optional<stat_fields> read_stat() {
    const auto text = read_file("/proc/self/stat");
    if (!text) return std::nullopt;
    const auto close = text->rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream in(text->substr(close + 1));
    std::string field;
    stat_fields f;
    for (int number = 3; number <= 22 && in >> field; ++number) {
        double* into = number == 14 ? &f.utime_ticks : number == 15 ? &f.stime_ticks
                                                     : number == 22 ? &f.start_ticks : nullptr;
        if (into == nullptr) continue;
        std::istringstream digits(field);
        if (!(digits >> *into)) return std::nullopt;
        if (number == 22) return f;
    }
    return std::nullopt;
}

std::optional<double> resident_pages() {
    std::ifstream in("/proc/self/statm");
    double size = 0;
    double resident = 0;
    if (!(in >> size >> resident)) return std::nullopt;
    return resident;
}

std::optional<double> count_open_fds() {
    const std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir("/proc/self/fd"), &::closedir);
    if (!dir) return std::nullopt;
    double entries = 0;
    while (const dirent* e = ::readdir(dir.get())) {
        if (e->d_name[0] != '.') ++entries;
    }
    return entries - 1;  // the descriptor opendir itself holds
}

}  // namespace

std::optional<process_stats> read_process_stats() {
    const long ticks = ::sysconf(_SC_CLK_TCK);
    const long page = ::sysconf(_SC_PAGESIZE);
    const auto stat = read_stat();
    const auto boot = boot_time();
    const auto pages = resident_pages();
    const auto fds = count_open_fds();
    rlimit files{};
    if (ticks <= 0 || page <= 0 || !stat || !boot || !pages || !fds || ::getrlimit(RLIMIT_NOFILE, &files) != 0)
        return std::nullopt;
    process_stats s;
    s.cpu_seconds = (stat->utime_ticks + stat->stime_ticks) / static_cast<double>(ticks);
    s.resident_bytes = *pages * static_cast<double>(page);
    s.open_fds = *fds;
    s.max_fds = files.rlim_cur == RLIM_INFINITY ? 0 : static_cast<double>(files.rlim_cur);
    s.start_time_seconds = static_cast<double>(*boot) + stat->start_ticks / static_cast<double>(ticks);
    return s;
}

}  // namespace obs::server
