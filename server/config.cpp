// Flag and environment parsing, driven by one table of options.
#include "server/config.hpp"

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string_view>

namespace obs::server {
namespace {

// One option: its flag, its variable, its default as shown by --help, what
// it means, whether it takes a value, and how it is applied (returns an
// error message, or "" when the value was accepted).
struct option_spec {
    const char* flag;
    const char* env;
    const char* shown_default;
    const char* help;
    bool takes_value;
    std::function<std::string(config&, std::string_view)> apply;
};

template <class T>
std::string parse_number(std::string_view text, T& out, T min, T max) {
    T value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) return "is not a number";
    if (value < min || value > max) return "is out of range";
    out = value;
    return "";
}

template <class T>
auto number_setter(T config::*field, T min, T max) {
    return [=](config& c, std::string_view v) { return parse_number<T>(v, c.*field, min, max); };
}

std::string parse_scope(std::string_view text, scope& out) {
    if (text == "ingest") out = scope::ingest;
    else if (text == "read") out = scope::read;
    else if (text == "admin") out = scope::admin;
    else return "scope must be ingest, read or admin";
    return "";
}

// "scope:key"; the key is at least 16 characters so a typo is not a key.
std::string add_key(config& c, std::string_view text) {
    auto colon = text.find(':');
    if (colon == std::string_view::npos) return "must be scope:key";
    api_key key;
    if (auto err = parse_scope(text.substr(0, colon), key.granted); !err.empty()) return err;
    key.secret = std::string(text.substr(colon + 1));
    if (key.secret.size() < 16) return "key must be at least 16 characters";
    c.keys.push_back(std::move(key));
    return "";
}

std::string add_keys_file(config& c, std::string_view path) {
    std::ifstream in{std::string(path)};
    if (!in) return "cannot be read";
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || line[0] == '#') continue;
        if (auto err = add_key(c, line); !err.empty()) return "has a bad line: " + err;
    }
    return "";
}

// "*" or an origin as browsers send it: scheme "://" host [":" port], no path.
std::string add_cors_origin(config& c, std::string_view text) {
    if (text != "*") {
        const auto scheme_end = text.find("://");
        if (scheme_end == std::string_view::npos || scheme_end == 0 || scheme_end + 3 >= text.size() ||
            text.find('/', scheme_end + 3) != std::string_view::npos)
            return "must be * or scheme://host[:port] (no path), e.g. http://localhost:5173";
    }
    c.cors_origins.emplace_back(text);
    return "";
}

std::string parse_listen(config& c, std::string_view text) {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return "must be host:port";
    std::string host(text.substr(0, colon));
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty()) return "must be host:port";
    unsigned port = 0;
    if (auto err = parse_number<unsigned>(text.substr(colon + 1), port, 0, 65535); !err.empty()) return "port " + err;
    c.listen_host = host;
    c.listen_port = static_cast<unsigned short>(port);
    return "";
}

auto duration_setter(std::uint64_t config::*field, std::uint64_t min_ms) {
    return [=](config& c, std::string_view v) {
        std::string error;
        auto ms = parse_duration_ms(v, &error);
        if (!ms) return error;
        if (*ms != 0 && *ms < min_ms) return "must be 0 (off) or at least " + std::to_string(min_ms) + " ms";
        c.*field = *ms;
        return std::string();
    };
}

