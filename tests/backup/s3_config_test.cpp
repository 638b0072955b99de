// Tests of backup/s3_config.cpp: configuration from the AWS variables
// (missing keys, endpoints and addressing, region and prefix defaults),
// object URLs, SigV4 percent-encoding, s3:// URLs, and that describe()
// never shows a secret.
#include "backup/s3_config.hpp"

#include <boost/test/unit_test.hpp>

#include <map>

using namespace obs::backup;

namespace {

env_lookup table(std::map<std::string, std::string> vars) {
    return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end() || it->second.empty()) return std::nullopt;
        return it->second;
    };
}

const std::map<std::string, std::string> complete{
    {"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"},
    {"AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"},
    {"OBS_S3_BUCKET", "backups"},
};

}  // namespace

BOOST_AUTO_TEST_SUITE(s3_config_suite)

BOOST_AUTO_TEST_CASE(missing_settings_give_nullopt_and_say_which) {
    struct case_t {
        std::string drop;
        std::string missing;
    };
    const case_t cases[] = {
        {"OBS_S3_BUCKET", "set OBS_S3_BUCKET"},
        {"AWS_ACCESS_KEY_ID", "set AWS_ACCESS_KEY_ID"},
        {"AWS_SECRET_ACCESS_KEY", "set AWS_SECRET_ACCESS_KEY"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("without " << c.drop) {
            auto vars = complete;
            vars[c.drop] = "";  // empty counts as unset
            BOOST_TEST(!s3_config_from(table(vars)).has_value());
            BOOST_TEST(s3_config_missing(table(vars)) == c.missing);
        }
    }
    BOOST_TEST(s3_config_missing(table({})) == "set OBS_S3_BUCKET, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY");
    BOOST_TEST(s3_config_missing(table(complete)).empty());
    // A restore takes its bucket from the URL.
    auto no_bucket = complete;
    no_bucket.erase("OBS_S3_BUCKET");
    BOOST_TEST(s3_config_from(table(no_bucket), false).has_value());
}

BOOST_AUTO_TEST_CASE(defaults_endpoints_and_urls) {
    struct case_t {
        std::map<std::string, std::string> extra;
        std::string region;
        std::string prefix;
        bool path_style;
        std::string url;  // of key "p/a b.tar.gz"
    };
    const case_t cases[] = {
        {{}, "us-east-1", "observability/backups/", false, "https://backups.s3.us-east-1.amazonaws.com/p/a%20b.tar.gz"},
        {{{"AWS_REGION", "eu-west-3"}, {"OBS_S3_PREFIX", "x/"}}, "eu-west-3", "x/", false,
         "https://backups.s3.eu-west-3.amazonaws.com/p/a%20b.tar.gz"},
        {{{"AWS_DEFAULT_REGION", "ap-south-1"}}, "ap-south-1", "observability/backups/", false,
         "https://backups.s3.ap-south-1.amazonaws.com/p/a%20b.tar.gz"},
        {{{"AWS_ENDPOINT_URL", "http://127.0.0.1:4568/"}}, "us-east-1", "observability/backups/", true,
         "http://127.0.0.1:4568/backups/p/a%20b.tar.gz"},
        // The S3-specific variable wins over the general one.
        {{{"AWS_ENDPOINT_URL", "http://general:1"}, {"AWS_ENDPOINT_URL_S3", "http://minio:9000"}}, "us-east-1",
         "observability/backups/", true, "http://minio:9000/backups/p/a%20b.tar.gz"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("url " << c.url) {
            auto vars = complete;
            vars.insert(c.extra.begin(), c.extra.end());
            const auto cfg = s3_config_from(table(vars));
            BOOST_REQUIRE(cfg.has_value());
            BOOST_TEST(cfg->region == c.region);
            BOOST_TEST(cfg->prefix == c.prefix);
            BOOST_TEST(cfg->path_style == c.path_style);
            BOOST_TEST(cfg->object_url("p/a b.tar.gz") == c.url);
            BOOST_TEST(cfg->location("p/k") == "s3://backups/p/k");
        }
    }
}

BOOST_AUTO_TEST_CASE(describe_never_shows_secrets) {
    auto vars = complete;
    vars["AWS_SESSION_TOKEN"] = "FQoGZXIvYXdzEXAMPLETOKEN";
    vars["AWS_ENDPOINT_URL_S3"] = "http://127.0.0.1:9000";
    const auto cfg = s3_config_from(table(vars));
    BOOST_REQUIRE(cfg.has_value());
    BOOST_TEST(cfg->session_token == "FQoGZXIvYXdzEXAMPLETOKEN");
    const std::string text = cfg->describe();
    BOOST_TEST(text.find("wJalrXUtnFEMI") == std::string::npos);
    BOOST_TEST(text.find("FQoGZXIvYXdz") == std::string::npos);
    BOOST_TEST(text.find("AKIDEXAMPLE") == std::string::npos);
    BOOST_TEST(text.find("bucket=backups") != std::string::npos);
    BOOST_TEST(text.find("session_token=yes") != std::string::npos);
    BOOST_TEST(text.find("addressing=path") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(uri_encoding_follows_sigv4) {
    struct case_t {
        std::string in;
        bool keep_slash;
        std::string out;
    };
    const case_t cases[] = {
        {"AZaz09-_.~", false, "AZaz09-_.~"},
        {"a/b", true, "a/b"},
        {"a/b", false, "a%2Fb"},
        {"a b+c=d&e", false, "a%20b%2Bc%3Dd%26e"},
        {"\xc3\xa9", true, "%C3%A9"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.in) { BOOST_TEST(uri_encode(c.in, c.keep_slash) == c.out); }
    }
}

BOOST_AUTO_TEST_CASE(s3_urls) {
    struct case_t {
        std::string url;
        bool ok;
        std::string bucket;
        std::string key;
    };
    const case_t cases[] = {
        {"s3://b/k", true, "b", "k"},
        {"s3://bucket/a/b/c.tar.gz", true, "bucket", "a/b/c.tar.gz"},
        {"s3://bucket/", false, "", ""},
        {"s3://bucket", false, "", ""},
        {"s3:///key", false, "", ""},
        {"/tmp/file.tar.gz", false, "", ""},
        {"http://b/k", false, "", ""},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.url) {
            const auto loc = parse_s3_url(c.url);
            BOOST_TEST(loc.has_value() == c.ok);
            if (loc) {
                BOOST_TEST(loc->bucket == c.bucket);
                BOOST_TEST(loc->key == c.key);
            }
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
