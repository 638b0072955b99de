// parse_json and parse_ndjson (declared in validation.hpp): request bodies
// parsed strictly into a DOM. Boost.JSON's own parser keeps the last of two
// equal keys in an object, which would silently change what a client sent;
// this parser builds the same DOM through Boost.JSON's value_stack and
// refuses a duplicate key as a JSON error naming it and where it stands
// (`duplicate key "x" at events[0].payload.arguments.x`). Numbers are left as
// Boost.JSON reads them (1e400 as infinity): the validation reports a number
// that is not a finite double at its field, with the event's index.
#include "domain/validation.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>

#include <algorithm>
#include <charconv>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace obs::domain {

namespace json = boost::json;

namespace {

// Generous: the 64-level rule of a payload field is checked later, with a path.
constexpr std::size_t parse_max_depth = 256;

// Up to this many keys an object's keys are compared pairwise; a larger
// object is checked by sorting, so a body of many keys stays O(n log n).
constexpr std::size_t pairwise_keys = 16;

// A basic_parser handler that pushes every token onto a value_stack (as
// Boost.JSON's own parser does) and keeps the keys of the open objects, and
// the place of each open container, to check and name duplicates.
class strict_handler {
public:
    static constexpr std::size_t max_object_size = json::object::max_size();
    static constexpr std::size_t max_array_size = json::array::max_size();
    static constexpr std::size_t max_key_size = json::string::max_size();
    static constexpr std::size_t max_string_size = json::string::max_size();

    explicit strict_handler(json::storage_ptr storage) { stack_.reset(std::move(storage)); }

    json::value release() { return stack_.release(); }
    // The message of a duplicate key, when one stopped the parser.
    const std::string& duplicate() const { return duplicate_; }

    bool on_document_begin(json::error_code&) { return true; }
    bool on_document_end(json::error_code&) { return true; }
    bool on_comment_part(json::string_view, json::error_code&) { return true; }
    bool on_comment(json::string_view, json::error_code&) { return true; }
    bool on_number_part(json::string_view, json::error_code&) { return true; }

    bool on_object_begin(json::error_code&) {
        frames_.push_back({false, spans_.size(), 0});
        return true;
    }

    bool on_object_end(std::size_t n, json::error_code& ec) {
        if (!keys_unique(ec)) return false;
        const std::size_t first = frames_.back().first_key;
        if (first < spans_.size()) keys_.resize(spans_[first].first);
        spans_.resize(first);
        frames_.pop_back();
        stack_.push_object(n);
        return element_done();
    }

    bool on_array_begin(json::error_code&) {
        frames_.push_back({true, 0, 0});
        return true;
    }

    bool on_array_end(std::size_t n, json::error_code&) {
        frames_.pop_back();
        stack_.push_array(n);
        return element_done();
    }

    bool on_key_part(json::string_view s, std::size_t n, json::error_code&) {
        key_piece(s, n);
        stack_.push_chars(s);
        return true;
    }

    bool on_key(json::string_view s, std::size_t n, json::error_code&) {
        key_piece(s, n);
        stack_.push_key(s);
        return true;
    }

    bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
        stack_.push_chars(s);
        return true;
    }

    bool on_string(json::string_view s, std::size_t, json::error_code&) {
        stack_.push_string(s);
        return element_done();
    }

    bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
        stack_.push_int64(i);
        return element_done();
    }

    bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
        stack_.push_uint64(u);
        return element_done();
    }

    bool on_double(double d, json::string_view, json::error_code&) {
        stack_.push_double(d);
        return element_done();
    }

    bool on_bool(bool b, json::error_code&) {
        stack_.push_bool(b);
        return element_done();
    }

    bool on_null(json::error_code&) {
        stack_.push_null();
        return element_done();
    }

