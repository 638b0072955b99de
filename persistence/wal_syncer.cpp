// The background WAL flush; see wal_syncer.hpp. The file is opened for each
// sync rather than kept open, so a WAL that SQLite truncated or re-created
// is always the one synced.
#include "persistence/wal_syncer.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

namespace obs::persistence {

wal_syncer::wal_syncer(std::string wal_path) : wal_path_(std::move(wal_path)), thread_([this] { run(); }) {}

wal_syncer::~wal_syncer() {
    {
        std::lock_guard lk(mu_);
        stopping_ = true;
    }
    cv_.notify_one();
    thread_.join();
}

void wal_syncer::request() {
    {
        std::lock_guard lk(mu_);
        if (wanted_) return;
        wanted_ = true;
    }
    cv_.notify_one();
}

unsigned long wal_syncer::syncs() const {
    std::lock_guard lk(mu_);
    return syncs_;
}

void wal_syncer::run() {
    for (;;) {
        {
            std::unique_lock lk(mu_);
            cv_.wait(lk, [this] { return wanted_ || stopping_; });
            if (!wanted_) return;
            wanted_ = false;
        }
        // O_RDONLY is enough for fdatasync on Linux; the writer owns writes.
        const int fd = ::open(wal_path_.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            if (errno != ENOENT) std::fprintf(stderr, "wal_syncer: open failed: %s\n", std::strerror(errno));
            continue;
        }
        if (::fdatasync(fd) != 0) std::fprintf(stderr, "wal_syncer: fdatasync failed: %s\n", std::strerror(errno));
        ::close(fd);
        std::lock_guard lk(mu_);
        ++syncs_;
    }
}

}  // namespace obs::persistence
