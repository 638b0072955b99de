// A bounds-checked reader of the protobuf wire format (varint, fixed64,
// length-delimited, fixed32; groups only to skip them), enough to decode
// the few OTLP messages this server reads. It knows no message: the
// decoders in protobuf_decoder.cpp ask it for one field at a time and check
// each field's wire type against the OTLP .proto files.
//
// Why our own reader rather than Debian's libprotobuf: the OTLP .proto files
// are not packaged, so libprotobuf would bring protoc and generated code into
// the build for twelve read-only messages, plus a new apt dependency; its
// parser would also build a full message tree before we could bound what a
// request holds (spans, attributes, nesting), which we check while reading.
// This reader is about a hundred lines, allocates nothing, and is fuzzed
// (tests/fuzz/otlp_fuzz.cpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace obs::otlp::wire {

enum class wire_type : std::uint8_t {
    varint = 0,
    fixed64 = 1,
    length_delimited = 2,
    start_group = 3,  // deprecated; skipped, never expected
    end_group = 4,
    fixed32 = 5,
};

// One field as read: its number, wire type and value. For varint, fixed64
// and fixed32 the value is in `integer` (fixed32 zero-extended); for
// length-delimited it is `bytes`, a view into the reader's input.
struct field {
    std::uint32_t number = 0;
    wire_type type = wire_type::varint;
    std::uint64_t integer = 0;
    std::string_view bytes;
};

// A cursor over the bytes of one message. Not thread-safe; the input must
// outlive the reader and every field's `bytes`.
class reader {
public:
    explicit reader(std::string_view message) : data_(message) {}

    // Reads the next field into `out`. Returns false at the end of the
    // message and on malformed input; error() tells which (nullptr at a clean
    // end). A group is skipped whole (its fields bounded by
    // max_group_depth) and never returned.
    bool next(field& out);

    // Why reading stopped, or nullptr when the message ended cleanly.
    const char* error() const { return error_; }

    static constexpr int max_group_depth = 32;

private:
    // Inline for the one-byte case (tags, lengths and most enum values fit
    // in seven bits), which made reading a span's fields a quarter cheaper.
    bool read_varint(std::uint64_t& value) {
        if (pos_ < data_.size() && static_cast<unsigned char>(data_[pos_]) < 0x80) {
            value = static_cast<unsigned char>(data_[pos_++]);
            return true;
        }
        return read_long_varint(value);
    }
    bool read_long_varint(std::uint64_t& value);
    bool read_field(field& out);
    bool skip_group(std::uint32_t number);
    bool fail(const char* why) {
        error_ = why;
        return false;
    }

    std::string_view data_;
    std::size_t pos_ = 0;
    const char* error_ = nullptr;
};

// Appends `value` as a varint (used by the response encoder and the tests).
void append_varint(std::string& out, std::uint64_t value);
// Appends the tag of field `number` with wire type `type`.
void append_tag(std::string& out, std::uint32_t number, wire_type type);
// Appends a length-delimited field: tag, length, bytes.
void append_bytes_field(std::string& out, std::uint32_t number, std::string_view bytes);
// Appends a fixed64 field, little-endian.
void append_fixed64_field(std::string& out, std::uint32_t number, std::uint64_t value);

}  // namespace obs::otlp::wire
