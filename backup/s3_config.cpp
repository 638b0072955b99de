// S3 settings from the environment, object URLs and the SigV4 percent-encoding.
#include "backup/s3_config.hpp"

#include <cstdlib>

namespace obs::backup {

namespace {

constexpr std::string_view aws_host_suffix = ".amazonaws.com";

std::string trim_trailing_slashes(std::string s) {
    while (!s.empty() && s.back() == '/') s.pop_back();
    return s;
}

}  // namespace

std::string uri_encode(std::string_view text, bool keep_slash) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) {
        const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                                c == '-' || c == '_' || c == '.' || c == '~';
        if (unreserved || (keep_slash && c == '/')) {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 0x0f];
        }
    }
    return out;
}

std::string s3_config::object_url(std::string_view key) const {
    const std::string path = uri_encode(key, true);
    if (endpoint.empty()) {
        return "https://" + bucket + ".s3." + region + std::string(aws_host_suffix) + "/" + path;
    }
    if (path_style) return endpoint + "/" + bucket + "/" + path;
    // Virtual-hosted on a custom endpoint: the bucket becomes the first label.
    const auto scheme_end = endpoint.find("://");
    const std::size_t host_at = scheme_end == std::string::npos ? 0 : scheme_end + 3;
    return endpoint.substr(0, host_at) + bucket + "." + endpoint.substr(host_at) + "/" + path;
}

std::string s3_config::location(std::string_view key) const { return "s3://" + bucket + "/" + std::string(key); }

std::string s3_config::describe() const {
    std::string out = "s3 endpoint=" + (endpoint.empty() ? std::string("aws") : endpoint);
    out += path_style ? " addressing=path" : " addressing=virtual-hosted";
    out += " region=" + region + " bucket=" + bucket + " prefix=" + prefix;
    out += session_token.empty() ? " session_token=no" : " session_token=yes";
    return out;
}

env_lookup process_env() {
    return [](const char* name) -> std::optional<std::string> {
        const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read-only use
        if (v == nullptr || *v == '\0') return std::nullopt;
        return std::string(v);
    };
}

std::string s3_config_missing(const env_lookup& env, bool require_bucket) {
    std::string missing;
    auto need = [&](const char* name) {
        if (env(name)) return;
        missing += missing.empty() ? "set " : ", ";
        missing += name;
    };
    if (require_bucket) need("OBS_S3_BUCKET");
    need("AWS_ACCESS_KEY_ID");
    need("AWS_SECRET_ACCESS_KEY");
    return missing;
}

std::optional<s3_config> s3_config_from(const env_lookup& env, bool require_bucket) {
    if (!s3_config_missing(env, require_bucket).empty()) return std::nullopt;
    s3_config c;
    c.access_key_id = *env("AWS_ACCESS_KEY_ID");
    c.secret_access_key = *env("AWS_SECRET_ACCESS_KEY");
    c.session_token = env("AWS_SESSION_TOKEN").value_or("");
    c.region = env("AWS_REGION").value_or(env("AWS_DEFAULT_REGION").value_or("us-east-1"));
    c.bucket = env("OBS_S3_BUCKET").value_or("");
    c.prefix = env("OBS_S3_PREFIX").value_or("observability/backups/");
    auto endpoint = env("AWS_ENDPOINT_URL_S3");
    if (!endpoint) endpoint = env("AWS_ENDPOINT_URL");
    if (endpoint) {
        c.endpoint = trim_trailing_slashes(*endpoint);
        c.path_style = true;
    }
    return c;
}

std::optional<s3_config> s3_config_from_env(bool require_bucket) {
    return s3_config_from(process_env(), require_bucket);
}

std::optional<s3_location> parse_s3_url(std::string_view url) {
    constexpr std::string_view scheme = "s3://";
    if (url.substr(0, scheme.size()) != scheme) return std::nullopt;
    url.remove_prefix(scheme.size());
    const auto slash = url.find('/');
    if (slash == 0 || slash == std::string_view::npos || slash + 1 == url.size()) return std::nullopt;
    return s3_location{std::string(url.substr(0, slash)), std::string(url.substr(slash + 1))};
}

}  // namespace obs::backup
