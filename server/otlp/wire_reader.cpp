// The protobuf wire-format reader (see wire_reader.hpp). Every byte read is
// checked against the end of the message first, so a truncated or lying
// length is an error, never a read past the input.
#include "server/otlp/wire_reader.hpp"

#include <string>

namespace obs::otlp::wire {

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
