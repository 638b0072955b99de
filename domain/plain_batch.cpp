// The streaming batch decoder (see plain_batch.hpp): a handler for
// Boost.JSON's basic_parser that follows the body by depth,
//
//   depth 1  the body object       {"events": ...}
//   depth 2  the events array      [...]
//   depth 3  an event's envelope   {"run_id": ..., "type": ..., "payload": ...}
//   depth 4  its payload object    {"tool": ..., "arguments": ...}
//   depth 5+ inside a payload field's value
//
// checking each token against the envelope rules and the payload rule table
// of payload_rules.hpp as it comes, and appending every token inside a
// payload to the payload's compact text with the separators, escapes and
// number formats Boost.JSON's serializer uses. A handler returning false
// stops the parser: that is how it declines.
#include "domain/plain_batch.hpp"

#include "domain/payload_rules.hpp"
#include "domain/plain_batch_fields.hpp"
#include "domain/plain_batch_fingerprint.hpp"
#include "domain/time.hpp"
#include "domain/uuid.hpp"
#include "domain/validation.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>

namespace obs::domain {

namespace {

namespace json = boost::json;

constexpr std::size_t body_depth = 1;
constexpr std::size_t events_depth = 2;
constexpr std::size_t envelope_depth = 3;
constexpr std::size_t payload_depth = 4;

// Keys of one object inside a payload field are compared with each other
// (a duplicate declines: the DOM keeps only the last); an object with more
// keys than this declines too, so the comparisons stay few per byte.
constexpr std::size_t max_compared_keys = 64;

// No valid envelope string is longer (ids and `node` are at most 128 bytes;
// a `ts` this long declines and is judged by the full decoder).
constexpr std::size_t max_envelope_string = 256;

// The envelope's fields, as bits of a seen-set.
enum envelope_bit : unsigned {
    run_id_bit = 1U << 0,
    type_bit = 1U << 1,
    ts_bit = 1U << 2,
    node_bit = 1U << 3,
    parent_id_bit = 1U << 4,
    payload_bit = 1U << 5,
    id_bit = 1U << 6,
};

unsigned envelope_bit_of(std::string_view key) {
    if (key == "run_id") return run_id_bit;
    if (key == "type") return type_bit;
    if (key == "ts") return ts_bit;
    if (key == "node") return node_bit;
    if (key == "parent_id") return parent_id_bit;
    if (key == "payload") return payload_bit;
    if (key == "id") return id_bit;
    return 0;
}

class plain_batch_handler {
public:
    static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

    explicit plain_batch_handler(std::int64_t now_ms) : now_ms_(now_ms) {}

    std::vector<event>& events() { return events_; }
    bool declined() const { return declined_; }

    bool on_document_begin(json::error_code&) { return true; }
    bool on_document_end(json::error_code&) { return true; }
    bool on_number_part(json::string_view, json::error_code&) { return true; }
    bool on_comment_part(json::string_view, json::error_code& ec) { return decline(ec); }
    bool on_comment(json::string_view, json::error_code& ec) { return decline(ec); }

    bool on_object_begin(json::error_code& ec) {
        switch (depth_) {
        case 0: break;
        case body_depth: return decline(ec);  // `events` holds an array
        case events_depth: begin_event(); break;
        case envelope_depth:
            if (envelope_key_ != payload_bit || !type_) return decline(ec);  // a payload before its type
            // The previous payload's size as a guess: one allocation for most.
            payload_.reserve(payload_size_guess_);
            payload_.assign(1, '{');
            rules_ = detail::rules_of(*type_);
            rules_seen_ = 0;
            order_.begin_payload((envelope_seen_ & id_bit) != 0);
            order_.open_object();
            break;
        default:
            if (!begin_container(false)) return decline(ec);
            payload_.push_back('{');
            order_.open_object();
            break;
        }
        ++depth_;
        return true;
    }

    bool on_object_end(std::size_t, json::error_code& ec) {
        --depth_;
        switch (depth_) {
        case 0: return events_seen_ || decline(ec);
        case events_depth: return end_event(ec);
        case envelope_depth:
            order_.close_object(payload_.size());
            payload_.push_back('}');
            for (std::size_t i = 0; i < rules_.size(); ++i)
                if (rules_[i].required && (rules_seen_ & (1U << i)) == 0) return decline(ec);
            return true;
        default:
            order_.close_object(payload_.size());
            payload_.push_back('}');
            if (depth_ == payload_depth && kind_ == detail::field_kind::metadata)
                ev().facts.metadata_json = payload_.substr(value_start_);
            return true;
        }
    }

