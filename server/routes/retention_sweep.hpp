// Retention (--retention): every --retention-sweep, the io thread asks a
// reader for runs whose last event was received longer ago than the
// retention, and deletes each through the writer's job queue in steps of a
// hundred events, one step between two write groups and a rest after each,
// so ingestion keeps its latency while millions of old events go. After each step the content
// files no artifact row refers to any more are removed, and a few dozen
// free pages are given back to the file system (new databases use
// auto_vacuum=INCREMENTAL; older ones reuse their free pages for new rows).
//
// Beside the routes because, like DELETE of a run, it deletes through the
// app and removes content through the artifact service.
//
// Lives on the io thread; stop() ends the sweep loop after the step in flight.
#pragma once

#include <boost/asio/steady_timer.hpp>

#include <memory>

namespace obs::server {

class app;

class retention_sweeper {
public:
    // Starts the loop when the app's config has retention_ms > 0; null otherwise.
    static std::shared_ptr<retention_sweeper> start(app& a);
    explicit retention_sweeper(app& a);
    void stop();

private:
    app& app_;
    boost::asio::steady_timer timer_;
    bool stopping_ = false;
};

}  // namespace obs::server
