// Where backups go: the S3 settings read from the standard AWS environment
// variables plus OBS_S3_BUCKET / OBS_S3_PREFIX, and the URL of an object
// under them (path-style for custom endpoints such as s3rver or MinIO,
// virtual-hosted for AWS). Secrets live only here and in the curl handles
// that sign with them: describe() is the only text of a config that may be
// logged.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace obs::backup {

struct s3_config {
    std::string access_key_id;      // AWS_ACCESS_KEY_ID (not secret, but not logged either)
    std::string secret_access_key;  // AWS_SECRET_ACCESS_KEY: never logged
    std::string session_token;      // AWS_SESSION_TOKEN, may be empty: never logged
    std::string region = "us-east-1";            // AWS_REGION, else AWS_DEFAULT_REGION
    std::string endpoint;           // "scheme://host[:port]" without a trailing '/'; empty: AWS
    std::string bucket;             // OBS_S3_BUCKET
    std::string prefix = "observability/backups/";  // OBS_S3_PREFIX, prepended to keys
    bool path_style = false;        // endpoint/bucket/key rather than bucket.endpoint/key

    // The https/http URL of `key` in `bucket`, the key percent-encoded by the
    // SigV4 rules ('/' kept), so that the path curl signs is the canonical one.
    std::string object_url(std::string_view key) const;
    // "s3://bucket/key".
    std::string location(std::string_view key) const;
    // One line for logs: endpoint, addressing, region, bucket, prefix, and
    // whether a session token is set. Never a key or a secret.
    std::string describe() const;
};

// Returns the value of an environment variable, or nullopt when it is unset
// or empty. Tests pass their own table.
using env_lookup = std::function<std::optional<std::string>(const char* name)>;

// The config from `env`; nullopt when the keys are missing, or the bucket
// when `require_bucket` (a restore takes the bucket from its s3:// URL).
// A custom endpoint (AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL) selects
// path-style addressing.
std::optional<s3_config> s3_config_from(const env_lookup& env, bool require_bucket = true);

// s3_config_from(the process environment).
std::optional<s3_config> s3_config_from_env(bool require_bucket = true);

// Why s3_config_from(env) gives nullopt: "set OBS_S3_BUCKET, AWS_ACCESS_KEY_ID"
// (the missing names), or "" when nothing is missing.
std::string s3_config_missing(const env_lookup& env, bool require_bucket = true);

// The process environment as an env_lookup.
env_lookup process_env();

// Percent-encodes by the SigV4 rules: A-Z a-z 0-9 - _ . ~ stay, every other
// byte becomes %XX (upper-case hex); '/' stays when `keep_slash`.
std::string uri_encode(std::string_view text, bool keep_slash);

struct s3_location {
    std::string bucket;
    std::string key;
};

// Parses "s3://bucket/key" (key non-empty); nullopt for anything else.
std::optional<s3_location> parse_s3_url(std::string_view url);

}  // namespace obs::backup