const std::vector<option_spec>& options() {
    static const std::vector<option_spec> table{
        {"--listen", "OBS_LISTEN", "127.0.0.1:8000", "address and port to listen on (port 0: any free port)", true,
         parse_listen},
        {"--db", "OBS_DB", "observability.db", "SQLite database file", true,
         [](config& c, std::string_view v) { c.db_path = v; return std::string(v.empty() ? "must not be empty" : ""); }},
        {"--data-dir", "OBS_DATA_DIR", "<db folder>/observability-data", "artifacts and local backups", true,
         [](config& c, std::string_view v) { c.data_dir = v; return std::string(); }},
        {"--api-key", "OBS_API_KEY", "(none)", "scope:key, scope ingest|read|admin; repeatable (env: comma-separated)",
         true, add_key},
        {"--keys-file", "OBS_KEYS_FILE", "(none)", "file of scope:key lines", true, add_keys_file},
        {"--insecure-no-auth", "OBS_INSECURE_NO_AUTH", "off", "allow a non-loopback listen address without keys", false,
         [](config& c, std::string_view) { c.insecure_no_auth = true; return std::string(); }},
        {"--durability", "OBS_DURABILITY", "normal", "normal (survives a crash) or full (also a power cut)", true,
         [](config& c, std::string_view v) {
             if (v == "normal") c.sync = persistence::durability::normal;
             else if (v == "full") c.sync = persistence::durability::full;
             else return std::string("must be normal or full");
             return std::string();
         }},
        {"--max-body-bytes", "OBS_MAX_BODY_BYTES", "4194304", "largest request body (except artifacts)", true,
         number_setter<std::size_t>(&config::max_body_bytes, 1024, 1ull << 30)},
        {"--max-artifact-bytes", "OBS_MAX_ARTIFACT_BYTES", "268435456", "largest artifact", true,
         number_setter<std::uint64_t>(&config::max_artifact_bytes, 1, 1ull << 40)},
        {"--max-connections", "OBS_MAX_CONNECTIONS", "12000", "open connections at most (streams included)", true,
         number_setter<std::size_t>(&config::max_connections, 1, 1000000)},
        {"--header-timeout-ms", "OBS_HEADER_TIMEOUT_MS", "10000", "time to receive a request's headers", true,
         number_setter<unsigned>(&config::header_timeout_ms, 10, 3600000)},
        {"--body-timeout-ms", "OBS_BODY_TIMEOUT_MS", "30000", "time to receive a request's body", true,
         number_setter<unsigned>(&config::body_timeout_ms, 10, 3600000)},
        {"--idle-timeout-ms", "OBS_IDLE_TIMEOUT_MS", "60000", "keep-alive connection idle time", true,
         number_setter<unsigned>(&config::idle_timeout_ms, 10, 3600000)},
        {"--queue-events", "OBS_QUEUE_EVENTS", "50000", "events waiting for the writer at most (then 503)", true,
         number_setter<std::size_t>(&config::queue_events, 1000, 10000000)},
        {"--reader-threads", "OBS_READER_THREADS", "2", "read-only SQLite connections for read routes", true,
         number_setter<std::size_t>(&config::reader_threads, 1, 64)},
        {"--stream-max-subscribers", "OBS_STREAM_MAX_SUBSCRIBERS", "10000", "concurrent stream listeners at most",
         true, number_setter<std::size_t>(&config::stream_max_subscribers, 1, 1000000)},
        {"--stream-queue-frames", "OBS_STREAM_QUEUE_FRAMES", "4096", "frames queued per listener before overflow",
         true, number_setter<std::size_t>(&config::stream_queue_frames, 1, 10000000)},
        {"--stream-queue-bytes", "OBS_STREAM_QUEUE_BYTES", "16777216", "bytes queued per listener before overflow",
         true, number_setter<std::size_t>(&config::stream_queue_bytes, 1024, 1ull << 32)},
        {"--stream-ping-ms", "OBS_STREAM_PING_MS", "15000", "interval of the stream's ': ping' comment", true,
         number_setter<unsigned>(&config::stream_ping_ms, 10, 3600000)},
        {"--backup-gzip-level", "OBS_BACKUP_GZIP_LEVEL", "1", "gzip level of backups (1-9)", true,
         number_setter<int>(&config::backup_gzip_level, 1, 9)},
        {"--backup-part-bytes", "OBS_BACKUP_PART_BYTES", "5242880", "S3 multipart part size (at least 5 MiB)", true,
         number_setter<std::size_t>(&config::backup_part_bytes, 5 * 1024 * 1024, 1ull << 32)},
        {"--backup-interval", "OBS_BACKUP_INTERVAL", "0 (off)", "start a backup this often, e.g. 6h (units ms, s, m, h, d)",
         true, duration_setter(&config::backup_interval_ms, 1000)},
        {"--backup-keep", "OBS_BACKUP_KEEP", "0 (all)",
         "keep the newest N successful backups, delete older ones after a new one succeeds", true,
         number_setter<unsigned>(&config::backup_keep, 0, 100000)},
        {"--retention", "OBS_RETENTION", "0 (off)",
         "delete runs whose last event is older than this, e.g. 30d (units ms, s, m, h, d)", true,
         duration_setter(&config::retention_ms, 1000)},
        {"--retention-sweep", "OBS_RETENTION_SWEEP", "1m", "how often retention looks for expired runs", true,
         [](config& c, std::string_view v) {
             std::string error;
             auto ms = parse_duration_ms(v, &error);
             if (!ms) return error;
             if (*ms < 100) return std::string("must be at least 100ms");
             c.retention_sweep_ms = *ms;
             return std::string();
         }},
        {"--cors-origin", "OBS_CORS_ORIGINS", "(none)",
         "an origin whose pages may call the API (scheme://host[:port], or *); repeatable (env: comma-separated)",
         true, add_cors_origin},
        {"--no-request-log", "OBS_NO_REQUEST_LOG", "off", "do not log one line per request", false,
         [](config& c, std::string_view) { c.log_requests = false; return std::string(); }},
    };
    return table;
}

