// The OTLP/JSON decoder (see json_decoder.hpp). The body is parsed into a
// Boost.JSON tree in a monotonic arena, then walked message by message;
// errors name the JSON path of the bad field
// ("resourceSpans[0].scopeSpans[0].spans[2].kind: must be a number").
#include "server/otlp/json_decoder.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/stream_parser.hpp>

#include <charconv>
#include <cmath>
#include <limits>

namespace obs::otlp {

namespace json = boost::json;

namespace {

// Per AnyValue level the JSON nests four levels (kvlistValue, values, the
// KeyValue, value); the request's own messages take eight more.
constexpr std::size_t parse_max_depth = 4 * (max_value_depth + 1) + 8;

const json::value* member(const json::object& o, std::string_view camel, std::string_view snake) {
    if (const auto* v = o.if_contains(camel)) return v;
    return snake == camel ? nullptr : o.if_contains(snake);
}

std::string indexed(const std::string& path, std::string_view name, std::size_t i) {
    return path + (path.empty() ? "" : ".") + std::string(name) + "[" + std::to_string(i) + "]";
}

std::string dotted(const std::string& path, std::string_view name) {
    return path + (path.empty() ? "" : ".") + std::string(name);
}

class decoder {
public:
    bool request(const json::value& body, trace_request& out);
    const std::string& error() const { return error_; }

private:
    bool fail(const std::string& path, std::string_view message) {
        if (error_.empty()) error_ = (path.empty() ? std::string("body") : path) + ": " + std::string(message);
        return false;
    }
    bool counted(const char* over) { return over == nullptr || fail("", over); }

    // An optional array member; null or absent is empty.
    const json::array* array_of(const json::object& o, std::string_view camel, std::string_view snake,
                                const std::string& path, bool& ok);
    bool text(const json::object& o, std::string_view camel, std::string_view snake, const std::string& path,
              std::string& out);
    bool unsigned64(const json::value& v, const std::string& path, std::uint64_t& out);
    bool signed64(const json::value& v, const std::string& path, std::int64_t& out);
    bool enumeration(const json::value& v, const std::string& path, std::initializer_list<std::string_view> names,
                     int& out);

    bool resource_spans(const json::value& v, const std::string& path, trace_request& out);
    bool span_message(const json::value& v, const std::string& path, span& out);
    bool event(const json::value& v, const std::string& path, span_event& out);
    bool attributes(const json::object& o, const std::string& path, attribute_map& out, std::size_t depth);
    bool key_values(const json::array& list, const std::string& path, attribute_map& out, std::size_t depth);
    bool any_value(const json::value& v, const std::string& path, json::value& out, std::size_t depth);