    bool on_array_begin(json::error_code& ec) {
        if (depth_ == body_depth) {
            if (events_seen_) return decline(ec);
            events_seen_ = true;
        } else if (depth_ < payload_depth || !begin_container(true)) {
            return decline(ec);
        } else {
            payload_.push_back('[');
        }
        ++depth_;
        return true;
    }

    bool on_array_end(std::size_t n, json::error_code& ec) {
        --depth_;
        if (depth_ == body_depth) return (n >= 1 && n <= max_batch_events) || decline(ec);
        payload_.push_back(']');
        if (depth_ == payload_depth && kind_ == detail::field_kind::tags)
            ev().facts.tags_json = payload_.substr(value_start_);
        return true;
    }

    bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
        key_.append(s.data(), s.size());
        return true;
    }

    bool on_key(json::string_view s, std::size_t, json::error_code& ec) {
        std::string_view key(s.data(), s.size());
        if (!key_.empty()) key = key_.append(key);
        const bool ok = take_key(key);
        key_.clear();
        return ok || decline(ec);
    }

    bool on_string_part(json::string_view s, std::size_t n, json::error_code& ec) {
        return string_piece({s.data(), s.size()}, n, false) || decline(ec);
    }

    bool on_string(json::string_view s, std::size_t n, json::error_code& ec) {
        return string_piece({s.data(), s.size()}, n, true) || decline(ec);
    }

    bool on_int64(std::int64_t i, json::string_view, json::error_code& ec) {
        if (!number_allowed(i >= 0, true)) return decline(ec);
        append_integer(i);
        number_fact(i, static_cast<double>(i));
        return true;
    }

    bool on_uint64(std::uint64_t u, json::string_view, json::error_code& ec) {
        // Above int64's range it is no count (the DOM keeps it a uint64).
        const bool fits = u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
        if (!number_allowed(true, fits)) return decline(ec);
        append_integer(u);
        number_fact(static_cast<std::int64_t>(u), static_cast<double>(u));
        return true;
    }

    bool on_double(double d, json::string_view, json::error_code& ec) {
        // A number too large for a double (1e400 reads as infinity, 0e400
        // as NaN) is refused anywhere, with its path, by the full decoder.
        if (!std::isfinite(d) || !number_allowed(!(d < 0), false)) return decline(ec);
        // Boost.JSON's own number format, so the text equals the DOM's.
        separate();
        payload_.append(json::serialize(json::value(d)));
        number_fact(0, d);
        return true;
    }

    bool on_bool(bool b, json::error_code& ec) {
        if (!scalar_allowed(detail::field_kind::boolean)) return decline(ec);
        separate();
        payload_.append(b ? "true" : "false");
        return true;
    }

    bool on_null(json::error_code& ec) {
        if (!scalar_allowed(detail::field_kind::any)) return decline(ec);
        separate();
        payload_.append("null");
        return true;
    }

private:
    bool decline(json::error_code& ec) {
        declined_ = true;
        ec = json::make_error_code(json::error::syntax);  // any error stops the parser
        return false;
    }

    // A comma before a key or value unless it opens its container or follows its key.
    void separate() {
        const char last = payload_.back();
        if (last != '{' && last != '[' && last != ':') payload_.push_back(',');
    }

    void begin_event() {
        // Built in place: moving events around was a few percent of the
        // decoding time.
        event& ev = events_.emplace_back();
        ev.received_ms = now_ms_;
        ev.ts_ms = now_ms_;
        type_.reset();
        envelope_seen_ = 0;
        payload_.clear();
        ts_text_.reset();
    }

