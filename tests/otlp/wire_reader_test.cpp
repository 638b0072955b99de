// Tests of server/otlp/wire_reader: every wire type read back from bytes
// written by hand, and a table of malformed messages that must stop the
// reader with an error instead of reading past the input.
#include "server/otlp/wire_reader.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

namespace wire = obs::otlp::wire;
using namespace std::string_literals;

BOOST_AUTO_TEST_SUITE(wire_reader_suite)

BOOST_AUTO_TEST_CASE(reads_every_wire_type) {
    std::string m;
    wire::append_tag(m, 1, wire::wire_type::varint);
    wire::append_varint(m, 300);
    wire::append_tag(m, 2, wire::wire_type::varint);
    wire::append_varint(m, UINT64_MAX);  // ten bytes
    wire::append_fixed64_field(m, 3, 0x0102030405060708ull);
    wire::append_tag(m, 4, wire::wire_type::fixed32);
    m += "\x78\x56\x34\x12"s;
    wire::append_bytes_field(m, 536870911, "abc");  // the largest field number
    wire::append_bytes_field(m, 6, "");
    wire::reader r(m);
    wire::field f;
    struct expected {
        std::uint32_t number;
        wire::wire_type type;
        std::uint64_t integer;
        std::string bytes;
    };
    const std::vector<expected> want = {
        {1, wire::wire_type::varint, 300, ""},
        {2, wire::wire_type::varint, UINT64_MAX, ""},
        {3, wire::wire_type::fixed64, 0x0102030405060708ull, ""},
        {4, wire::wire_type::fixed32, 0x12345678, ""},
        {536870911, wire::wire_type::length_delimited, 0, "abc"},
        {6, wire::wire_type::length_delimited, 0, ""},
    };
    for (const auto& w : want) {
        BOOST_TEST_CONTEXT("field " << w.number) {
            BOOST_TEST_REQUIRE(r.next(f));
            BOOST_TEST(f.number == w.number);
            BOOST_TEST((f.type == w.type));
            BOOST_TEST(f.integer == w.integer);
            BOOST_TEST(std::string(f.bytes) == w.bytes);
        }
    }
    BOOST_TEST(!r.next(f));
    BOOST_TEST(r.error() == nullptr);
}

BOOST_AUTO_TEST_CASE(empty_message_ends_cleanly) {
    wire::reader r("");
    wire::field f;
    BOOST_TEST(!r.next(f));
    BOOST_TEST(r.error() == nullptr);
}

BOOST_AUTO_TEST_CASE(groups_are_skipped_whole) {
    // field 1 varint 7, group 2 { field 3 varint 1, group 4 { } }, field 5 varint 9
    const std::string m = "\x08\x07"s + "\x13"s + "\x18\x01"s + "\x23\x24"s + "\x14"s + "\x28\x09"s;
    wire::reader r(m);
    wire::field f;
    BOOST_TEST_REQUIRE(r.next(f));
    BOOST_TEST(f.number == 1u);
    BOOST_TEST_REQUIRE(r.next(f));
    BOOST_TEST(f.number == 5u);
    BOOST_TEST(f.integer == 9u);
    BOOST_TEST(!r.next(f));
    BOOST_TEST(r.error() == nullptr);
}

BOOST_AUTO_TEST_CASE(malformed_messages_stop_with_an_error) {
    std::string deep_groups;
    for (int i = 0; i < wire::reader::max_group_depth + 1; ++i) deep_groups += "\x0b"s;  // start group 1
    struct bad_case {
        std::string name;
        std::string bytes;
        std::string error;
    };
    const std::vector<bad_case> cases = {
        {"truncated tag", "\x80"s, "truncated varint"},
        {"truncated varint value", "\x08\xff\xff"s, "truncated varint"},
        {"varint of 11 bytes", "\x08"s + std::string(10, '\xff') + "\x01"s, "varint longer than 64 bits"},
        {"tenth varint byte above 1", "\x08"s + std::string(9, '\xff') + "\x02"s, "varint longer than 64 bits"},
        {"field number 0", "\x00\x01"s, "invalid field number"},
        {"field number past 2^29-1", "\x80\x80\x80\x80\x20"s, "invalid field number"},
        {"wire type 6", "\x0e"s, "invalid wire type"},
        {"wire type 7", "\x0f"s, "invalid wire type"},
        {"truncated fixed64", "\x09\x01\x02\x03"s, "truncated fixed64"},
        {"truncated fixed32", "\x0d\x01\x02"s, "truncated fixed32"},
        {"length past the end", "\x0a\x05"s + "abc", "runs past the end"},
        {"huge length", "\x0a\xff\xff\xff\xff\xff\xff\xff\xff\x7f"s, "runs past the end"},
        {"end group without start", "\x0c"s, "end group without a start"},
        {"unterminated group", "\x0b\x08\x01"s, "truncated group"},
        {"mismatched end group", "\x0b\x14"s, "mismatched end group"},
        {"groups nested too deep", deep_groups, "nested too deep"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.name) {
            wire::reader r(c.bytes);
            wire::field f;
            int fields = 0;
            while (r.next(f) && fields < 100) ++fields;
            BOOST_TEST_REQUIRE(r.error() != nullptr);
            BOOST_TEST(std::string(r.error()).find(c.error) != std::string::npos, r.error());
        }
    }
}

BOOST_AUTO_TEST_CASE(varints_round_trip) {
    for (const std::uint64_t v : std::initializer_list<std::uint64_t>{0, 1, 127, 128, 16383, 16384, 0xffffffff, UINT64_MAX - 1}) {
        BOOST_TEST_CONTEXT(v) {
            std::string m;
            wire::append_tag(m, 7, wire::wire_type::varint);
            wire::append_varint(m, v);
            wire::reader r(m);
            wire::field f;
            BOOST_TEST_REQUIRE(r.next(f));
            BOOST_TEST(f.integer == v);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
