// The protobuf decoder of ExportTraceServiceRequest (see
// protobuf_decoder.hpp). One function per message, each reading its fields
// with wire::reader and checking each known field's wire type; field
// numbers are the OTLP specification's (opentelemetry-proto v1):
//
//   ExportTraceServiceRequest  1 resource_spans
//   ResourceSpans              1 resource, 2 scope_spans
//   Resource                   1 attributes
//   ScopeSpans                 1 scope (not used), 2 spans
//   Span                       1 trace_id, 2 span_id, 4 parent_span_id, 5 name,
//                              6 kind, 7 start_time_unix_nano (fixed64),
//                              8 end_time_unix_nano (fixed64), 9 attributes,
//                              11 events, 15 status
//   Span.Event                 1 time_unix_nano (fixed64), 2 name, 3 attributes
//   Status                     2 message, 3 code
//   KeyValue                   1 key, 2 value
//   AnyValue                   1 string, 2 bool, 3 int, 4 double (fixed64),
//                              5 array, 6 kvlist, 7 bytes
//   ArrayValue, KeyValueList   1 values
//
// Any other field (trace_state, flags, links, dropped counts, schema urls,
// fields added by later versions) is skipped.
#include "server/otlp/protobuf_decoder.hpp"

#include "domain/artifact_name.hpp"
#include "server/otlp/wire_reader.hpp"

#include <boost/json/array.hpp>
#include <boost/json/string.hpp>

#include <bit>
#include <memory>

namespace obs::otlp {

namespace json = boost::json;
using wire::field;
using wire::wire_type;

namespace {

constexpr std::size_t initial_attributes = 16;

// Puts a new empty map on `sp` in place of `m`. An assignment would not:
// json::object's move assignment keeps the target's memory resource, so the
// maps of spans (made empty, on the heap, by emplace_back) and everything
// stored in them would be allocated from the heap one by one rather than
// from the decode's arena.
void rebind(attribute_map& m, const json::storage_ptr& sp, std::size_t capacity) {
    std::destroy_at(&m);
    std::construct_at(&m, capacity, sp);
}

// The state of one decode: the budget and the first error.
class decoder {
public:
    explicit decoder(json::storage_ptr sp) : sp_(std::move(sp)) {}
    bool request(std::string_view bytes, trace_request& out);
    const std::string& error() const { return error_; }

private:
    bool fail(std::string message) {
        if (error_.empty()) error_ = std::move(message);
        return false;
    }
    bool expect(const field& f, wire_type type, const char* name) {
        if (f.type == type) return true;
        return fail(std::string(name) + ": wrong wire type");
    }
    // A string field: length-delimited, valid UTF-8.
    bool checked_text(const field& f, const char* name) {
        if (!expect(f, wire_type::length_delimited, name)) return false;
        if (!domain::is_valid_utf8(f.bytes)) return fail(std::string(name) + ": not valid UTF-8");
        return true;
    }
    bool text(const field& f, const char* name, std::string& out) {
        if (!checked_text(f, name)) return false;
        out.assign(f.bytes);
        return true;
    }
    // Ends a message's loop: true at a clean end, else the reader's error.
    bool finish(const wire::reader& r, const char* name) {
        if (!error_.empty()) return false;
        if (r.error() != nullptr) return fail(std::string(name) + ": " + r.error());
        return true;
    }
    bool counted(const char* over) { return over == nullptr || fail(over); }

    bool resource_spans(std::string_view bytes, trace_request& out);
    bool resource(std::string_view bytes, attribute_map& out);
    bool scope_spans(std::string_view bytes, otlp::resource_spans& out);
    bool span_message(std::string_view bytes, span& out);
    bool event(std::string_view bytes, span_event& out);
    bool status(std::string_view bytes, span& out);
    bool key_value(std::string_view bytes, attribute_map& out, std::size_t depth);
    bool any_value(std::string_view bytes, json::value& out, std::size_t depth);
    bool add_attribute(const field& f, attribute_map& out, std::size_t depth, const char* name);

