// Artifact-name and UTF-8 checks. Names become file names on disk, so the
// rules exclude everything that could leave the run's folder (`/`, `\`,
// `.`, `..`) or confuse a terminal or a log (control characters).
#include "domain/artifact_name.hpp"

#include <cstdint>
#include <cstring>

namespace obs::domain {

bool is_valid_utf8(std::string_view text) {
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const auto* end = p + text.size();
    while (p < end) {
        // Eight ASCII bytes at a time: most text (ids, attribute keys and
        // values of OTLP spans, which are all checked) is ASCII only.
        std::uint64_t word;
        if (end - p >= 8 && (std::memcpy(&word, p, 8), (word & 0x8080808080808080ull) == 0)) {
            p += 8;
            continue;
        }
        const unsigned char lead = *p;
        if (lead < 0x80) {
            ++p;
            continue;
        }
        // The sequence length and the smallest code point it may encode
        // (anything smaller is an overlong form).
        int length = 0;
        std::uint32_t code_point = 0;
        std::uint32_t minimum = 0;
        if ((lead & 0xe0) == 0xc0) {
            length = 2;
            code_point = lead & 0x1f;
            minimum = 0x80;
        } else if ((lead & 0xf0) == 0xe0) {
            length = 3;
            code_point = lead & 0x0f;
            minimum = 0x800;
        } else if ((lead & 0xf8) == 0xf0) {
            length = 4;
            code_point = lead & 0x07;
            minimum = 0x10000;
        } else {
            return false;  // a continuation byte without a lead, or 0xf8-0xff
        }
        if (end - p < length) return false;
        for (int i = 1; i < length; ++i) {
            if ((p[i] & 0xc0) != 0x80) return false;
            code_point = (code_point << 6) | (p[i] & 0x3f);
        }
        if (code_point < minimum || code_point > 0x10ffff) return false;
        if (code_point >= 0xd800 && code_point <= 0xdfff) return false;
        p += length;
    }
    return true;
}

std::optional<std::string> artifact_name_problem(std::string_view name) {
    if (name.empty()) return "is empty";
    if (name.size() > max_artifact_name_length) return "is longer than 255 bytes";
    if (name == "." || name == "..") return "must not be '.' or '..'";
    for (const char c : name) {
        if (c == '/') return "contains '/'";
        if (c == '\\') return "contains '\\'";
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f) return "contains a control character";
    }
    if (!is_valid_utf8(name)) return "is not valid UTF-8";
    return std::nullopt;
}

}  // namespace obs::domain
