// A trace or span id of a decoded span as lower-case hex text, held inside
// the span: ids are 32 (trace) or 16 (span) digits, so decoding a span
// allocates nothing for its three ids (as std::string each was a heap
// allocation and a free per id, a tenth of the OTLP route's allocations).
// Text longer than 32 characters, which no valid id is, is kept only as
// "too long": its size() is then past every valid length and span_mapper
// rejects the span as it would the whole text.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string_view>

namespace obs::otlp {

class id_text {
public:
    static constexpr std::size_t capacity = 32;

    id_text() = default;
    // Implicit both ways, as the std::string it replaced: tests assign
    // text, the mapper reads views.
    id_text(std::string_view text) { assign_lower(text); }
    id_text& operator=(std::string_view text) {
        assign_lower(text);
        return *this;
    }

    // `text` lower-cased: ids in OTLP JSON are hex text, and case must not
    // split a run.
    void assign_lower(std::string_view text) {
        if (!fits(text.size())) return;
        for (std::size_t i = 0; i < text.size(); ++i) {
            const char c = text[i];
            digits_[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
        }
    }
    // The lower-case hex of `bytes`: ids in protobuf are raw bytes.
    void assign_hex(std::string_view bytes) {
        static constexpr char hex[] = "0123456789abcdef";
        if (!fits(bytes.size() * 2)) return;
        for (std::size_t i = 0; i < bytes.size(); ++i) {
            const auto b = static_cast<unsigned char>(bytes[i]);
            digits_[2 * i] = hex[b >> 4];
            digits_[2 * i + 1] = hex[b & 0x0f];
        }
    }

    bool too_long() const { return too_long_; }
    bool empty() const { return size_ == 0 && !too_long_; }
    // The text's length; capacity + 1 when it was too long.
    std::size_t size() const { return too_long_ ? capacity + 1 : size_; }
    // The text (empty when it was too long).
    std::string_view view() const { return {digits_.data(), size_}; }
    operator std::string_view() const { return view(); }

    friend bool operator==(const id_text& a, std::string_view b) { return !a.too_long_ && a.view() == b; }
    friend std::ostream& operator<<(std::ostream& out, const id_text& id) {
        return id.too_long_ ? out << "(too long)" : out << id.view();
    }

private:
    // Sets the size for `n` characters; false (and too long) past capacity.
    bool fits(std::size_t n) {
        too_long_ = n > capacity;
        size_ = too_long_ ? 0 : static_cast<std::uint8_t>(n);
        return !too_long_;
    }

    std::array<char, capacity> digits_{};
    std::uint8_t size_ = 0;
    bool too_long_ = false;
};

}  // namespace obs::otlp