    bool end_event(json::error_code& ec) {
        constexpr unsigned required = run_id_bit | type_bit | payload_bit;
        if ((envelope_seen_ & required) != required) return decline(ec);
        event& ev = events_.back();
        ev.type = *type_;
        payload_size_guess_ = payload_.size() + 16;
        // A client's id is the one case that needs the canonical hash: the
        // payload text and the recorded key order give it without a DOM.
        // Measured (obs_bench_decode, 1000-event SDK-shaped bodies, events
        // per CPU-second of one thread on this shared machine): this path
        // 280-400k; the fast path plus a small arena DOM per event for the
        // hash 165-200k; the full decoder, which took all such bodies
        // before, 130-230k. Through the server (scripts/bench-decode, four
        // runs) the rate went from about 31-48k to 43-61k events/s, from
        // about 70-78k to 98-104k per server CPU-second.
        if (ev.id_given)
            ev.fingerprint = order_.fingerprint(ev, ts_text_, payload_);
        else
            ev.id = make_uuid_v7(now_ms_);
        ev.payload_json = std::move(payload_);
        return true;
    }

    // A container inside a payload, at the depth it opens at: allowed only
    // where the field's kind takes one, and never past the nesting rule.
    bool begin_container(bool array) {
        using detail::field_kind;
        if (depth_ == payload_depth) {
            const bool ok = array ? (kind_ == field_kind::tags || kind_ == field_kind::prompt ||
                                     kind_ == field_kind::any)
                                  : (kind_ == field_kind::metadata || kind_ == field_kind::object ||
                                     kind_ == field_kind::any);
            if (!ok) return false;
            separate();
            value_start_ = payload_.size();
            items_ = 0;
            return true;
        }
        // Tags and metadata hold strings only; free-form values nest.
        if (kind_ == field_kind::tags || kind_ == field_kind::metadata) return false;
        if (depth_ + 1 - payload_depth > max_json_depth) return false;
        separate();
        return true;
    }

    bool take_key(std::string_view key) {
        switch (depth_) {
        case body_depth:
            if (key != "events" || events_key_seen_) return false;
            events_key_seen_ = true;
            return true;
        case envelope_depth: {
            const unsigned bit = envelope_bit_of(key);
            if (bit == 0 || (envelope_seen_ & bit) != 0) return false;
            // An id after the payload declines: its key order was not kept.
            if (bit == id_bit && (envelope_seen_ & payload_bit) != 0) return false;
            envelope_seen_ |= bit;
            envelope_key_ = bit;
            return true;
        }
        case payload_depth: {
            std::size_t i = 0;
            while (i < rules_.size() && rules_[i].name != key) ++i;
            if (i == rules_.size() || (rules_seen_ & (1U << i)) != 0) return false;
            rules_seen_ |= 1U << i;
            field_ = &rules_[i];
            kind_ = rules_[i].kind;
            separate();
            if (order_.keeps_order()) order_.add_member(payload_.size(), key);
            append_json_string(payload_, key);
            payload_.push_back(':');
            return true;
        }
        default: {
            const std::size_t keys = order_.open_members();
            if (keys >= max_compared_keys) return false;
            if (kind_ == detail::field_kind::metadata && (keys >= max_metadata_keys || key.size() > max_text_length))
                return false;
            separate();
            if (!order_.add_member(payload_.size(), key)) return false;
            append_json_string(payload_, key);
            payload_.push_back(':');
            return true;
        }
        }
    }

    // One piece of a string value (`n`: its length so far; `last`: the
    // final piece).
    bool string_piece(std::string_view s, std::size_t n, bool last) {
        using detail::field_kind;
        const bool first = n == s.size();
        if (depth_ == envelope_depth) {
            if (envelope_key_ == payload_bit || n > max_envelope_string) return false;
            text_.append(s);
            if (!last) return true;
            const bool ok = take_envelope_string(text_);
            text_.clear();
            return ok;
        }
        if (depth_ < payload_depth) return false;
        if (depth_ == payload_depth) {
            switch (kind_) {
            case field_kind::text:
            case field_kind::prompt:
                if (n > max_text_length) return false;
                break;
            case field_kind::id:
                if (n > max_id_length) return false;
                break;
            case field_kind::run_status:
            case field_kind::log_level:
            case field_kind::span_status:
                if (n > max_envelope_string) return false;
                break;
            case field_kind::any: break;
            default: return false;
            }
        } else if ((kind_ == field_kind::tags || kind_ == field_kind::metadata) && n > max_text_length) {
            return false;
        }
        if (first) {
            if (kind_ == field_kind::tags && depth_ == payload_depth + 1 && ++items_ > max_tags) return false;
            separate();
            payload_.push_back('"');
        }
        append_json_escaped(payload_, s);
        const bool keep_text = depth_ == payload_depth && detail::plain_field_text_needed(kind_, *type_);
        if (keep_text) text_.append(s);
        if (!last) return true;
        payload_.push_back('"');
        if (!keep_text) return true;
        const bool ok = detail::plain_take_field_string(*field_, *type_, text_, ev().facts);
        text_.clear();
        return ok;
    }

