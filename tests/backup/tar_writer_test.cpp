// Tests of backup/tar_writer.cpp: the ustar header's fields and checksum
// byte by byte, the prefix split of long names, base-256 sizes, the
// writer's size checks, and that GNU tar lists and extracts what it writes.
#include "backup/tar_writer.hpp"

#include "support.hpp"

#include <boost/test/unit_test.hpp>

#include <cstring>

using namespace obs::backup;
using namespace obs::backup::test;

namespace {

std::string field(const std::array<char, tar_block_size>& h, std::size_t at, std::size_t len) {
    return std::string(h.data() + at, len);
}

unsigned checksum_of(std::array<char, tar_block_size> h) {
    std::memset(h.data() + 148, ' ', 8);
    unsigned sum = 0;
    for (char c : h) sum += static_cast<unsigned char>(c);
    return sum;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tar_writer_suite)

BOOST_AUTO_TEST_CASE(header_fields_and_checksum) {
    const auto h = encode_ustar_header(tar_entry{"observability.db", 1000, 1795817045, 0644});
    BOOST_TEST(field(h, 0, 17) == std::string("observability.db\0", 17));
    BOOST_TEST(field(h, 100, 8) == std::string("0000644\0", 8));
    BOOST_TEST(field(h, 108, 8) == std::string("0000000\0", 8));  // uid
    BOOST_TEST(field(h, 116, 8) == std::string("0000000\0", 8));  // gid
    BOOST_TEST(field(h, 124, 12) == std::string("00000001750\0", 12));  // 1000 in octal
    BOOST_TEST(field(h, 136, 12) == std::string("15302377125\0", 12));  // 1795817045 in octal
    BOOST_TEST(h[156] == '0');
    BOOST_TEST(field(h, 257, 6) == std::string("ustar\0", 6));
    BOOST_TEST(field(h, 263, 2) == "00");
    BOOST_TEST(field(h, 345, 155) == std::string(155, '\0'));  // no prefix
    // Checksum: six octal digits, NUL, space; the sum with the field as spaces.
    char expected[8];
    std::snprintf(expected, sizeof expected, "%06o", checksum_of(h));
    BOOST_TEST(field(h, 148, 6) == std::string(expected));
    BOOST_TEST(h[154] == '\0');
    BOOST_TEST(h[155] == ' ');
}

BOOST_AUTO_TEST_CASE(long_names_use_the_prefix_field) {
    struct case_t {
        std::string name;
        std::string prefix;
        std::string rest;
    };
    const std::string dir120(120, 'd');
    const std::string file90(90, 'f');
    const case_t cases[] = {
        {std::string(100, 'n'), "", std::string(100, 'n')},  // exactly 100 fits the name field
        {"artifacts/" + dir120 + "/" + file90, "artifacts/" + dir120, file90},
        {std::string(155, 'p') + "/" + std::string(100, 'r'), std::string(155, 'p'), std::string(100, 'r')},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("name of " << c.name.size() << " bytes") {
            const auto h = encode_ustar_header(tar_entry{c.name, 1, 0, 0644});
            BOOST_TEST(std::string(h.data(), strnlen(h.data(), 100)) == c.rest);
            BOOST_TEST(std::string(h.data() + 345, strnlen(h.data() + 345, 155)) == c.prefix);
        }
    }
}

BOOST_AUTO_TEST_CASE(unrepresentable_names_are_refused) {
    const std::string cases[] = {
        "",
        "/etc/passwd",
        std::string(101, 'x'),                                 // no '/' to split at
        std::string(156, 'p') + "/" + std::string(10, 'r'),   // prefix too long
        std::string(10, 'p') + "/" + std::string(101, 'r'),   // rest too long
    };
    for (const auto& name : cases) {
        BOOST_TEST_CONTEXT("name of " << name.size() << " bytes") {
            BOOST_CHECK_THROW(encode_ustar_header(tar_entry{name, 0, 0, 0644}), tar_error);
        }
    }
}

BOOST_AUTO_TEST_CASE(sizes_past_8_gib_use_base_256) {
    const std::uint64_t ten_gib = 10ULL << 30;
    const auto h = encode_ustar_header(tar_entry{"big", ten_gib, 0, 0644});
    BOOST_TEST(static_cast<unsigned char>(h[124]) == 0x80);
    std::uint64_t v = 0;
    for (int i = 125; i < 136; ++i) v = (v << 8) | static_cast<unsigned char>(h[i]);
    BOOST_TEST(v == ten_gib);
}

BOOST_AUTO_TEST_CASE(padding_and_size_checks) {
    const std::pair<std::uint64_t, std::size_t> pads[] = {{0, 0}, {1, 511}, {511, 1}, {512, 0}, {513, 511}};
    for (const auto& [size, pad] : pads) {
        BOOST_TEST_CONTEXT("size " << size) { BOOST_TEST(tar_padding(size) == pad); }
    }
    std::string out;
    tar_writer w([&](const char* d, std::size_t n) { out.append(d, n); });
    w.begin_member(tar_entry{"a", 3, 0, 0644});
    BOOST_CHECK_THROW(w.write("abcd", 4), tar_error);  // past the declared size
    w.write("ab", 2);
    BOOST_CHECK_THROW(w.end_member(), tar_error);      // short
    w.write("c", 1);
    w.end_member();
    w.finish();
    BOOST_TEST(out.size() == 512 + 512 + 1024);
    BOOST_TEST(w.bytes_written() == out.size());
}

BOOST_AUTO_TEST_CASE(gnu_tar_lists_and_extracts_it) {
    temp_dir dir;
    struct member {
        std::string name;
        std::string content;
    };
    const std::vector<member> members = {
        {"observability.db", random_bytes(70000, 1)},
        {"empty", ""},
        {"block", std::string(512, 'b')},
        {"artifacts/sha256/" + std::string(100, 'a') + "/" + std::string(64, 'f'), "artifact body"},
        {"manifest.json", R"({"format_version":1})"},
    };
    std::string archive;
    tar_writer w([&](const char* d, std::size_t n) { archive.append(d, n); });
    for (const auto& m : members) {
        w.begin_member(tar_entry{m.name, m.content.size(), 1795817045, 0644});
        w.write(m.content.data(), m.content.size());
        w.end_member();
    }
    w.finish();
    write_file(dir / "a.tar", archive);

    const command_result list = run_command("tar tf " + shell_quote(dir / "a.tar"));
    BOOST_TEST_REQUIRE(list.status == 0, list.output);
    std::string expected;
    for (const auto& m : members) expected += m.name + "\n";
    BOOST_TEST(list.output == expected);

    run_command("mkdir -p " + shell_quote(dir / "x"));
    const command_result extract = run_command("tar xf " + shell_quote(dir / "a.tar") + " -C " + shell_quote(dir / "x"));
    BOOST_TEST_REQUIRE(extract.status == 0, extract.output);
    for (const auto& m : members) {
        BOOST_TEST_CONTEXT(m.name) { BOOST_TEST((read_file(dir / ("x/" + m.name)) == m.content)); }
    }
}

BOOST_AUTO_TEST_SUITE_END()
