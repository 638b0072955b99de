// The SHA-256 block function on the x86 SHA extensions (see
// sha256_blocks.hpp). The eight state words live in two registers laid out
// as the instructions want them, {A,B,E,F} and {C,D,G,H}; each
// sha256rnds2 runs two rounds, so four message words take two of them. The
// message schedule keeps four registers of four words in a ring: msg1 and
// msg2 extend it three groups ahead of its use, as Intel's description of
// the instructions lays out.
#include "domain/sha256_blocks.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#endif

namespace obs::domain::detail {

#if defined(__x86_64__) || defined(__i386__)

__attribute__((target("sha,sse4.1,ssse3"))) void sha256_blocks_shani(sha256_state& state,
                                                                     const std::uint8_t* blocks,
                                                                     std::size_t count) {
    // Message words are big-endian: reverse the bytes of each 32-bit lane.
    const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    // {A,B,C,D} and {E,F,G,H} (lane 0 first) into {F,E,B,A} and {H,G,D,C},
    // the lane order sha256rnds2 reads (A in the highest lane).
    const __m128i abcd = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&state[0]));
    const __m128i efgh = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&state[4]));
    const __m128i badc = _mm_shuffle_epi32(abcd, 0xB1);
    const __m128i hgfe = _mm_shuffle_epi32(efgh, 0x1B);
    __m128i abef = _mm_alignr_epi8(badc, hgfe, 8);
    __m128i cdgh = _mm_blend_epi16(hgfe, badc, 0xF0);

    for (; count > 0; --count, blocks += 64) {
        const __m128i abef_before = abef;
        const __m128i cdgh_before = cdgh;
        __m128i w[4];
        for (int group = 0; group < 16; ++group) {  // four rounds a group
            __m128i& current = w[group % 4];
            if (group < 4) {
                current = _mm_shuffle_epi8(
                    _mm_loadu_si128(reinterpret_cast<const __m128i*>(blocks + 16 * group)), byte_swap);
            }
            __m128i k_plus_w = _mm_add_epi32(
                current, _mm_loadu_si128(reinterpret_cast<const __m128i*>(&sha256_round_constants[4 * group])));
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, k_plus_w);
            if (group >= 3 && group < 15) {
                // Words of group+1: W[t-16] + sigma0 part (msg1, done earlier)
                // + W[t-7] (the alignr) then sigma1 of W[t-2] (msg2).
                __m128i& next = w[(group + 1) % 4];
                const __m128i w_minus_7 = _mm_alignr_epi8(current, w[(group + 3) % 4], 4);
                next = _mm_sha256msg2_epu32(_mm_add_epi32(next, w_minus_7), current);
            }
            k_plus_w = _mm_shuffle_epi32(k_plus_w, 0x0E);  // the group's upper two words
            abef = _mm_sha256rnds2_epu32(abef, cdgh, k_plus_w);
            if (group >= 1 && group < 13) {
                __m128i& previous = w[(group + 3) % 4];
                previous = _mm_sha256msg1_epu32(previous, current);
            }
        }
        abef = _mm_add_epi32(abef, abef_before);
        cdgh = _mm_add_epi32(cdgh, cdgh_before);
    }

    // Back to {A,B,C,D} and {E,F,G,H}.
    const __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
    const __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(&state[0]), _mm_blend_epi16(feba, dchg, 0xF0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(&state[4]), _mm_alignr_epi8(dchg, feba, 8));
}

bool sha256_extensions_available() {
    static const bool available = [] {
        unsigned a = 0, b = 0, c = 0, d = 0;
        if (__get_cpuid(1, &a, &b, &c, &d) == 0) return false;
        const bool ssse3 = (c & (1u << 9)) != 0;
        const bool sse41 = (c & (1u << 19)) != 0;
        if (__get_cpuid_count(7, 0, &a, &b, &c, &d) == 0) return false;
        const bool sha = (b & (1u << 29)) != 0;
        return ssse3 && sse41 && sha;
    }();
    return available;
}

#else

void sha256_blocks_shani(sha256_state&, const std::uint8_t*, std::size_t) {}
bool sha256_extensions_available() { return false; }

#endif

}  // namespace obs::domain::detail
