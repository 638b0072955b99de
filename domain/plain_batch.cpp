// The streaming batch decoder's entry point and the parser's token
// callbacks (the handler and its depths: plain_batch_handler.hpp). Each
// callback dispatches on the depth it comes at: the body and the events
// array are checked here, the envelope's keys and strings are handed to
// plain_batch_envelope.cpp, and every token inside a payload is checked
// against its field's rule and appended to the payload's compact text here.
// These run per token, so they stay in the file that instantiates the
// parser, where the compiler can inline them.
#include "domain/plain_batch.hpp"

#include "domain/payload_rules.hpp"
#include "domain/plain_batch_fields.hpp"
#include "domain/plain_batch_handler.hpp"
#include "domain/validation.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

namespace obs::domain {

namespace detail {

namespace json = boost::json;

bool plain_batch_handler::on_object_begin(error_code& ec) {
    switch (depth_) {
    case 0: break;
    case body_depth: return decline(ec);  // `events` holds an array
    case events_depth: begin_event(); break;
    case envelope_depth:
        if (envelope_key_ != payload_bit || !type_) return decline(ec);  // a payload before its type
        // The previous payload's size as a guess: one allocation for most.
        payload_.reserve(payload_size_guess_);
        payload_.assign(1, '{');
        rules_ = rules_of(*type_);
        rules_seen_ = 0;
        keys_.begin_payload();
        keys_.open_object();
        break;
    default:
        if (!begin_container(false)) return decline(ec);
        payload_.push_back('{');
        keys_.open_object();
        break;
    }
    ++depth_;
    return true;
}

bool plain_batch_handler::on_object_end(std::size_t, error_code& ec) {
    --depth_;
    switch (depth_) {
    case 0: return events_seen_ || decline(ec);
    case events_depth: return end_event(ec);
    case envelope_depth:
        keys_.close_object();
        payload_.push_back('}');
        for (std::size_t i = 0; i < rules_.size(); ++i)
            if (rules_[i].required && (rules_seen_ & (1U << i)) == 0) return decline(ec);
        return true;
    default:
        keys_.close_object();
        payload_.push_back('}');
        if (depth_ == payload_depth && kind_ == field_kind::metadata)
            ev().facts.metadata_json = payload_.substr(value_start_);
        return true;
    }
}

bool plain_batch_handler::on_array_begin(error_code& ec) {
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

bool plain_batch_handler::on_array_end(std::size_t n, error_code& ec) {
    --depth_;
    if (depth_ == body_depth) return (n >= 1 && n <= max_batch_events) || decline(ec);
    payload_.push_back(']');
    if (depth_ == payload_depth && kind_ == field_kind::tags)
        ev().facts.tags_json = payload_.substr(value_start_);
    return true;
}

bool plain_batch_handler::on_key_part(json_string s, std::size_t, error_code&) {
    key_.append(s.data(), s.size());
    return true;
}

bool plain_batch_handler::on_key(json_string s, std::size_t, error_code& ec) {
    std::string_view key(s.data(), s.size());
    if (!key_.empty()) key = key_.append(key);
    const bool ok = take_key(key);
    key_.clear();
    return ok || decline(ec);
}

bool plain_batch_handler::on_string_part(json_string s, std::size_t n, error_code& ec) {
    return string_piece({s.data(), s.size()}, n, false) || decline(ec);
}

bool plain_batch_handler::on_string(json_string s, std::size_t n, error_code& ec) {
    return string_piece({s.data(), s.size()}, n, true) || decline(ec);
}

bool plain_batch_handler::on_int64(std::int64_t i, json_string, error_code& ec) {
    if (!number_allowed(i >= 0, true)) return decline(ec);
    append_integer(i);
    number_fact(i, static_cast<double>(i));
    return true;
}

bool plain_batch_handler::on_uint64(std::uint64_t u, json_string, error_code& ec) {
    // Above int64's range it is no count (the DOM keeps it a uint64).
    const bool fits = u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (!number_allowed(true, fits)) return decline(ec);
    append_integer(u);
    number_fact(static_cast<std::int64_t>(u), static_cast<double>(u));
    return true;
}

bool plain_batch_handler::on_double(double d, json_string, error_code& ec) {
    // A number too large for a double (1e400 reads as infinity, 0e400
    // as NaN) is refused anywhere, with its path, by the full decoder.
    if (!std::isfinite(d) || !number_allowed(!(d < 0), false)) return decline(ec);
    // Boost.JSON's own number format, so the text equals the DOM's.
    separate();
    payload_.append(json::serialize(json::value(d)));
    number_fact(0, d);
    return true;
}

bool plain_batch_handler::on_bool(bool b, error_code& ec) {
    if (!scalar_allowed(field_kind::boolean)) return decline(ec);
    separate();
    payload_.append(b ? "true" : "false");
    return true;
}

bool plain_batch_handler::on_null(error_code& ec) {
    if (!scalar_allowed(field_kind::any)) return decline(ec);
    separate();
    payload_.append("null");
    return true;
}

// A comma before a key or value unless it opens its container or follows its key.
void plain_batch_handler::separate() {
    const char last = payload_.back();
    if (last != '{' && last != '[' && last != ':') payload_.push_back(',');
}

// A container inside a payload, at the depth it opens at: allowed only
// where the field's kind takes one, and never past the nesting rule.
bool plain_batch_handler::begin_container(bool array) {
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

bool plain_batch_handler::take_key(std::string_view key) {
    switch (depth_) {
    case body_depth:
        if (key != "events" || events_key_seen_) return false;
        events_key_seen_ = true;
        return true;
    case envelope_depth: return take_envelope_key(key);
    case payload_depth: {
        std::size_t i = 0;
        while (i < rules_.size() && rules_[i].name != key) ++i;
        if (i == rules_.size() || (rules_seen_ & (1U << i)) != 0) return false;
        rules_seen_ |= 1U << i;
        field_ = &rules_[i];
        kind_ = rules_[i].kind;
        separate();
        append_json_string(payload_, key);
        payload_.push_back(':');
        return true;
    }
    default: {
        const std::size_t keys = keys_.open_members();
        if (keys >= max_compared_keys) return false;
        if (kind_ == field_kind::metadata && (keys >= max_metadata_keys || key.size() > max_text_length))
            return false;
        separate();
        if (!keys_.add_member(key)) return false;
        append_json_string(payload_, key);
        payload_.push_back(':');
        return true;
    }
    }
}

// One piece of a string value (`n`: its length so far; `last`: the
// final piece).
bool plain_batch_handler::string_piece(std::string_view s, std::size_t n, bool last) {
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
    const bool keep_text = depth_ == payload_depth && plain_field_text_needed(kind_, *type_);
    if (keep_text) text_.append(s);
    if (!last) return true;
    payload_.push_back('"');
    if (!keep_text) return true;
    const bool ok = plain_take_field_string(*field_, *type_, text_, ev().facts);
    text_.clear();
    return ok;
}

// Whether a number may stand here (plain_number_allowed).
bool plain_batch_handler::number_allowed(bool finite_non_negative, bool int64_integer) const {
    return depth_ >= payload_depth &&
           plain_number_allowed(kind_, depth_ == payload_depth, finite_non_negative, int64_integer);
}

bool plain_batch_handler::scalar_allowed(field_kind kind) const {
    return depth_ >= payload_depth && plain_scalar_allowed(kind_, depth_ == payload_depth, kind);
}

template <class Integer>
void plain_batch_handler::append_integer(Integer i) {
    separate();
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, i).ptr;
    payload_.append(digits, end);
}

void plain_batch_handler::number_fact(std::int64_t integer, double real) {
    if (depth_ == payload_depth) plain_number_fact(*field_, *type_, integer, real, ev().facts);
}

}  // namespace detail

std::optional<std::vector<event>> decode_plain_batch(std::string_view body, std::int64_t now_ms) {
    namespace json = boost::json;
    json::parse_options options;  // strict JSON, as parse_json
    // Deeper containers break the nesting rule of a payload field anyway;
    // the parser's own default (32) would decline valid bodies.
    options.max_depth = detail::payload_depth + max_json_depth;
    json::basic_parser<detail::plain_batch_handler> parser(options, now_ms);
    // A guess from the size (events take 60 bytes at the least), so the
    // vector seldom grows.
    parser.handler().events().reserve(std::clamp<std::size_t>(body.size() / 128, 1, max_batch_events));
    json::error_code ec;
    const std::size_t consumed = parser.write_some(false, body.data(), body.size(), ec);
    if (ec || consumed != body.size() || parser.handler().declined()) return std::nullopt;
    return std::move(parser.handler().events());
}

}  // namespace obs::domain