    bool take_envelope_string(const std::string& s) {
        switch (envelope_key_) {
        case run_id_bit:
            if (!is_valid_id(s)) return false;
            ev().run_id = s;
            return true;
        case type_bit:
            type_ = parse_event_type(s);
            return type_ && *type_ != event_type::artifact;
        case ts_bit: {
            const auto ms = parse_rfc3339(s);
            if (!ms || *ms < 0 || *ms >= rfc3339_ms_limit) return false;
            ev().ts_ms = *ms;
            ts_text_ = s;  // the fingerprint hashes it as sent
            return true;
        }
        case id_bit:
            if (!is_valid_id(s)) return false;
            ev().id = s;
            ev().id_given = true;
            return true;
        case node_bit:
            if (s.size() > max_node_length) return false;
            ev().node = s;
            return true;
        case parent_id_bit:
            if (!is_valid_id(s)) return false;
            ev().parent_id = s;
            return true;
        default: return false;
        }
    }

    // Whether a number may stand here (plain_number_allowed).
    bool number_allowed(bool finite_non_negative, bool int64_integer) const {
        return depth_ >= payload_depth &&
               detail::plain_number_allowed(kind_, depth_ == payload_depth, finite_non_negative, int64_integer);
    }

    bool scalar_allowed(detail::field_kind kind) const {
        return depth_ >= payload_depth && detail::plain_scalar_allowed(kind_, depth_ == payload_depth, kind);
    }

    template <class Integer>
    void append_integer(Integer i) {
        separate();
        char digits[24];
        const auto end = std::to_chars(digits, digits + sizeof digits, i).ptr;
        payload_.append(digits, end);
    }

    void number_fact(std::int64_t integer, double real) {
        if (depth_ == payload_depth) detail::plain_number_fact(*field_, *type_, integer, real, ev().facts);
    }

    const std::int64_t now_ms_;
    std::vector<event> events_;
    bool declined_ = false;
    std::size_t depth_ = 0;  // containers open
    bool events_key_seen_ = false;
    bool events_seen_ = false;

    event& ev() { return events_.back(); }  // the event being decoded
    std::optional<event_type> type_;      // its type, once read
    unsigned envelope_seen_ = 0;          // envelope_bits seen
    unsigned envelope_key_ = 0;           // the envelope field being read
    std::string payload_;                 // its payload's compact text so far
    std::size_t payload_size_guess_ = 64;
    std::span<const detail::field_rule> rules_;  // its type's payload fields
    unsigned rules_seen_ = 0;             // bit i: rules_[i] seen
    const detail::field_rule* field_ = nullptr;  // the payload field being read
    detail::field_kind kind_ = detail::field_kind::any;
    std::size_t value_start_ = 0;         // where the field's container value starts in payload_
    std::size_t items_ = 0;               // tags read so far

    std::optional<std::string> ts_text_;  // its `ts` as sent
    detail::canonical_order order_;       // its payload's objects and keys, for a client id's fingerprint

    std::string key_;   // a key's pieces
    std::string text_;  // a string value's pieces, when its text is checked
};

}  // namespace

std::optional<std::vector<event>> decode_plain_batch(std::string_view body, std::int64_t now_ms) {
    json::parse_options options;  // strict JSON, as parse_json
    // Deeper containers break the nesting rule of a payload field anyway;
    // the parser's own default (32) would decline valid bodies.
    options.max_depth = payload_depth + max_json_depth;
    json::basic_parser<plain_batch_handler> parser(options, now_ms);
    // A guess from the size (events take 60 bytes at the least), so the
    // vector seldom grows.
    parser.handler().events().reserve(std::clamp<std::size_t>(body.size() / 128, 1, max_batch_events));
    json::error_code ec;
    const std::size_t consumed = parser.write_some(false, body.data(), body.size(), ec);
    if (ec || consumed != body.size() || parser.handler().declined()) return std::nullopt;
    return std::move(parser.handler().events());
}

}  // namespace obs::domain
