// A helper thread that flushes the WAL file to disk ahead of the writer's
// checkpoints. With synchronous=NORMAL nothing syncs the WAL until a
// checkpoint, whose first step is an fdatasync of every frame appended since
// the last one: measured here, 16 MiB of WAL took 33-37 ms of the writer's
// 35 ms checkpoint pause. Syncing the WAL in the background every few MiB
// leaves the checkpoint only the tail to flush. Appending to a file while
// another thread syncs it does not block here (the disk does not need
// stable pages), and an extra fdatasync only adds durability. Internal to
// persistence/.
//
// Thread-safety: request() may be called from any thread; the constructor
// and destructor from the owner.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace obs::persistence {

class wal_syncer {
public:
    // Starts the thread; `wal_path` is the database path plus "-wal".
    explicit wal_syncer(std::string wal_path);
    ~wal_syncer();  // finishes a pending sync, then joins
    wal_syncer(const wal_syncer&) = delete;
    wal_syncer& operator=(const wal_syncer&) = delete;

    // Asks for one fdatasync of the WAL soon; never blocks. Requests made
    // while one is pending or running fold into the next one.
    void request();

    // Syncs completed so far; for tests.
    unsigned long syncs() const;

private:
    void run();

    std::string wal_path_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    bool wanted_ = false;
    bool stopping_ = false;
    unsigned long syncs_ = 0;
    std::thread thread_;  // last: started once every member above exists
};

}  // namespace obs::persistence
