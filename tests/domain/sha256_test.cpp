// Tests of domain/sha256.cpp: the FIPS 180-4 / NIST example vectors, the
// padding boundaries around one block, and incremental updates split at
// random points giving the same digest as one call.
#include "domain/sha256.hpp"

#include <boost/test/unit_test.hpp>

#include <random>
#include <string>

using obs::domain::sha256;
using obs::domain::sha256_hex;

BOOST_AUTO_TEST_SUITE(sha256_suite)

struct vector_case {
    std::string input;
    std::string digest;
};

BOOST_AUTO_TEST_CASE(standard_vectors) {
    const vector_case cases[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
        {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopq"
         "rstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
        {std::string(1'000'000, 'a'), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
        // Padding boundaries: the length fits in the last block (55), just
        // does not (56), and whole or nearly whole blocks.
        {std::string(55, 'a'), "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
        {std::string(56, 'a'), "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
        {std::string(63, 'a'), "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
        {std::string(64, 'a'), "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
        {std::string(65, 'a'), "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("input of " << c.input.size() << " bytes: " << c.input.substr(0, 16)) {
            BOOST_TEST(sha256_hex(c.input) == c.digest);
        }
    }
}

BOOST_AUTO_TEST_CASE(binary_digest_matches_hex) {
    sha256 h;
    h.update("abc");
    const auto digest = h.finish();
    BOOST_TEST(digest[0] == 0xba);
    BOOST_TEST(digest[1] == 0x78);
    BOOST_TEST(digest[31] == 0xad);
}

BOOST_AUTO_TEST_CASE(million_a_in_random_pieces) {
    std::mt19937 rng(12345);
    std::uniform_int_distribution<std::size_t> piece(0, 200);
    const std::string input(1'000'000, 'a');
    sha256 h;
    std::size_t done = 0;
    while (done < input.size()) {
        const std::size_t n = std::min(piece(rng), input.size() - done);
        h.update(input.data() + done, n);
        done += n;
    }
    BOOST_TEST(h.finish_hex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

BOOST_AUTO_TEST_CASE(random_splits_match_one_call) {
    std::mt19937 rng(777);
    for (int round = 0; round < 50; ++round) {
        std::string data(std::uniform_int_distribution<std::size_t>(0, 600)(rng), '\0');
        for (auto& c : data) c = static_cast<char>(rng());
        const std::string expected = sha256_hex(data);
        sha256 h;
        std::size_t done = 0;
        while (done < data.size()) {
            const std::size_t n = std::min<std::size_t>(std::uniform_int_distribution<std::size_t>(0, 130)(rng),
                                                        data.size() - done);
            h.update(std::string_view(data).substr(done, n));
            done += n;
        }
        BOOST_TEST_CONTEXT("round " << round << ", " << data.size() << " bytes") {
            BOOST_TEST(h.finish_hex() == expected);
        }
    }
}

BOOST_AUTO_TEST_CASE(different_inputs_differ) {
    BOOST_TEST(sha256_hex("abc") != sha256_hex("abd"));
    BOOST_TEST(sha256_hex(std::string(1, '\0')) != sha256_hex(""));
}

BOOST_AUTO_TEST_SUITE_END()