    request_budget budget_;
    std::string error_;
};

const json::array* decoder::array_of(const json::object& o, std::string_view camel, std::string_view snake,
                                     const std::string& path, bool& ok) {
    ok = true;
    const auto* v = member(o, camel, snake);
    if (v == nullptr || v->is_null()) return nullptr;
    if (const auto* a = v->if_array()) return a;
    ok = fail(dotted(path, camel), "must be an array");
    return nullptr;
}

bool decoder::text(const json::object& o, std::string_view camel, std::string_view snake, const std::string& path,
                   std::string& out) {
    const auto* v = member(o, camel, snake);
    if (v == nullptr || v->is_null()) return true;
    const auto* s = v->if_string();
    if (s == nullptr) return fail(dotted(path, camel), "must be a string");
    out.assign(s->data(), s->size());
    return true;
}

bool decoder::unsigned64(const json::value& v, const std::string& path, std::uint64_t& out) {
    if (const auto* u = v.if_uint64()) {
        out = *u;
        return true;
    }
    if (const auto* i = v.if_int64()) {
        if (*i < 0) return fail(path, "must not be negative");
        out = static_cast<std::uint64_t>(*i);
        return true;
    }
    if (const auto* s = v.if_string()) {
        const auto* end = s->data() + s->size();
        const auto r = std::from_chars(s->data(), end, out);
        if (s->empty() || r.ec != std::errc() || r.ptr != end) return fail(path, "must be an unsigned 64-bit integer");
        return true;
    }
    if (v.is_null()) return true;
    return fail(path, "must be an integer or a decimal string");
}

bool decoder::signed64(const json::value& v, const std::string& path, std::int64_t& out) {
    if (const auto* i = v.if_int64()) {
        out = *i;
        return true;
    }
    if (const auto* u = v.if_uint64()) {
        if (*u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            return fail(path, "out of the int64 range");
        out = static_cast<std::int64_t>(*u);
        return true;
    }
    if (const auto* s = v.if_string()) {
        const auto* end = s->data() + s->size();
        const auto r = std::from_chars(s->data(), end, out);
        if (s->empty() || r.ec != std::errc() || r.ptr != end) return fail(path, "must be a 64-bit integer");
        return true;
    }
    return fail(path, "must be an integer or a decimal string");
}

bool decoder::enumeration(const json::value& v, const std::string& path,
                          std::initializer_list<std::string_view> names, int& out) {
    if (v.is_null()) return true;
    if (const auto* s = v.if_string()) {
        int i = 0;
        for (const auto name : names) {
            if (name == std::string_view(*s)) {
                out = i;
                return true;
            }
            ++i;
        }
        return fail(path, "unknown enum name");
    }
    std::int64_t n = 0;
    if (!v.is_int64() && !v.is_uint64()) return fail(path, "must be an integer or an enum name");
    if (!signed64(v, path, n)) return false;
    if (n < std::numeric_limits<std::int32_t>::min() || n > std::numeric_limits<std::int32_t>::max())
        return fail(path, "out of the enum range");
    out = static_cast<int>(n);
    return true;
}

bool decoder::request(const json::value& body, trace_request& out) {
    const auto* o = body.if_object();
    if (o == nullptr) return fail("", "must be a JSON object (ExportTraceServiceRequest)");
    bool ok = true;
    const auto* list = array_of(*o, "resourceSpans", "resource_spans", "", ok);
    if (!ok) return false;
    if (list != nullptr)
        for (std::size_t i = 0; i < list->size(); ++i)
            if (!resource_spans((*list)[i], indexed("", "resourceSpans", i), out)) return false;
    out.span_count = budget_.spans;
    return true;
}

bool decoder::resource_spans(const json::value& v, const std::string& path, trace_request& out) {
    const auto* o = v.if_object();
    if (o == nullptr) return fail(path, "must be an object");
    otlp::resource_spans group;
    if (const auto* r = member(*o, "resource", "resource"); r != nullptr && !r->is_null()) {
        const auto* ro = r->if_object();
        if (ro == nullptr) return fail(dotted(path, "resource"), "must be an object");
        if (!attributes(*ro, dotted(path, "resource"), group.resource, 0)) return false;
    }
    bool ok = true;
    const auto* scopes = array_of(*o, "scopeSpans", "scope_spans", path, ok);
    if (!ok) return false;
    for (std::size_t i = 0; scopes != nullptr && i < scopes->size(); ++i) {
        const std::string scope_path = indexed(path, "scopeSpans", i);
        const auto* so = (*scopes)[i].if_object();
        if (so == nullptr) return fail(scope_path, "must be an object");
        const auto* spans = array_of(*so, "spans", "spans", scope_path, ok);
        if (!ok) return false;
        for (std::size_t j = 0; spans != nullptr && j < spans->size(); ++j) {
            if (!counted(budget_.count_span())) return false;
            group.spans.emplace_back();
            if (!span_message((*spans)[j], indexed(scope_path, "spans", j), group.spans.back())) return false;
        }
    }
    out.resources.push_back(std::move(group));
    return true;
}

bool decoder::span_message(const json::value& v, const std::string& path, span& out) {
    const auto* o = v.if_object();
    if (o == nullptr) return fail(path, "must be an object");
    std::string trace_id, span_id, parent_span_id;
    if (!text(*o, "traceId", "trace_id", path, trace_id) || !text(*o, "spanId", "span_id", path, span_id) ||
        !text(*o, "parentSpanId", "parent_span_id", path, parent_span_id) ||
        !text(*o, "name", "name", path, out.name))
        return false;
    out.trace_id.assign_lower(trace_id);
    out.span_id.assign_lower(span_id);
    out.parent_span_id.assign_lower(parent_span_id);
    if (const auto* k = member(*o, "kind", "kind");
        k != nullptr && !enumeration(*k, dotted(path, "kind"),
                                     {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER",
                                      "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"},
                                     out.kind))
        return false;
    if (const auto* t = member(*o, "startTimeUnixNano", "start_time_unix_nano");
        t != nullptr && !unsigned64(*t, dotted(path, "startTimeUnixNano"), out.start_time_unix_nano))
        return false;
    if (const auto* t = member(*o, "endTimeUnixNano", "end_time_unix_nano");
        t != nullptr && !unsigned64(*t, dotted(path, "endTimeUnixNano"), out.end_time_unix_nano))
        return false;
    if (!attributes(*o, path, out.attributes, 0)) return false;
    bool ok = true;
    const auto* events = array_of(*o, "events", "events", path, ok);
    if (!ok) return false;
    for (std::size_t i = 0; events != nullptr && i < events->size(); ++i) {
        if (out.events.size() == max_events_per_span) return fail(dotted(path, "events"), "more than 256 events");
        out.events.emplace_back();
        if (!event((*events)[i], indexed(path, "events", i), out.events.back())) return false;
    }
    if (const auto* s = member(*o, "status", "status"); s != nullptr && !s->is_null()) {
        const std::string status_path = dotted(path, "status");
        const auto* so = s->if_object();
        if (so == nullptr) return fail(status_path, "must be an object");
        if (!text(*so, "message", "message", status_path, out.status_message)) return false;
        if (const auto* c = member(*so, "code", "code");
            c != nullptr &&
            !enumeration(*c, dotted(status_path, "code"), {"STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"},
                         out.status))
            return false;
    }
    return true;
}

bool decoder::event(const json::value& v, const std::string& path, span_event& out) {
    const auto* o = v.if_object();
    if (o == nullptr) return fail(path, "must be an object");
    if (const auto* t = member(*o, "timeUnixNano", "time_unix_nano");
        t != nullptr && !unsigned64(*t, dotted(path, "timeUnixNano"), out.time_unix_nano))
        return false;
    return text(*o, "name", "name", path, out.name) && attributes(*o, path, out.attributes, 0);
}

// The `attributes` member of `o` (a list of KeyValue), if any.
bool decoder::attributes(const json::object& o, const std::string& path, attribute_map& out, std::size_t depth) {
    bool ok = true;
    const auto* list = array_of(o, "attributes", "attributes", path, ok);
    if (!ok) return false;
    return list == nullptr || key_values(*list, dotted(path, "attributes"), out, depth);
}

bool decoder::key_values(const json::array& list, const std::string& path, attribute_map& out, std::size_t depth) {
    if (list.size() > max_attributes_per_list) return fail(path, "more than 1024 attributes in one list");
    for (std::size_t i = 0; i < list.size(); ++i) {
        const auto* kv = list[i].if_object();
        const std::string item_path = path + "[" + std::to_string(i) + "]";
        if (kv == nullptr) return fail(item_path, "must be an object (KeyValue)");
        std::string key;
        if (!text(*kv, "key", "key", item_path, key)) return false;
        json::value value;
        if (const auto* v = member(*kv, "value", "value"); v != nullptr && !v->is_null())
            if (!any_value(*v, dotted(item_path, "value"), value, depth + 1)) return false;
        out[key] = std::move(value);
    }
    return true;
}

bool decoder::any_value(const json::value& v, const std::string& path, json::value& out, std::size_t depth) {
    if (depth > max_value_depth) return fail(path, "nested deeper than 16 levels");
    if (!counted(budget_.count_value())) return false;
    const auto* o = v.if_object();
    if (o == nullptr) return fail(path, "must be an object (AnyValue)");
    out = nullptr;
    if (const auto* s = member(*o, "stringValue", "string_value"); s != nullptr && !s->is_null()) {
        if (!s->is_string()) return fail(dotted(path, "stringValue"), "must be a string");
        out = s->get_string();
    } else if (const auto* b = member(*o, "boolValue", "bool_value"); b != nullptr && !b->is_null()) {
        if (!b->is_bool()) return fail(dotted(path, "boolValue"), "must be a boolean");
        out = b->get_bool();
    } else if (const auto* i = member(*o, "intValue", "int_value"); i != nullptr && !i->is_null()) {
        std::int64_t n = 0;
        if (!signed64(*i, dotted(path, "intValue"), n)) return false;
        out = n;
    } else if (const auto* d = member(*o, "doubleValue", "double_value"); d != nullptr && !d->is_null()) {
        if (d->is_number()) {
            out = double_value(d->to_number<double>());
        } else if (const auto* t = d->if_string(); t && (*t == "NaN" || *t == "Infinity" || *t == "-Infinity")) {
            out = *t;
        } else {
            return fail(dotted(path, "doubleValue"), "must be a number");
        }
    } else if (const auto* a = member(*o, "arrayValue", "array_value"); a != nullptr && !a->is_null()) {
        const auto* ao = a->if_object();
        if (ao == nullptr) return fail(dotted(path, "arrayValue"), "must be an object");
        bool ok = true;
        const auto* values = array_of(*ao, "values", "values", dotted(path, "arrayValue"), ok);
        if (!ok) return false;
        json::array items;
        if (values != nullptr) {
            if (values->size() > max_attributes_per_list)
                return fail(dotted(path, "arrayValue.values"), "more than 1024 values in one array");
            for (std::size_t k = 0; k < values->size(); ++k) {
                json::value item;
                if (!any_value((*values)[k], dotted(path, "arrayValue.values[" + std::to_string(k) + "]"), item,
                               depth + 1))
                    return false;
                items.push_back(std::move(item));
            }
        }
        out = std::move(items);
    } else if (const auto* kv = member(*o, "kvlistValue", "kvlist_value"); kv != nullptr && !kv->is_null()) {
        const auto* ko = kv->if_object();
        if (ko == nullptr) return fail(dotted(path, "kvlistValue"), "must be an object");
        bool ok = true;
        const auto* values = array_of(*ko, "values", "values", dotted(path, "kvlistValue"), ok);
        if (!ok) return false;
        attribute_map members;
        if (values != nullptr && !key_values(*values, dotted(path, "kvlistValue.values"), members, depth)) return false;
        out = std::move(members);
    } else if (const auto* by = member(*o, "bytesValue", "bytes_value"); by != nullptr && !by->is_null()) {
        const auto* t = by->if_string();
        if (t == nullptr) return fail(dotted(path, "bytesValue"), "must be a base64 string");
        for (const char c : *t) {
            const bool base64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                                c == '+' || c == '/' || c == '=' || c == '-' || c == '_';
            if (!base64) return fail(dotted(path, "bytesValue"), "must be a base64 string");
        }
        out = *t;
    }
    return true;
}

}  // namespace

decode_result<trace_request> decode_json(std::string_view body) {
    json::monotonic_resource arena;
    json::parse_options options;
    options.max_depth = parse_max_depth;
    json::stream_parser parser({&arena}, options);
    json::error_code ec;
    const std::size_t used = parser.write_some(body.data(), body.size(), ec);
    if (!ec && used == body.size()) parser.finish(ec);
    if (ec) {
        const std::size_t offset = used;
        return decode_error{"not OTLP JSON: " + ec.message() + " at byte " + std::to_string(offset)};
    }
    if (used != body.size())
        return decode_error{"not OTLP JSON: text after the value at byte " + std::to_string(used)};
    const json::value tree = parser.release();
    decoder d;
    trace_request out;
    if (!d.request(tree, out)) return decode_error{d.error()};
    return out;
}

}  // namespace obs::otlp
