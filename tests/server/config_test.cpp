// Unit tests of server/config.cpp: defaults, flags, environment variables,
// precedence, and refusals.
#include "server/config.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdlib>

using namespace obs::server;

namespace {

config_result parse(std::vector<std::string> args) {
    std::vector<const char*> argv;
    for (auto& a : args) argv.push_back(a.c_str());
    return parse_config(static_cast<int>(argv.size()), argv.data());
}

// Sets an environment variable for the scope of the guard.
struct env_guard {
    std::string name;
    env_guard(std::string n, const std::string& value) : name(std::move(n)) { ::setenv(name.c_str(), value.c_str(), 1); }
    ~env_guard() { ::unsetenv(name.c_str()); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(config_parsing)

BOOST_AUTO_TEST_CASE(defaults) {
    auto r = parse({});
    BOOST_TEST_REQUIRE(r.cfg.has_value());
    BOOST_TEST(r.cfg->listen_host == "127.0.0.1");
    BOOST_TEST(r.cfg->listen_port == 8000);
    BOOST_TEST(r.cfg->db_path == "observability.db");
    BOOST_TEST(r.cfg->max_body_bytes == 4u * 1024 * 1024);
    BOOST_TEST(r.cfg->keys.empty());
    BOOST_TEST(effective_data_dir(*r.cfg) == "observability-data");
}

BOOST_AUTO_TEST_CASE(flags_and_inline_values) {
    auto r = parse({"--listen", "0.0.0.0:9000", "--db=/tmp/x.db", "--api-key", "read:0123456789abcdef",
                    "--durability", "full", "--max-body-bytes", "2048", "--insecure-no-auth"});
    BOOST_TEST_REQUIRE(r.cfg.has_value(), r.message);
    BOOST_TEST(r.cfg->listen_host == "0.0.0.0");
    BOOST_TEST(r.cfg->listen_port == 9000);
    BOOST_TEST(r.cfg->db_path == "/tmp/x.db");
    BOOST_TEST(r.cfg->keys.size() == 1u);
    BOOST_TEST((r.cfg->sync == obs::persistence::durability::full));
    BOOST_TEST(r.cfg->max_body_bytes == 2048u);
    BOOST_TEST(r.cfg->insecure_no_auth);
    BOOST_TEST(effective_data_dir(*r.cfg) == "/tmp/observability-data");
}

BOOST_AUTO_TEST_CASE(environment_and_precedence) {
    env_guard port("OBS_LISTEN", "127.0.0.1:7000");
    env_guard keys("OBS_API_KEY", "read:0123456789abcdef,ingest:abcdef0123456789");
    auto from_env = parse({});
    BOOST_TEST_REQUIRE(from_env.cfg.has_value(), from_env.message);
    BOOST_TEST(from_env.cfg->listen_port == 7000);
    BOOST_TEST(from_env.cfg->keys.size() == 2u);
    auto flag_wins = parse({"--listen", "127.0.0.1:7001", "--api-key", "admin:0123456789abcdef"});
    BOOST_TEST_REQUIRE(flag_wins.cfg.has_value());
    BOOST_TEST(flag_wins.cfg->listen_port == 7001);
    BOOST_TEST(flag_wins.cfg->keys.size() == 1u);
}

BOOST_AUTO_TEST_CASE(refusals) {
    const std::vector<std::vector<std::string>> bad{
        {"--listen", "nohost"},       {"--listen", "1.2.3.4:99999"}, {"--listen", ":80"},
        {"--api-key", "read"},        {"--api-key", "read:short"},   {"--api-key", "god:0123456789abcdef"},
        {"--durability", "maybe"},    {"--max-body-bytes", "12x"},   {"--max-body-bytes", "1"},
        {"--backup-gzip-level", "0"}, {"--what"},                    {"--db"},
        {"--keys-file", "/nonexistent/keys"},
        {"--retention", "30"},        {"--retention", "d"},          {"--retention", "3w"},
        {"--retention", "-1d"},       {"--retention", "500ms"},      {"--retention", "99999999d"},
        {"--backup-interval", "1h30m"}, {"--backup-keep", "-2"},     {"--retention-sweep", "10ms"},
    };
    for (const auto& args : bad) {
        BOOST_TEST_CONTEXT(args[0] << (args.size() > 1 ? " " + args[1] : "")) {
            auto r = parse(args);
            BOOST_TEST(!r.cfg.has_value());
            BOOST_TEST(r.exit_code == 2);
            BOOST_TEST(!r.message.empty());
        }
    }
}

BOOST_AUTO_TEST_CASE(help_lists_every_flag_with_default_and_env) {
    auto r = parse({"--help"});
    BOOST_TEST(!r.cfg.has_value());
    BOOST_TEST(r.exit_code == 0);
    for (const char* s : {"--listen", "OBS_LISTEN", "127.0.0.1:8000", "--db", "OBS_DB", "--api-key", "OBS_API_KEY",
                          "--durability", "OBS_DURABILITY", "--data-dir", "OBS_DATA_DIR", "restore"})
        BOOST_TEST(r.message.find(s) != std::string::npos, "help lacks " << s);
}

BOOST_AUTO_TEST_CASE(durations) {
    const std::vector<std::pair<std::string, std::uint64_t>> good{
        {"0", 0},          {"0s", 0},         {"1500ms", 1500},       {"3s", 3000},
        {"5m", 300'000},   {"12h", 43'200'000}, {"30d", 2'592'000'000}, {"3650d", 315'360'000'000},
    };
    for (const auto& [text, ms] : good) {
        BOOST_TEST_CONTEXT(text) {
            auto got = parse_duration_ms(text);
            BOOST_TEST_REQUIRE(got.has_value());
            BOOST_TEST(*got == ms);
        }
    }
    auto r = parse({"--retention", "3s", "--retention-sweep", "200ms", "--backup-interval", "2h", "--backup-keep", "3"});
    BOOST_TEST_REQUIRE(r.cfg.has_value());
    BOOST_TEST(r.cfg->retention_ms == 3000u);
    BOOST_TEST(r.cfg->retention_sweep_ms == 200u);
    BOOST_TEST(r.cfg->backup_interval_ms == 7'200'000u);
    BOOST_TEST(r.cfg->backup_keep == 3u);
}

BOOST_AUTO_TEST_CASE(loopback_hosts) {
    BOOST_TEST(is_loopback_host("127.0.0.1"));
    BOOST_TEST(is_loopback_host("127.1.2.3"));
    BOOST_TEST(is_loopback_host("::1"));
    BOOST_TEST(is_loopback_host("localhost"));
    BOOST_TEST(!is_loopback_host("0.0.0.0"));
    BOOST_TEST(!is_loopback_host("::"));
    BOOST_TEST(!is_loopback_host("10.0.0.1"));
}

BOOST_AUTO_TEST_SUITE_END()
