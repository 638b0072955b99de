// The text exposition writer of /metrics; see exposition.hpp.
#include "server/routes/exposition.hpp"

#include <charconv>
#include <cmath>

namespace obs::server {

std::string label(std::string_view name, std::string_view value) {
    std::string out(name);
    out += "=\"";
    for (char c : value) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    out += '"';
    return out;
}

std::string format_number(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    // Plain decimals where they fit ("0.0005", as `le` labels are usually
    // written and queried), the shortest form otherwise.
    char buf[64];
    if (const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed); ec == std::errc{})
        return std::string(buf, end);
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return ec == std::errc{} ? std::string(buf, end) : "NaN";
}

void exposition::family(std::string_view name, std::string_view type, std::string_view help) {
    out_.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void exposition::line(std::string_view name, std::string_view labels, std::string_view value) {
    out_.append(name);
    if (!labels.empty()) out_.append("{").append(labels).append("}");
    out_.append(" ").append(value).append("\n");
}

void exposition::sample(std::string_view name, std::string_view labels, double value) {
    line(name, labels, format_number(value));
}

void exposition::sample(std::string_view name, std::string_view labels, std::uint64_t value) {
    line(name, labels, std::to_string(value));
}

void exposition::sample(std::string_view name, std::string_view labels, std::int64_t value) {
    line(name, labels, std::to_string(value));
}

void exposition::histogram(std::string_view name, std::string_view labels,
                           const persistence::histogram_snapshot& h) {
    const std::string bucket = std::string(name) + "_bucket";
    const std::string prefix = labels.empty() ? std::string() : std::string(labels) + ",";
    for (std::size_t i = 0; i < h.cumulative.size(); ++i) {
        const std::string le = i < h.bounds.size() ? format_number(h.bounds[i]) : "+Inf";
        line(bucket, prefix + label("le", le), std::to_string(h.cumulative[i]));
    }
    line(std::string(name) + "_sum", labels, format_number(h.sum));
    line(std::string(name) + "_count", labels, std::to_string(h.count()));
}

}  // namespace obs::server
