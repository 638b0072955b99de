// The streaming batch decoder's state (see plain_batch.hpp): a handler for
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
//
// A private header of two files: plain_batch.cpp has the parser's token
// callbacks and the payload's text (called per token, so they stay in the
// file that instantiates the parser, where they can be inlined);
// plain_batch_envelope.cpp has what happens once per event or envelope
// field (an event begins and ends, the envelope's keys and strings).
#pragma once

#include "domain/event.hpp"
#include "domain/payload_rules.hpp"
#include "domain/plain_batch_keys.hpp"

#include <boost/json/basic_parser.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace obs::domain::detail {

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

class plain_batch_handler {
public:
    using error_code = boost::json::error_code;
    using json_string = boost::json::string_view;

    static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);
    static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);

    explicit plain_batch_handler(std::int64_t now_ms) : now_ms_(now_ms) {}

    std::vector<event>& events() { return events_; }
    bool declined() const { return declined_; }

    // The basic_parser handler interface (plain_batch.cpp).
    bool on_document_begin(error_code&) { return true; }
    bool on_document_end(error_code&) { return true; }
    bool on_number_part(json_string, error_code&) { return true; }
    bool on_comment_part(json_string, error_code& ec) { return decline(ec); }
    bool on_comment(json_string, error_code& ec) { return decline(ec); }
    bool on_object_begin(error_code& ec);
    bool on_object_end(std::size_t, error_code& ec);
    bool on_array_begin(error_code& ec);
    bool on_array_end(std::size_t n, error_code& ec);
    bool on_key_part(json_string s, std::size_t, error_code&);
    bool on_key(json_string s, std::size_t, error_code& ec);
    bool on_string_part(json_string s, std::size_t n, error_code& ec);
    bool on_string(json_string s, std::size_t n, error_code& ec);
    bool on_int64(std::int64_t i, json_string, error_code& ec);
    bool on_uint64(std::uint64_t u, json_string, error_code& ec);
    bool on_double(double d, json_string, error_code& ec);
    bool on_bool(bool b, error_code& ec);
    bool on_null(error_code& ec);

private:
    bool decline(error_code& ec) {
        declined_ = true;
        ec = boost::json::make_error_code(boost::json::error::syntax);  // any error stops the parser
        return false;
    }

    // The envelope, once per event or envelope field (plain_batch_envelope.cpp).
    void begin_event();
    bool end_event(error_code& ec);
    bool take_envelope_key(std::string_view key);
    bool take_envelope_string(const std::string& s);

    // The payload's text, per token (plain_batch.cpp).
    void separate();
    bool begin_container(bool array);
    bool take_key(std::string_view key);
    bool string_piece(std::string_view s, std::size_t n, bool last);
    bool number_allowed(bool finite_non_negative, bool int64_integer) const;
    bool scalar_allowed(field_kind kind) const;
    template <class Integer>
    void append_integer(Integer i);
    void number_fact(std::int64_t integer, double real);

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
    std::span<const field_rule> rules_;   // its type's payload fields
    unsigned rules_seen_ = 0;             // bit i: rules_[i] seen
    const field_rule* field_ = nullptr;   // the payload field being read
    field_kind kind_ = field_kind::any;
    std::size_t value_start_ = 0;         // where the field's container value starts in payload_
    std::size_t items_ = 0;               // tags read so far

    object_keys keys_;                    // of its payload's open objects, for duplicates

    std::string key_;   // a key's pieces
    std::string text_;  // a string value's pieces, when its text is checked
};

}  // namespace obs::domain::detail
