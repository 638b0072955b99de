// observability-server: parses the configuration, applies the migrations,
// starts the writer, the readers, the stream hub and the HTTP listener on one
// io_context, and shuts down cleanly on SIGINT/SIGTERM (stop accepting,
// finish in-flight requests, commit what is queued, checkpoint, exit 0).
// `observability-server restore ...` restores a backup instead.
#include "backup/backup_job.hpp"
#include "persistence/database_lock.hpp"
#include "persistence/event_writer.hpp"
#include "persistence/migrations.hpp"
#include "persistence/read_pool.hpp"
#include "server/app.hpp"
#include "server/artifacts/artifact_service.hpp"
#include "server/backup_plan.hpp"
#include "server/completion_inbox.hpp"
#include "server/config.hpp"
#include "server/http/listener.hpp"
#include "server/log.hpp"
#include "server/routes/retention_sweep.hpp"
#include "server/routes/table.hpp"
#include "server/startup.hpp"
#include "server/stream/stream_hub.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>

namespace asio = boost::asio;
using namespace obs;

namespace {

// Waits for in-flight requests to finish (at most `grace`), then stops the loop.
asio::awaitable<void> drain_then_stop(server::app& a, std::chrono::milliseconds grace) {
    auto deadline = std::chrono::steady_clock::now() + grace;
    asio::steady_timer tick(a.io());
    while (a.counters().open_connections > 0 && std::chrono::steady_clock::now() < deadline) {
        tick.expires_after(std::chrono::milliseconds(20));
        co_await tick.async_wait(asio::use_awaitable);
    }
    a.io().stop();
}

int serve(server::config cfg) {
    if (auto refusal = server::check_auth_policy(cfg)) {
        server::log_line("error", *refusal);
        return 2;
    }
    server::raise_descriptor_limit();
    std::filesystem::create_directories(server::effective_data_dir(cfg));
    // One server per database: a second one, or a restore, is refused while
    // this process holds the lock.
    auto locked = persistence::try_lock_database(cfg.db_path);
    if (!locked.lock) {
        server::log_line("error", "cannot start: " + locked.message, {{"db", cfg.db_path}});
        return 1;
    }

    int schema_version = 0;
    try {
        auto db = persistence::open_database(cfg.db_path, false, cfg.sync);
        schema_version = persistence::apply_migrations(db.get(), persistence::embedded_migrations()).schema_version;
    } catch (const persistence::migration_error& e) {
        server::log_line("error", "cannot start: migrations", {{"reason", e.what()}, {"db", cfg.db_path}});
        return 1;
    }
    server::sweep_crash_leftovers(cfg);

    persistence::writer_options wopts;
    wopts.db_path = cfg.db_path;
    wopts.sync = cfg.sync;
    wopts.max_queued_events = cfg.queue_events;
    persistence::event_writer writer(wopts);
    persistence::read_pool readers(cfg.db_path, cfg.reader_threads);

    asio::io_context io(1);
    server::stream_hub hub(io.get_executor(), writer.last_offset(), server::hub_options{cfg.stream_max_subscribers});
    // Committed events reach the hub on the io thread in offset order, and
    // before the requests that stored them are answered: the inbox runs its
    // completions in the order the one writer thread pushed them, once a group.
    auto inbox = std::make_shared<server::completion_inbox>(io.get_executor());
    server::artifact_service artifacts(io, server::effective_data_dir(cfg), cfg.max_artifact_bytes);
    backup::backup_runner backups(io.get_executor(), [&writer](bool busy) { writer.set_prompt_wakeups(busy); });
    server::recall_last_backup(cfg, backups.stats());

    const server::route_table routes = server::build_route_table(cfg);
    server::app a(io, cfg, server::app_parts{writer, readers, hub, artifacts, backups, inbox}, schema_version,
                  server::route_names(routes));
    writer.start({[inbox, &hub](persistence::committed_events events) {
                      inbox->push([&hub, events = std::move(events)] { hub.publish(events); });
                  },
                  [inbox] { inbox->flush(); }});
    server::http_listener listener(a, routes);
    // --backup-interval: null when off; stopped with the listener on SIGTERM.
    std::unique_ptr<backup::backup_schedule> schedule = server::start_backup_schedule(a);
    // --retention: null when off; stopped likewise.
    auto retention = server::retention_sweeper::start(a);

    // Installed before the "listening" line: whoever waits for that line may
    // send SIGTERM at once, and without a handler the signal's default action
    // would end the process without committing or checkpointing.
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int signal) {
        if (ec) return;
        server::log_line("info", "shutting down", {{"signal", signal}});
        listener.shutdown();
        hub.shutdown();
        if (schedule) schedule->stop();
        if (retention) retention->stop();
        asio::co_spawn(io, drain_then_stop(a, std::chrono::milliseconds(3000)), asio::detached);
    });
    server::log_startup(a, listener.port());
    asio::co_spawn(io, listener.run(), asio::detached);
    io.run();

    readers.stop();
    writer.stop();  // commits what is queued and truncates the WAL
    inbox->discard();  // completions for requests io.run() no longer serves
    artifacts.stop();
    server::log_line("info", "stopped", {{"last_offset", writer.last_offset()}});
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "restore") == 0) return server::run_restore_command(argc - 2, argv + 2);
    auto parsed = server::parse_config(argc - 1, argv + 1);
    if (!parsed.cfg) {
        std::fputs(parsed.message.c_str(), parsed.exit_code == 0 ? stdout : stderr);
        if (parsed.exit_code != 0) std::fputs("\n", stderr);
        return parsed.exit_code;
    }
    try {
        return serve(std::move(*parsed.cfg));
    } catch (const std::exception& e) {
        server::log_line("error", "cannot start", {{"reason", e.what()}});
        return 1;
    }
}