    json::storage_ptr sp_;  // where every attribute value is built
    request_budget budget_;
    std::string error_;
};

bool decoder::request(std::string_view bytes, trace_request& out) {
    wire::reader r(bytes);
    field f;
    while (r.next(f)) {
        if (f.number != 1) continue;
        if (!expect(f, wire_type::length_delimited, "ExportTraceServiceRequest.resource_spans")) return false;
        if (!resource_spans(f.bytes, out)) return false;
    }
    if (!finish(r, "ExportTraceServiceRequest")) return false;
    out.span_count = budget_.spans;
    return true;
}

bool decoder::resource_spans(std::string_view bytes, trace_request& out) {
    otlp::resource_spans group;
    rebind(group.resource, sp_, 0);
    wire::reader r(bytes);
    field f;
    while (r.next(f)) {
        if (f.number == 1) {
            if (!expect(f, wire_type::length_delimited, "ResourceSpans.resource")) return false;
            if (!resource(f.bytes, group.resource)) return false;
        } else if (f.number == 2) {
            if (!expect(f, wire_type::length_delimited, "ResourceSpans.scope_spans")) return false;
            if (!scope_spans(f.bytes, group)) return false;
        }
    }
    if (!finish(r, "ResourceSpans")) return false;
    out.resources.push_back(std::move(group));
    return true;
}

bool decoder::resource(std::string_view bytes, attribute_map& out) {
    wire::reader r(bytes);
    field f;
    while (r.next(f))
        if (f.number == 1 && !add_attribute(f, out, 0, "Resource.attributes")) return false;
    return finish(r, "Resource");
}

bool decoder::scope_spans(std::string_view bytes, otlp::resource_spans& out) {
    wire::reader r(bytes);
    field f;
    while (r.next(f)) {
        if (f.number == 1) {
            if (!expect(f, wire_type::length_delimited, "ScopeSpans.scope")) return false;
        } else if (f.number == 2) {
            if (!expect(f, wire_type::length_delimited, "ScopeSpans.spans")) return false;
            if (!counted(budget_.count_span())) return false;
            out.spans.emplace_back();
            // Room for a typical span's attributes: no rehash while they are added.
            rebind(out.spans.back().attributes, sp_, initial_attributes);
            if (!span_message(f.bytes, out.spans.back())) return false;
        }
    }
    return finish(r, "ScopeSpans");
}

bool decoder::span_message(std::string_view bytes, span& out) {
    wire::reader r(bytes);
    field f;
    while (r.next(f)) {
        switch (f.number) {
        case 1:
            if (!expect(f, wire_type::length_delimited, "Span.trace_id")) return false;
            out.trace_id.assign_hex(f.bytes);
            break;
        case 2:
            if (!expect(f, wire_type::length_delimited, "Span.span_id")) return false;
            out.span_id.assign_hex(f.bytes);
            break;
        case 4:
            if (!expect(f, wire_type::length_delimited, "Span.parent_span_id")) return false;
            out.parent_span_id.assign_hex(f.bytes);
            break;
        case 5:
            if (!text(f, "Span.name", out.name)) return false;
            break;
        case 6:
            if (!expect(f, wire_type::varint, "Span.kind")) return false;
            out.kind = static_cast<int>(static_cast<std::int32_t>(f.integer));
            break;
        case 7:
            if (!expect(f, wire_type::fixed64, "Span.start_time_unix_nano")) return false;
            out.start_time_unix_nano = f.integer;
            break;
        case 8:
            if (!expect(f, wire_type::fixed64, "Span.end_time_unix_nano")) return false;
            out.end_time_unix_nano = f.integer;
            break;
        case 9:
            if (!add_attribute(f, out.attributes, 0, "Span.attributes")) return false;
            break;
        case 11:
            if (!expect(f, wire_type::length_delimited, "Span.events")) return false;
            if (out.events.size() == max_events_per_span) return fail("Span.events: more than 256 events in one span");
            out.events.emplace_back();
            rebind(out.events.back().attributes, sp_, 0);
            if (!event(f.bytes, out.events.back())) return false;
            break;
        case 15:
            if (!expect(f, wire_type::length_delimited, "Span.status")) return false;
            if (!status(f.bytes, out)) return false;
            break;
        default: break;
        }
    }
    return finish(r, "Span");
}

bool decoder::event(std::string_view bytes, span_event& out) {
    wire::reader r(bytes);
    field f;
    while (r.next(f)) {
        if (f.number == 1) {
            if (!expect(f, wire_type::fixed64, "Span.Event.time_unix_nano")) return false;
            out.time_unix_nano = f.integer;
        } else if (f.number == 2) {
            if (!text(f, "Span.Event.name", out.name)) return false;
        } else if (f.number == 3) {
            if (!add_attribute(f, out.attributes, 0, "Span.Event.attributes")) return false;
        }
    }
    return finish(r, "Span.Event");
}

bool decoder::status(std::string_view bytes, span& out) {
    wire::reader r(bytes);
    field f;
    while (r.next(f)) {
        if (f.number == 2) {
            if (!text(f, "Status.message", out.status_message)) return false;
        } else if (f.number == 3) {
            if (!expect(f, wire_type::varint, "Status.code")) return false;
            out.status = static_cast<int>(static_cast<std::int32_t>(f.integer));
        }
    }
    return finish(r, "Status");
}

// One KeyValue field of an attribute list: bounded in count per list (the
// list is `out`) and in values per request.
bool decoder::add_attribute(const field& f, attribute_map& out, std::size_t depth, const char* name) {
    if (!expect(f, wire_type::length_delimited, name)) return false;
    if (out.size() >= max_attributes_per_list)
        return fail(std::string(name) + ": more than 1024 attributes in one list");
    return key_value(f.bytes, out, depth);
}

bool decoder::key_value(std::string_view bytes, attribute_map& out, std::size_t depth) {
    // A view into the body: no copy before the map's own. Empty, not null,
    // when the KeyValue has no key: Boost.JSON 1.81 copies a key with
    // memcpy, which must not be given a null pointer (a fuzzer's find).
    std::string_view key = "";
    json::value value(sp_);  // an absent AnyValue is null
    wire::reader r(bytes);
    field f;
    while (r.next(f)) {
        if (f.number == 1) {
            if (!checked_text(f, "KeyValue.key")) return false;
            key = f.bytes;
        } else if (f.number == 2) {
            if (!expect(f, wire_type::length_delimited, "KeyValue.value")) return false;
            if (!any_value(f.bytes, value, depth + 1)) return false;
        }
    }
    if (!finish(r, "KeyValue")) return false;
    out.insert_or_assign(key, std::move(value));  // a key given twice keeps its last value
    return true;
}

bool decoder::any_value(std::string_view bytes, json::value& out, std::size_t depth) {
    if (depth > max_value_depth) return fail("AnyValue: nested deeper than 16 levels");
    if (!counted(budget_.count_value())) return false;
    wire::reader r(bytes);
    field f;
    while (r.next(f)) {
        switch (f.number) {
        case 1:
            if (!checked_text(f, "AnyValue.string_value")) return false;
            out.emplace_string().assign(f.bytes);  // straight into the arena
            break;
        case 2:
            if (!expect(f, wire_type::varint, "AnyValue.bool_value")) return false;
            out = f.integer != 0;
            break;
        case 3:
            if (!expect(f, wire_type::varint, "AnyValue.int_value")) return false;
            out = static_cast<std::int64_t>(f.integer);
            break;
        case 4:
            if (!expect(f, wire_type::fixed64, "AnyValue.double_value")) return false;
            out = double_value(std::bit_cast<double>(f.integer));
            break;
        case 5: {
            if (!expect(f, wire_type::length_delimited, "AnyValue.array_value")) return false;
            json::array items(sp_);
            wire::reader list(f.bytes);
            field item;
            while (list.next(item)) {
                if (item.number != 1) continue;
                if (!expect(item, wire_type::length_delimited, "ArrayValue.values")) return false;
                if (items.size() >= max_attributes_per_list)
                    return fail("ArrayValue.values: more than 1024 values in one array");
                json::value v(sp_);
                if (!any_value(item.bytes, v, depth + 1)) return false;
                items.push_back(std::move(v));
            }
            if (!finish(list, "ArrayValue")) return false;
            out = std::move(items);
            break;
        }
        case 6: {
            if (!expect(f, wire_type::length_delimited, "AnyValue.kvlist_value")) return false;
            attribute_map members(sp_);
            wire::reader list(f.bytes);
            field item;
            while (list.next(item))
                if (item.number == 1 && !add_attribute(item, members, depth, "KeyValueList.values")) return false;
            if (!finish(list, "KeyValueList")) return false;
            out = std::move(members);
            break;
        }
        case 7:
            if (!expect(f, wire_type::length_delimited, "AnyValue.bytes_value")) return false;
            out = json::string(to_base64(f.bytes), sp_);
            break;
        default: break;
        }
    }
    return finish(r, "AnyValue");
}

}  // namespace

decode_result<trace_request> decode_protobuf(std::string_view body, json::storage_ptr storage) {
    decoder d(std::move(storage));
    trace_request out;
    if (!d.request(body, out)) return decode_error{d.error()};
    return out;
}

}  // namespace obs::otlp
