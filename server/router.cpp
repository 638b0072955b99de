// The route table of design/API.md.
#include "server/router.hpp"

#include <array>
#include <vector>

namespace obs::server {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> parts;
    while (!path.empty()) {
        if (path.front() == '/') {
            path.remove_prefix(1);
            continue;
        }
        auto slash = path.find('/');
        parts.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash);
    }
    return parts;
}

struct method_route {
    std::string_view method;
    route_id id;
    std::optional<scope> needs;
};

// One path shape and the methods it answers.
struct path_entry {
    std::vector<method_route> methods;
};

}  // namespace

std::optional<std::string> percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out.push_back(s[i]);
            continue;
        }
        if (i + 2 >= s.size()) return std::nullopt;
        auto hex = [](char c) -> int {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            return -1;
        };
        int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    return out;
}

route_result match_route(std::string_view method, std::string_view target) {
    auto path = target.substr(0, target.find('?'));
    auto parts = split_path(path);
    route_result result;

    std::vector<method_route> methods;
    std::string run_id, name;
    const auto decode = [&](std::string_view raw, std::string& out) {
        auto d = percent_decode(raw);
        if (!d) {
            result.bad_encoding = true;
            return false;
        }
        out = std::move(*d);
        return true;
    };

    const bool obs = !parts.empty() && parts[0] == "observability";
    const std::size_t n = parts.size();
    if (n == 1 && parts[0] == "healthz") methods = {{"GET", route_id::healthz, std::nullopt}};
    else if (n == 1 && parts[0] == "readyz") methods = {{"GET", route_id::readyz, std::nullopt}};
    else if (n == 1 && parts[0] == "metrics") methods = {{"GET", route_id::metrics, std::nullopt}};
    else if (obs && n == 2 && parts[1] == "events") methods = {{"POST", route_id::post_events, scope::ingest}};
    else if (obs && n == 2 && parts[1] == "stream") methods = {{"GET", route_id::stream, scope::read}};
    else if (obs && n == 2 && parts[1] == "backup") methods = {{"POST", route_id::post_backup, scope::admin}};
    else if (obs && n == 2 && parts[1] == "backups") methods = {{"GET", route_id::list_backups, scope::admin}};
    else if (obs && n == 2 && parts[1] == "runs")
        methods = {{"GET", route_id::list_runs, scope::read}, {"POST", route_id::post_runs, scope::ingest}};
    else if (obs && n >= 3 && parts[1] == "runs") {
        if (!decode(parts[2], run_id)) return result;
        if (n == 3) methods = {{"GET", route_id::get_run, scope::read}};
        else if (n == 4 && parts[3] == "steps")
            methods = {{"GET", route_id::list_steps, scope::read}, {"POST", route_id::post_steps, scope::ingest}};
        else if (n == 4 && parts[3] == "finish") methods = {{"POST", route_id::finish_run, scope::ingest}};
        else if (n == 4 && parts[3] == "artifacts") methods = {{"GET", route_id::list_artifacts, scope::read}};
        else if (n == 5 && parts[3] == "artifacts") {
            if (!decode(parts[4], name)) return result;
            methods = {{"GET", route_id::get_artifact, scope::read}, {"PUT", route_id::put_artifact, scope::ingest}};
        }
    }
    if (methods.empty()) return result;
    result.path_known = true;
    for (const auto& m : methods) {
        if (!result.allow.empty()) result.allow += ", ";
        result.allow += m.method;
        if (m.method == method)
            result.match = route_match{m.id, run_id, name, m.needs};
    }
    return result;
}

}  // namespace obs::server
