// JSON-lines logging to stderr; see log.hpp.
#include "server/log.hpp"

#include "domain/artifact_name.hpp"
#include "domain/time.hpp"

#include <boost/json/serialize.hpp>

#include <string>
#include <unistd.h>

namespace obs::server {
namespace {

void write_all(const std::string& line) {
    const char* p = line.data();
    std::size_t left = line.size();
    while (left > 0) {
        auto n = ::write(STDERR_FILENO, p, left);
        if (n <= 0) return;  // stderr gone: logging must never stop the server
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

}  // namespace

std::string printable_text(std::string_view text) {
    std::string out(text);
    if (domain::is_valid_utf8(text)) return out;
    for (auto& c : out)
        if (static_cast<unsigned char>(c) >= 0x80) c = '?';
    return out;
}

void log_line(std::string_view level, std::string_view message, boost::json::object fields) {
    boost::json::object line;
    line["time"] = domain::format_rfc3339_ms(domain::now_unix_ms());
    line["level"] = level;
    line["msg"] = message;
    for (auto& kv : fields) line[kv.key()] = std::move(kv.value());
    write_all(boost::json::serialize(line) + "\n");
}

void log_request(std::string_view method, std::string_view path, unsigned status, std::int64_t duration_us,
                 std::size_t bytes_in, std::size_t bytes_out) {
    // Built by hand: this runs for every request. The path is escaped by the
    // serializer because it is client input.
    std::string line;
    const std::string route = printable_text(path);
    line.reserve(160 + route.size());
    line += "{\"time\":\"";
    line += domain::format_rfc3339_ms(domain::now_unix_ms());
    line += "\",\"level\":\"info\",\"msg\":\"request\",\"method\":";
    const std::string verb = printable_text(method);
    line += boost::json::serialize(boost::json::string_view(verb.data(), verb.size()));
    line += ",\"route\":";
    line += boost::json::serialize(boost::json::string_view(route.data(), route.size()));
    line += ",\"status\":" + std::to_string(status);
    line += ",\"duration_us\":" + std::to_string(duration_us);
    line += ",\"bytes_in\":" + std::to_string(bytes_in);
    line += ",\"bytes_out\":" + std::to_string(bytes_out) + "}\n";
    write_all(line);
}

}  // namespace obs::server
