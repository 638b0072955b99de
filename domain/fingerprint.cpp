// The event fingerprint (see fingerprint.hpp): a canonical serialization
// written straight into one string (no intermediate JSON values), then
// hashed. Strings are escaped by append_json_string, so equal values give
// equal bytes; numbers use Boost.JSON's serializer.
#include "domain/fingerprint.hpp"

#include "domain/event.hpp"
#include "domain/sha256.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <string_view>
#include <utility>
#include <vector>

namespace obs::domain::detail {

namespace json = boost::json;

namespace {

void append_canonical(std::string& out, const json::value& v);

using member = std::pair<std::string_view, const json::value*>;

// Members sorted by key (bytewise), so key order in the body does not matter.
void append_members(std::string& out, std::vector<member>& members) {
    std::sort(members.begin(), members.end(), [](const member& a, const member& b) { return a.first < b.first; });
    out.push_back('{');
    for (std::size_t i = 0; i < members.size(); ++i) {
        if (i > 0) out.push_back(',');
        append_json_string(out, members[i].first);
        out.push_back(':');
        append_canonical(out, *members[i].second);
    }
    out.push_back('}');
}

// Compact JSON with object keys sorted, recursively. Depth is bounded by
// validation, which runs first.
void append_canonical(std::string& out, const json::value& v) {
    if (const auto* o = v.if_object()) {
        std::vector<member> members;
        members.reserve(o->size());
        for (const auto& kv : *o) members.emplace_back(kv.key(), &kv.value());
        append_members(out, members);
    } else if (const auto* a = v.if_array()) {
        out.push_back('[');
        for (std::size_t i = 0; i < a->size(); ++i) {
            if (i > 0) out.push_back(',');
            append_canonical(out, (*a)[i]);
        }
        out.push_back(']');
    } else if (const auto* s = v.if_string()) {
        append_json_string(out, *s);
    } else {
        out.append(json::serialize(v));
    }
}

}  // namespace

std::string fingerprint_of(const json::object& event_object, const std::string& run_id) {
    const json::value run_id_value(run_id);
    std::vector<member> members;
    members.reserve(event_object.size() + 1);
    for (const auto& kv : event_object) members.emplace_back(kv.key(), &kv.value());
    if (!event_object.contains("run_id")) members.emplace_back("run_id", &run_id_value);
    std::string canonical;
    append_members(canonical, members);
    return sha256_hex(canonical);
}

}  // namespace obs::domain::detail