private:
    // An open container. For an object, `first_key` is the index of its
    // first key in spans_ and `position` that of its current key; for an
    // array, `position` is the index of the element being read.
    struct frame {
        bool array;
        std::size_t first_key;
        std::size_t position;
    };

    void key_piece(json::string_view s, std::size_t n) {
        if (n == s.size()) {  // a key's first piece
            frames_.back().position = spans_.size();
            spans_.emplace_back(keys_.size(), 0);
        }
        keys_.append(s.data(), s.size());
        spans_.back().second = n;
    }

    std::string_view key(std::size_t span) const { return {keys_.data() + spans_[span].first, spans_[span].second}; }

    bool element_done() {
        if (!frames_.empty() && frames_.back().array) ++frames_.back().position;
        return true;
    }

    // Whether the keys of the object being closed are distinct; otherwise
    // sets the message and the error that stops the parser.
    bool keys_unique(json::error_code& ec) {
        const std::size_t first = frames_.back().first_key;
        const std::size_t count = spans_.size() - first;
        std::optional<std::size_t> repeated;
        if (count <= pairwise_keys) {
            for (std::size_t i = first + 1; i < spans_.size() && !repeated; ++i)
                for (std::size_t j = first; j < i; ++j)
                    if (key(i) == key(j)) {
                        repeated = i;
                        break;
                    }
        } else {
            std::vector<std::size_t> order(count);
            for (std::size_t i = 0; i < count; ++i) order[i] = first + i;
            std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return key(a) < key(b); });
            for (std::size_t i = 1; i < count && !repeated; ++i)
                if (key(order[i]) == key(order[i - 1])) repeated = std::max(order[i], order[i - 1]);
        }
        if (!repeated) return true;
        duplicate_ = "duplicate key \"" + std::string(key(*repeated)) + "\" at " + path_to(*repeated);
        ec = json::make_error_code(json::error::syntax);
        return false;
    }

    // The path of the key at `span`, a key of the innermost open object:
    // the enclosing containers' keys and indexes, as the validation writes them.
    std::string path_to(std::size_t span) const {
        std::string path;
        for (std::size_t f = 0; f + 1 < frames_.size(); ++f) {
            if (frames_[f].array) {
                char digits[24];
                const auto end = std::to_chars(digits, digits + sizeof digits, frames_[f].position).ptr;
                path.append("[").append(digits, end).append("]");
            } else {
                if (!path.empty()) path.push_back('.');
                path.append(key(frames_[f].position));
            }
        }
        if (!path.empty()) path.push_back('.');
        path.append(key(span));
        return path;
    }

    json::value_stack stack_;
    std::string keys_;                                       // the open objects' keys, back to back
    std::vector<std::pair<std::size_t, std::size_t>> spans_;  // offset and size of each in keys_
    std::vector<frame> frames_;
    std::string duplicate_;
};

parse_result parse_error(std::size_t offset, std::string message) {
    return {std::nullopt, json_error{offset, std::move(message)}};
}

bool is_blank(std::string_view line) {
    return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

}  // namespace

parse_result parse_json(std::string_view text, json::storage_ptr storage) {
    json::parse_options options;
    options.max_depth = parse_max_depth;
    json::basic_parser<strict_handler> parser(options, std::move(storage));
    json::error_code ec;
    // On error write_some returns the offset where the parser stopped; on
    // success it stops after the value and its trailing whitespace.
    const std::size_t consumed = parser.write_some(false, text.data(), text.size(), ec);
    if (!parser.handler().duplicate().empty()) return parse_error(consumed, parser.handler().duplicate());
    if (ec) return parse_error(consumed, ec.message());
    if (consumed < text.size()) return parse_error(consumed, "unexpected text after the JSON value");
    return {parser.handler().release(), std::nullopt};
}

ndjson_result parse_ndjson(std::string_view text, json::storage_ptr storage) {
    ndjson_result result;
    std::size_t line_start = 0;
    for (std::size_t line_number = 1; line_start <= text.size(); ++line_number) {
        const std::size_t newline = text.find('\n', line_start);
        const std::size_t line_end = newline == std::string_view::npos ? text.size() : newline;
        // A CRLF line's '\r' is JSON whitespace: no special case needed.
        const std::string_view line = text.substr(line_start, line_end - line_start);
        if (!is_blank(line)) {
            auto parsed = parse_json(line, storage);
            if (parsed.error) {
                result.values.clear();
                result.error = json_error{line_start + parsed.error->byte_offset,
                                          "line " + std::to_string(line_number) + ": " + parsed.error->message};
                return result;
            }
            result.values.push_back(std::move(*parsed.value));
        }
        if (newline == std::string_view::npos) break;
        line_start = newline + 1;
    }
    return result;
}

}  // namespace obs::domain
