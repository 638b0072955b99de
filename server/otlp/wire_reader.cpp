// The protobuf wire-format reader (see wire_reader.hpp). Every byte read is
// checked against the end of the message first, so a truncated or lying
// length is an error, never a read past the input.
#include "server/otlp/wire_reader.hpp"

#include <bit>
#include <cstring>
#include <string>

namespace obs::otlp::wire {

namespace {

constexpr std::uint32_t max_field_number = (1u << 29) - 1;

std::uint64_t read_little_endian(const char* p, int bytes) {
    if constexpr (std::endian::native == std::endian::little) {
        std::uint64_t v = 0;  // the low `bytes` bytes, as they lie in memory
        std::memcpy(&v, p, static_cast<std::size_t>(bytes));
        return v;
    }
    std::uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
    return v;
}

}  // namespace

bool reader::read_long_varint(std::uint64_t& value) {
    value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (pos_ >= data_.size()) return fail("truncated varint");
        const auto byte = static_cast<unsigned char>(data_[pos_++]);
        // The tenth byte may carry only the top bit of a 64-bit value.
        if (shift == 63 && byte > 1) return fail("varint longer than 64 bits");
        value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) return true;
    }
    return fail("varint longer than 10 bytes");
}

bool reader::read_field(field& out) {
    std::uint64_t tag = 0;
    if (!read_varint(tag)) return false;
    const std::uint64_t number = tag >> 3;
    if (number == 0 || number > max_field_number) return fail("invalid field number");
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
        out.integer = read_little_endian(data_.data() + pos_, 8);
        pos_ += 8;
        return true;
    case wire_type::fixed32:
        if (data_.size() - pos_ < 4) return fail("truncated fixed32");
        out.integer = read_little_endian(data_.data() + pos_, 4);
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

// Skips the fields of a group up to its end tag. Groups may nest; the depth
// is bounded so hostile input cannot make the skip loop unbounded in state.
bool reader::skip_group(std::uint32_t number) {
    std::uint32_t open[max_group_depth];
    int depth = 0;
    open[depth++] = number;
    field f;
    while (depth > 0) {
        if (pos_ >= data_.size()) return fail("truncated group");
        if (!read_field(f)) return false;
        if (f.type == wire_type::start_group) {
            if (depth == max_group_depth) return fail("groups nested too deep");
            open[depth++] = f.number;
        } else if (f.type == wire_type::end_group) {
            if (open[depth - 1] != f.number) return fail("mismatched end group");
            --depth;
        }
    }
    return true;
}

bool reader::next(field& out) {
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

void append_varint(std::string& out, std::uint64_t value) {
    while (value >= 0x80) {
        out.push_back(static_cast<char>((value & 0x7f) | 0x80));
        value >>= 7;
    }
    out.push_back(static_cast<char>(value));
}

void append_tag(std::string& out, std::uint32_t number, wire_type type) {
    append_varint(out, (static_cast<std::uint64_t>(number) << 3) | static_cast<std::uint8_t>(type));
}

void append_bytes_field(std::string& out, std::uint32_t number, std::string_view bytes) {
    append_tag(out, number, wire_type::length_delimited);
    append_varint(out, bytes.size());
    out.append(bytes);
}

void append_fixed64_field(std::string& out, std::uint32_t number, std::uint64_t value) {
    append_tag(out, number, wire_type::fixed64);
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

}  // namespace obs::otlp::wire
