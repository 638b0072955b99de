// A child process that holds an exclusive flock(2) on a file, as a running
// server holds its database's lock: for the tests of the lock itself and of
// what must refuse while it is held (restore). The child locks with plain
// system calls, not through the code under test.
#pragma once

#include <sys/types.h>

#include <string>

namespace obs::test {

class flock_holder {
public:
    // Forks a child that opens (creating) `path` and takes LOCK_EX|LOCK_NB on
    // it. Throws std::runtime_error when the child could not take it.
    explicit flock_holder(const std::string& path);
    // Lets the child exit (releasing the lock) and reaps it.
    ~flock_holder();
    flock_holder(const flock_holder&) = delete;
    flock_holder& operator=(const flock_holder&) = delete;

    // Ends the child with SIGKILL, as a crash would, and reaps it.
    void kill();
    pid_t pid() const { return pid_; }

private:
    void reap();
    pid_t pid_ = -1;
    int release_fd_ = -1;  // the child exits when this closes
};

}  // namespace obs::test
