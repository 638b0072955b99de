// Tests of domain/sha256_blocks.hpp: the SHA-extensions block function gives
// the portable one's state for random states and runs of 1-40 blocks (the
// digests of sha256_test.cpp go through whichever this CPU uses), and the
// portable one alone reproduces FIPS 180-4's "abc" example.
#include "domain/sha256_blocks.hpp"

#include <boost/test/unit_test.hpp>

#include <random>
#include <vector>

using namespace obs::domain::detail;

BOOST_AUTO_TEST_SUITE(sha256_blocks_suite)

BOOST_AUTO_TEST_CASE(portable_blocks_give_the_abc_digest) {
    // "abc" padded to one block: 0x80, zeros, then the bit length 24.
    std::uint8_t block[64] = {'a', 'b', 'c', 0x80};
    block[63] = 24;
    sha256_state state = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                          0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    sha256_blocks_portable(state, block, 1);
    const sha256_state expected = {0xba7816bf, 0x8f01cfea, 0x414140de, 0x5dae2223,
                                   0xb00361a3, 0x96177a9c, 0xb410ff61, 0xf20015ad};
    BOOST_TEST(state == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(extensions_match_the_portable_blocks,
                     *boost::unit_test::precondition([](boost::unit_test::test_unit_id) {
                         return sha256_extensions_available();
                     })) {
    std::mt19937_64 rng(20261128);
    for (std::size_t blocks = 1; blocks <= 40; ++blocks) {
        BOOST_TEST_CONTEXT(blocks << " blocks") {
            std::vector<std::uint8_t> data(64 * blocks);
            for (auto& byte : data) byte = static_cast<std::uint8_t>(rng());
            sha256_state portable;
            for (auto& word : portable) word = static_cast<std::uint32_t>(rng());
            sha256_state extensions = portable;
            sha256_blocks_portable(portable, data.data(), blocks);
            sha256_blocks_shani(extensions, data.data(), blocks);
            BOOST_TEST(extensions == portable, boost::test_tools::per_element());
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
