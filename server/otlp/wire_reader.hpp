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

#include <bit>
#include <cstdint>
#include <cstring>
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

// next() and read_field() are inline: the decoders call them for every
// field (about fifty per span), and the call was a tenth of decoding.
namespace detail {

inline constexpr std::uint32_t max_field_number = (1u << 29) - 1;

inline std::uint64_t read_little_endian(const char* p, int bytes) {
    if constexpr (std::endian::native == std::endian::little) {
        std::uint64_t v = 0;  // the low `bytes` bytes, as they lie in memory
        std::memcpy(&v, p, static_cast<std::size_t>(bytes));
        return v;
    }
    std::uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
    return v;
}

}  // namespace detail

inline bool reader::read_field(field& out) {
    std::uint64_t tag = 0;
    if (!read_varint(tag)) return false;
    const std::uint64_t number = tag >> 3;
    if (number == 0 || number > detail::max_field_number) return fail("invalid field number");
    out.number = static_cast<std::uint32_t>(number);
    const auto type = static_cast<std::uint8_t>(tag & 7);
    if (type > 5) return fail("invalid wire type");
    out.type = static_cast<wire_type>(type);
    out.integer = 0;
    out.bytes = {};
    switch (out.type) {
    case wire_type::varint: return read_varint(out.integer);
    case wire_type::fixed64:
        if (data_.size() - pos_ < 8) return fail("truncated fixed64");
        out.integer = detail::read_little_endian(data_.data() + pos_, 8);
        pos_ += 8;
        return true;
    case wire_type::fixed32:
        if (data_.size() - pos_ < 4) return fail("truncated fixed32");
        out.integer = detail::read_little_endian(data_.data() + pos_, 4);
        pos_ += 4;
        return true;
    case wire_type::length_delimited: {
        std::uint64_t length = 0;
        if (!read_varint(length)) return false;
        if (length > data_.size() - pos_) return fail("length-delimited field runs past the end of its message");
        out.bytes = data_.substr(pos_, static_cast<std::size_t>(length));
        pos_ += static_cast<std::size_t>(length);
        return true;
    }
    case wire_type::start_group:
    case wire_type::end_group: return true;
    }
    return fail("invalid wire type");
}

inline bool reader::next(field& out) {
    while (error_ == nullptr && pos_ < data_.size()) {
        if (!read_field(out)) return false;
        if (out.type == wire_type::end_group) return fail("end group without a start");
        if (out.type == wire_type::start_group) {
            if (!skip_group(out.number)) return false;
            continue;
        }
        return true;
    }
    return false;
}

// Appends `value` as a varint (used by the response encoder and the tests).
void append_varint(std::string& out, std::uint64_t value);
// Appends the tag of field `number` with wire type `type`.
void append_tag(std::string& out, std::uint32_t number, wire_type type);
// Appends a length-delimited field: tag, length, bytes.
void append_bytes_field(std::string& out, std::uint32_t number, std::string_view bytes);
// Appends a fixed64 field, little-endian.
void append_fixed64_field(std::string& out, std::uint32_t number, std::uint64_t value);

}  // namespace obs::otlp::wire