std::string help_text() {
    std::ostringstream out;
    out << "usage: observability-server [options]\n"
           "       observability-server restore (s3://bucket/key | FILE.tar.gz) --db PATH [--data-dir DIR] [--force]\n"
           "         (--data-dir defaults to <db folder>/observability-data, as the server's)\n\n"
           "Options (each also read from its environment variable; the flag wins):\n";
    for (const auto& o : options()) {
        std::string left = std::string("  ") + o.flag + (o.takes_value ? " VALUE" : "");
        out << left << std::string(left.size() < 30 ? 30 - left.size() : 1, ' ') << o.help << "\n"
            << std::string(30, ' ') << "default: " << o.shown_default << "; env: " << o.env << "\n";
    }
    out << "  --help                      this text\n  --version                   the version\n\n"
           "S3 backups use AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION,\n"
           "AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL), OBS_S3_BUCKET and OBS_S3_PREFIX.\n";
    return out.str();
}

std::string apply_env(config& c) {
    for (const auto& o : options()) {
        const char* value = std::getenv(o.env);
        if (value == nullptr || *value == '\0') continue;
        if (!o.takes_value) {
            std::string_view v(value);
            if (v == "1" || v == "true" || v == "yes") o.apply(c, v);
            continue;
        }
        // A list of keys in one variable is comma-separated.
        std::string_view rest(value);
        bool is_list = std::string_view(o.env) == "OBS_API_KEY" || std::string_view(o.env) == "OBS_CORS_ORIGINS";
        while (true) {
            auto comma = is_list ? rest.find(',') : std::string_view::npos;
            auto item = rest.substr(0, comma);
            if (auto err = o.apply(c, item); !err.empty()) return std::string(o.env) + " " + err;
            if (comma == std::string_view::npos) break;
            rest.remove_prefix(comma + 1);
        }
    }
    return "";
}

}  // namespace

config_result parse_config(int argc, const char* const* argv) {
    config c;
    if (auto err = apply_env(c); !err.empty()) return {std::nullopt, 2, err};
    // Flags win over variables: keys given by flag replace those of the environment.
    bool keys_from_flags = false;
    bool origins_from_flags = false;
    for (int i = 0; i < argc; ++i) {
        std::string_view arg(argv[i]);
        if (arg == "--help" || arg == "-h") return {std::nullopt, 0, help_text()};
        if (arg == "--version") return {std::nullopt, 0, std::string("observability-server ") + OBS_VERSION + "\n"};
        std::string_view value;
        bool has_inline = false;
        if (auto eq = arg.find('='); eq != std::string_view::npos && arg.starts_with("--")) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
            has_inline = true;
        }
        const option_spec* spec = nullptr;
        for (const auto& o : options())
            if (arg == o.flag) spec = &o;
        if (spec == nullptr) return {std::nullopt, 2, "unknown option " + std::string(arg) + " (see --help)"};
        if (spec->takes_value && !has_inline) {
            if (i + 1 >= argc) return {std::nullopt, 2, std::string(arg) + " needs a value"};
            value = argv[++i];
        }
        if ((arg == "--api-key" || arg == "--keys-file") && !keys_from_flags) {
            c.keys.clear();
            keys_from_flags = true;
        }
        if (arg == "--cors-origin" && !origins_from_flags) {
            c.cors_origins.clear();
            origins_from_flags = true;
        }
        if (auto err = spec->apply(c, value); !err.empty()) return {std::nullopt, 2, std::string(arg) + " " + err};
    }
    return {std::move(c), 0, ""};
}

std::optional<std::uint64_t> parse_duration_ms(std::string_view text, std::string* error) {
    auto fail = [&] {
        if (error) *error = "must be a whole number and a unit (ms, s, m, h, d), e.g. 30d or 90s";
        return std::nullopt;
    };
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc{} || end == text.data()) return fail();
    const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
    std::uint64_t scale = 0;
    if (unit == "ms") scale = 1;
    else if (unit == "s") scale = 1000;
    else if (unit == "m") scale = 60'000;
    else if (unit == "h") scale = 3'600'000;
    else if (unit == "d") scale = 86'400'000;
    else if (unit.empty() && n == 0) scale = 1;  // a bare 0 is "off" in any unit
    else return fail();
    // Ten years at most: a larger figure is a typo, and it keeps the product in range.
    if (n > 3650ull * 86'400'000 / scale) {
        if (error) *error = "is more than ten years";
        return std::nullopt;
    }
    return n * scale;
}

std::string effective_data_dir(const config& cfg) {
    if (!cfg.data_dir.empty()) return cfg.data_dir;
    auto parent = std::filesystem::path(cfg.db_path).parent_path();
    return (parent / "observability-data").string();
}

bool is_loopback_host(const std::string& host) {
    return host == "localhost" || host == "::1" || host.starts_with("127.");
}

}  // namespace obs::server
