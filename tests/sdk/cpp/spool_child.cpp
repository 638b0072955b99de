// obs_sdk_spool_child: the agent process of the spool test. Logs N thought
// events ("0", "1", ...) of one run through a provider with a spool, prints
// "logged N" once the last log() has returned, and then waits to be killed
// (the test sends SIGKILL at once: whatever log() accepted must survive).
//   obs_sdk_spool_child SPOOL_DIR URL RUN_ID N [FLUSH_AT]
// With FLUSH_AT, events are sent only in batches of that many (no
// flush_interval), so the last N mod FLUSH_AT are surely still unsent when
// the kill comes, however fast the server is.
#include "observability/provider.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc != 5 && argc != 6) {
        std::fprintf(stderr, "usage: obs_sdk_spool_child SPOOL_DIR URL RUN_ID N [FLUSH_AT]\n");
        return 2;
    }
    observability::options o;
    o.spool_dir = argv[1];
    o.url = argv[2];
    o.report = [](std::string_view) {};
    if (argc == 6) {
        o.flush_at = static_cast<std::size_t>(std::atol(argv[5]));
        o.flush_interval = std::chrono::hours(1);
    }
    observability::provider p(o);
    observability::log_options where;
    where.run_id = argv[3];
    where.node = "child";
    const long n = std::atol(argv[4]);
    for (long i = 0; i < n; ++i) p.log("thought", {{"text", std::to_string(i)}}, where);
    std::printf("logged %ld\n", n);
    std::fflush(stdout);
    for (;;) ::pause();
}
