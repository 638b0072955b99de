// Tests of domain/artifact_name.cpp: the artifact-name rules (traversal,
// separators, control characters, length, encoding) and the UTF-8 checker.
#include "domain/artifact_name.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using obs::domain::artifact_name_problem;
using obs::domain::is_valid_utf8;

BOOST_AUTO_TEST_SUITE(artifact_name_suite)

namespace {

std::string repeat(std::string_view piece, int times) {
    std::string out;
    for (int i = 0; i < times; ++i) out.append(piece);
    return out;
}

}  // namespace

struct name_case {
    std::string name;
    bool valid;
    std::string reason;  // substring of the reason when invalid
};

BOOST_AUTO_TEST_CASE(names) {
    using namespace std::string_literals;
    const name_case cases[] = {
        {"report.pdf", true, ""},
        {"a", true, ""},
        {"...", true, ""},
        {".hidden", true, ""},
        {"a..b", true, ""},
        {"output 1 (final).txt", true, ""},
        {"résumé.txt", true, ""},
        {"日本語のファイル.json", true, ""},
        {"emoji-\xF0\x9F\x98\x80.png", true, ""},
        {std::string(255, 'x'), true, ""},
        {repeat("\xE2\x82\xAC", 85), true, ""},  // 255 bytes of three-byte characters
        {"", false, "empty"},
        {std::string(256, 'x'), false, "255"},
        {repeat("\xE2\x82\xAC", 86), false, "255"},
        {".", false, "'.'"},
        {"..", false, "'..'"},
        {"a/b", false, "'/'"},
        {"../etc/passwd", false, "'/'"},
        {"/abs", false, "'/'"},
        {"a\\b", false, "'\\'"},
        {"..\\windows", false, "'\\'"},
        {"nul\0byte"s, false, "control"},
        {"tab\tname", false, "control"},
        {"line\nbreak", false, "control"},
        {"bell\x07", false, "control"},
        {"del\x7f", false, "control"},
        {"esc\x1b[31m", false, "control"},
        {"bad\xff", false, "UTF-8"},
        {"overlong\xC0\xAF", false, "UTF-8"},
        {"truncated\xE2\x82", false, "UTF-8"},
        {"surrogate\xED\xA0\x80", false, "UTF-8"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("name '" << c.name << "' (" << c.name.size() << " bytes)") {
            const auto problem = artifact_name_problem(c.name);
            BOOST_TEST(!problem.has_value() == c.valid);
            if (problem && !c.valid) BOOST_TEST(problem->find(c.reason) != std::string::npos, *problem);
        }
    }
}

struct utf8_case {
    std::string text;
    bool valid;
};

BOOST_AUTO_TEST_CASE(utf8) {
    const utf8_case cases[] = {
        {"", true},
        {"plain ascii", true},
        {"\xC3\xA9", true},              // é, 2 bytes
        {"\xE2\x82\xAC", true},          // €, 3 bytes
        {"\xF0\x9D\x84\x9E", true},      // U+1D11E, 4 bytes
        {"\xEF\xBF\xBF", true},          // U+FFFF
        {"\xF4\x8F\xBF\xBF", true},      // U+10FFFF, the last code point
        {"\xED\x9F\xBF", true},          // U+D7FF, just below the surrogates
        {"\xEE\x80\x80", true},          // U+E000, just above them
        {"\xC2\x80", true},              // U+0080, smallest 2-byte
        {"\x80", false},                 // continuation without lead
        {"\xBF", false},
        {"\xC3", false},                 // truncated 2-byte
        {"\xE2\x82", false},             // truncated 3-byte
        {"\xF0\x9D\x84", false},         // truncated 4-byte
        {"\xC3\x28", false},             // bad continuation
        {"\xC0\x80", false},             // overlong NUL
        {"\xC1\xBF", false},             // overlong U+007F
        {"\xE0\x80\x80", false},         // overlong 3-byte
        {"\xE0\x9F\xBF", false},         // overlong U+07FF
        {"\xF0\x80\x80\x80", false},     // overlong 4-byte
        {"\xF0\x8F\xBF\xBF", false},     // overlong U+FFFF
        {"\xED\xA0\x80", false},         // U+D800 surrogate
        {"\xED\xBF\xBF", false},         // U+DFFF surrogate
        {"\xF4\x90\x80\x80", false},     // U+110000
        {"\xF5\x80\x80\x80", false},     // beyond Unicode
        {"\xF8\x88\x80\x80\x80", false},  // 5-byte form
        {"\xFE", false},
        {"\xFF", false},
        {"ok then \xC3\xA9\xE2", false},  // valid prefix, truncated tail
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("bytes of '" << c.text << "' (" << c.text.size() << ")") {
            BOOST_TEST(is_valid_utf8(c.text) == c.valid);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
