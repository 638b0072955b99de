// The reader pool (see read_pool.hpp): one read-only connection per thread,
// one bounded job queue shared by all of them. Connections are opened before
// any thread starts, so a constructor that throws leaves nothing running.
#include "persistence/read_pool.hpp"

#include "persistence/sqlite_handle.hpp"

#include <cassert>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace obs::persistence {

struct read_pool::impl {
    void run(sqlite3* db) {
        for (;;) {
            job j;
            {
                std::unique_lock lk(mu);
                cv.wait(lk, [this] { return !jobs.empty() || stopping; });
                if (jobs.empty()) return;  // stopping, and every queued job ran
                j = std::move(jobs.front());
                jobs.pop_front();
            }
            try {
                j(db);
            } catch (const std::exception& e) {
                std::fprintf(stderr, "read_pool: a job threw: %s\n", e.what());
            } catch (...) {
                std::fprintf(stderr, "read_pool: a job threw a non-standard exception\n");
            }
        }
    }

    std::size_t max_queued_jobs = 0;
    std::vector<db_ptr> connections;  // one per thread, indexed like threads
    std::vector<std::thread> threads;

    std::mutex mu;            // guards jobs and stopping
    std::condition_variable cv;  // a job arrived, or stopping
    std::deque<job> jobs;
    bool stopping = false;

    std::mutex lifecycle_mu;  // serializes stop()
    bool stopped = false;
};

read_pool::read_pool(const std::string& db_path, std::size_t threads, std::size_t max_queued_jobs)
    : impl_(std::make_unique<impl>()) {
    assert(threads > 0);
    impl_->max_queued_jobs = max_queued_jobs;
    impl_->connections.reserve(threads);
    for (std::size_t i = 0; i < threads; ++i) {
        impl_->connections.push_back(open_database(db_path, true));
    }
    impl_->threads.reserve(threads);
    try {
        for (std::size_t i = 0; i < threads; ++i) {
            sqlite3* db = impl_->connections[i].get();
            impl_->threads.emplace_back([this, db] { impl_->run(db); });
        }
    } catch (...) {
        stop();  // joins the threads already started before the error escapes
        throw;
    }
}

read_pool::~read_pool() { stop(); }

bool read_pool::post(job j) {
    {
        std::lock_guard lk(impl_->mu);
        if (impl_->stopping || impl_->jobs.size() >= impl_->max_queued_jobs) return false;
        impl_->jobs.push_back(std::move(j));
    }
    impl_->cv.notify_one();
    return true;
}

void read_pool::stop() {
    std::lock_guard life(impl_->lifecycle_mu);
    if (impl_->stopped) return;
    impl_->stopped = true;
    {
        std::lock_guard lk(impl_->mu);
        impl_->stopping = true;
    }
    impl_->cv.notify_all();
    for (std::thread& t : impl_->threads) t.join();
}

}  // namespace obs::persistence
