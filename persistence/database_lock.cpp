// The database lock (see database_lock.hpp).
#include "persistence/database_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace obs::persistence {

database_lock& database_lock::operator=(database_lock&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = other.fd_;
        other.fd_ = -1;
    }
    return *this;
}

database_lock::~database_lock() {
    if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

lock_attempt try_lock_database(const std::string& db_path) {
    const std::string path = database_lock::path_for(db_path);
    lock_attempt out;
    int fd = -1;
    do {
        fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        out.message = "cannot open the lock file " + path + ": " + std::strerror(errno);
        return out;
    }
    int rc = 0;
    do {
        rc = ::flock(fd, LOCK_EX | LOCK_NB);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        const int error = errno;
        ::close(fd);
        out.busy = error == EWOULDBLOCK;
        out.message = out.busy ? "the database " + db_path + " is in use by another process (it holds " + path + ")"
                               : "cannot lock " + path + ": " + std::strerror(error);
        return out;
    }
    out.lock.emplace(database_lock(fd));
    return out;
}

}  // namespace obs::persistence
