// The lock-holding child process (see flock_holder.hpp). The child only
// makes system calls between fork and _exit, so forking a test process that
// has other threads is safe.
#include "tests/support/flock_holder.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

namespace obs::test {

flock_holder::flock_holder(const std::string& path) {
    int ready[2];
    int release[2];
    if (::pipe(ready) != 0) throw std::runtime_error("pipe failed");
    if (::pipe(release) != 0) {
        ::close(ready[0]);
        ::close(ready[1]);
        throw std::runtime_error("pipe failed");
    }
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        ::close(ready[0]);
        ::close(release[1]);
        const int fd = ::open(path.c_str(), O_RDWR | O_CREAT, 0644);
        const char verdict = (fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) == 0) ? 'y' : 'n';
        if (::write(ready[1], &verdict, 1) != 1) ::_exit(3);
        char byte = 0;
        while (::read(release[0], &byte, 1) < 0 && errno == EINTR) {
        }
        ::_exit(0);
    }
    ::close(ready[1]);
    ::close(release[0]);
    release_fd_ = release[1];
    char verdict = 0;
    ssize_t got = 0;
    do {
        got = ::read(ready[0], &verdict, 1);
    } while (got < 0 && errno == EINTR);
    ::close(ready[0]);
    if (got != 1 || verdict != 'y') {
        reap();
        throw std::runtime_error("the child could not lock " + path);
    }
}

flock_holder::~flock_holder() { reap(); }

void flock_holder::kill() {
    if (pid_ > 0) ::kill(pid_, SIGKILL);
    reap();
}

void flock_holder::reap() {
    if (release_fd_ >= 0) {
        ::close(release_fd_);
        release_fd_ = -1;
    }
    if (pid_ > 0) {
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
    }
}

}  // namespace obs::test
