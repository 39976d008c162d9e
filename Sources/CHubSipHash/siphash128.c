/*
 * SipHash-2-4-128 over pre-built message words: four messages per AVX2 register set (two sets
 * at a time, their rounds interleaved), or one at a time in portable C. Written from the
 * SipHash paper (Aumasson & Bernstein, "SipHash: a fast short-input PRF", 2012: state,
 * SipRound, c = 2 compression and d = 4 finalisation rounds) and its 128-bit output mode
 * (v1 ^= 0xee at keying, v2 ^= 0xee before the first finalisation, v1 ^= 0xdd before the
 * second). Interface and word layout: CHubSipHash.h.
 */
#include "CHubSipHash.h"

/* "somepseudorandomlygeneratedbytes", the paper's initialisation constants. */
#define SIP_C0 0x736f6d6570736575ULL
#define SIP_C1 0x646f72616e646f6dULL
#define SIP_C2 0x6c7967656e657261ULL
#define SIP_C3 0x7465646279746573ULL

/* ---------------------------------------------------------------- portable, one message */

#define ROTL64(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

#define SIP_ROUND(v0, v1, v2, v3)                                                           \
    do {                                                                                    \
        v0 += v1; v1 = ROTL64(v1, 13); v1 ^= v0; v0 = ROTL64(v0, 32);                      \
        v2 += v3; v3 = ROTL64(v3, 16); v3 ^= v2;                                            \
        v0 += v3; v3 = ROTL64(v3, 21); v3 ^= v0;                                            \
        v2 += v1; v1 = ROTL64(v1, 17); v1 ^= v2; v2 = ROTL64(v2, 32);                       \
    } while (0)

static void sip128_one(uint64_t k0, uint64_t k1, const uint64_t *m, uint32_t n, uint64_t *out) {
    uint64_t v0 = k0 ^ SIP_C0, v1 = k1 ^ SIP_C1 ^ 0xee, v2 = k0 ^ SIP_C2, v3 = k1 ^ SIP_C3;
    for (uint32_t j = 0; j < n; j++) {
        v3 ^= m[j];
        SIP_ROUND(v0, v1, v2, v3);
        SIP_ROUND(v0, v1, v2, v3);
        v0 ^= m[j];
    }
    v2 ^= 0xee;
    for (int r = 0; r < 4; r++) SIP_ROUND(v0, v1, v2, v3);
    out[0] = v0 ^ v1 ^ v2 ^ v3;
    v1 ^= 0xdd;
    for (int r = 0; r < 4; r++) SIP_ROUND(v0, v1, v2, v3);
    out[1] = v0 ^ v1 ^ v2 ^ v3;
}

static void sip128_words_portable(uint64_t k0, uint64_t k1, const uint64_t *words, const uint32_t *firsts,
                                  const uint32_t *counts, size_t count, uint64_t *digests) {
    for (size_t i = 0; i < count; i++) {
        if (counts[i] != 0) sip128_one(k0, k1, words + firsts[i], counts[i], digests + 2 * i);
    }
}

static void sip128_finals_portable(uint64_t k0, uint64_t k1, const uint64_t *finals, size_t count,
                                   uint64_t *digests) {
    for (size_t i = 0; i < count; i++) sip128_one(k0, k1, finals + i, 1, digests + 2 * i);
}

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

/* ------------------------------------------------------------- AVX2, four messages at once */

#define CHUB_AVX2 __attribute__((target("avx2")))

/* Rotations of each 64-bit lane: by 13, 17, 21 with two shifts and an OR (AVX2 has no vector
   rotate); by 16 with one byte shuffle; by 32 with one dword shuffle (swap the halves). */
#define ROTL_V(x, b) _mm256_or_si256(_mm256_slli_epi64((x), (b)), _mm256_srli_epi64((x), 64 - (b)))
#define ROT32_V(x) _mm256_shuffle_epi32((x), 0xB1)

/* The rot16 byte shuffle, hidden from the optimiser: given the constant, clang splits the
   one vpshufb into vpshuflw + vpshufhw (two instructions per SipRound). */
#define ROT16_MASK(name)                                                                    \
    __m256i name = _mm256_setr_epi8(6, 7, 0, 1, 2, 3, 4, 5, 14, 15, 8, 9, 10, 11, 12, 13,   \
                                    6, 7, 0, 1, 2, 3, 4, 5, 14, 15, 8, 9, 10, 11, 12, 13);  \
    __asm__("" : "+x"(name))

/* (lo, hi) of four lanes as the pairs lo0 hi0 lo1 hi1 (`first`) and lo2 hi2 lo3 hi3 (`second`). */
#define SIP_PAIRS_V(lo, hi, first, second)                                                  \
    do {                                                                                    \
        __m256i even_ = _mm256_unpacklo_epi64(lo, hi); /* lo0 hi0 lo2 hi2 */                \
        __m256i odd_ = _mm256_unpackhi_epi64(lo, hi);  /* lo1 hi1 lo3 hi3 */                \
        first = _mm256_permute2x128_si256(even_, odd_, 0x20);                               \
        second = _mm256_permute2x128_si256(even_, odd_, 0x31);                              \
    } while (0)

/* The same SipRound on four states; steps reordered so the two halves' independent chains
   interleave (every dependency of SIP_ROUND is kept). */
#define SIP_ROUND_V(v0, v1, v2, v3, rot16)                                                  \
    do {                                                                                    \
        v0 = _mm256_add_epi64(v0, v1); v2 = _mm256_add_epi64(v2, v3);                       \
        v1 = ROTL_V(v1, 13); v3 = _mm256_shuffle_epi8(v3, rot16);                           \
        v1 = _mm256_xor_si256(v1, v0); v3 = _mm256_xor_si256(v3, v2);                       \
        v0 = ROT32_V(v0);                                                                   \
        v2 = _mm256_add_epi64(v2, v1); v0 = _mm256_add_epi64(v0, v3);                       \
        v1 = ROTL_V(v1, 17); v3 = ROTL_V(v3, 21);                                           \
        v1 = _mm256_xor_si256(v1, v2); v3 = _mm256_xor_si256(v3, v0);                       \
        v2 = ROT32_V(v2);                                                                   \
    } while (0)

/* The last SipRound when only v0 ^ v1 ^ v2 ^ v3 after it is needed: v0's last add and
   rotation cancel out of the sum (v3 ends xored with v0, v0 is in the sum), which leaves
   r17(v1) ^ r21(v3) ^ v2 ^ r32(v2) of the mid-round states. */
#define SIP_LAST_ROUND_SUM_V(v0, v1, v2, v3, rot16, sum)                                     \
    do {                                                                                    \
        v0 = _mm256_add_epi64(v0, v1); v2 = _mm256_add_epi64(v2, v3);                       \
        v1 = ROTL_V(v1, 13); v3 = _mm256_shuffle_epi8(v3, rot16);                           \
        v1 = _mm256_xor_si256(v1, v0); v3 = _mm256_xor_si256(v3, v2);                       \
        v2 = _mm256_add_epi64(v2, v1);                                                      \
        sum = _mm256_xor_si256(_mm256_xor_si256(ROTL_V(v1, 17), ROTL_V(v3, 21)),            \
                               _mm256_xor_si256(v2, ROT32_V(v2)));                          \
    } while (0)

/* One message word `w` absorbed (two rounds) into the lanes set in `active`; the other lanes
   keep their state (a lane past its last word). */
#define SIP_MASKED_BLOCK_V(v0, v1, v2, v3, w, active, rot16)                                 \
    do {                                                                                     \
        __m256i n0 = (v0), n1 = (v1), n2 = (v2), n3 = _mm256_xor_si256((v3), (w));           \
        SIP_ROUND_V(n0, n1, n2, n3, rot16);                                                  \
        SIP_ROUND_V(n0, n1, n2, n3, rot16);                                                  \
        n0 = _mm256_xor_si256(n0, (w));                                                      \
        (v0) = _mm256_blendv_epi8((v0), n0, (active));                                       \
        (v1) = _mm256_blendv_epi8((v1), n1, (active));                                       \
        (v2) = _mm256_blendv_epi8((v2), n2, (active));                                       \
        (v3) = _mm256_blendv_epi8((v3), n3, (active));                                       \
    } while (0)

/* SipHash-2-4-128's finalisation on four states: 0xee into v2, four rounds, the first half
   `lo`; 0xdd into v1, four rounds, the second half `hi` (64 bits per lane each). */
#define SIP_FINISH_V(v0, v1, v2, v3, rot16, lo, hi)                                          \
    do {                                                                                    \
        v2 = _mm256_xor_si256(v2, _mm256_set1_epi64x(0xee));                                \
        for (int r = 0; r < 4; r++) SIP_ROUND_V(v0, v1, v2, v3, rot16);                     \
        lo = _mm256_xor_si256(_mm256_xor_si256(v0, v1), _mm256_xor_si256(v2, v3));          \
        v1 = _mm256_xor_si256(v1, _mm256_set1_epi64x(0xdd));                                \
        for (int r = 0; r < 3; r++) SIP_ROUND_V(v0, v1, v2, v3, rot16);                     \
        SIP_LAST_ROUND_SUM_V(v0, v1, v2, v3, rot16, hi);                                    \
    } while (0)

/* `n` SipRounds on two groups of four states, alternating: one group's SipRound is a chain of
   about eight dependent instructions, so a lone group leaves the vector units idle most of
   each round; the other group's independent chain fills that time. */
#define SIP_ROUNDS2_V(n, a0, a1, a2, a3, b0, b1, b2, b3, rot16)                              \
    do {                                                                                    \
        for (int r_ = 0; r_ < (n); r_++) {                                                  \
            SIP_ROUND_V(a0, a1, a2, a3, rot16);                                             \
            SIP_ROUND_V(b0, b1, b2, b3, rot16);                                             \
        }                                                                                   \
    } while (0)

/* SIP_FINISH_V on two groups of four states at once, their rounds alternating. */
#define SIP_FINISH2_V(a0, a1, a2, a3, b0, b1, b2, b3, rot16, alo, ahi, blo, bhi)              \
    do {                                                                                    \
        a2 = _mm256_xor_si256(a2, _mm256_set1_epi64x(0xee));                                \
        b2 = _mm256_xor_si256(b2, _mm256_set1_epi64x(0xee));                                \
        SIP_ROUNDS2_V(4, a0, a1, a2, a3, b0, b1, b2, b3, rot16);                            \
        alo = _mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3));         \
        blo = _mm256_xor_si256(_mm256_xor_si256(b0, b1), _mm256_xor_si256(b2, b3));         \
        a1 = _mm256_xor_si256(a1, _mm256_set1_epi64x(0xdd));                                \
        b1 = _mm256_xor_si256(b1, _mm256_set1_epi64x(0xdd));                                \
        SIP_ROUNDS2_V(3, a0, a1, a2, a3, b0, b1, b2, b3, rot16);                            \
        SIP_LAST_ROUND_SUM_V(a0, a1, a2, a3, rot16, ahi);                                   \
        SIP_LAST_ROUND_SUM_V(b0, b1, b2, b3, rot16, bhi);                                   \
    } while (0)

/* Message word j of each lane (lane i reads m[i][min(j, c[i] - 1)]: a lane that has already
   absorbed its last word reads a word it owns, and masking drops the result). */
#define LANE_WORD(i, j) (m[i][(j) < c[i] ? (j) : c[i] - 1])

/* Hashes four messages, message i = c[i] >= 1 words at m[i], and stores its two output words
   to out[i][0], out[i][1]. Lanes of unequal length: every lane runs max(c) compressions, and
   after step j a lane whose message has fewer than j + 1 words keeps its old state (blend). */
CHUB_AVX2 static inline void sip128_x4_avx2(uint64_t k0, uint64_t k1, const uint64_t *const m[4],
                                            const uint32_t c[4], uint64_t *const out[4]) {
    ROT16_MASK(rot16);
    __m256i v0 = _mm256_set1_epi64x((long long)(k0 ^ SIP_C0));
    __m256i v1 = _mm256_set1_epi64x((long long)(k1 ^ SIP_C1 ^ 0xee));
    __m256i v2 = _mm256_set1_epi64x((long long)(k0 ^ SIP_C2));
    __m256i v3 = _mm256_set1_epi64x((long long)(k1 ^ SIP_C3));
    uint32_t low = c[0], high = c[0];
    for (int i = 1; i < 4; i++) {
        low = c[i] < low ? c[i] : low;
        high = c[i] > high ? c[i] : high;
    }
    uint32_t j = 0;
    for (; j < low; j++) {
        __m256i w = _mm256_set_epi64x((long long)m[3][j], (long long)m[2][j], (long long)m[1][j],
                                      (long long)m[0][j]);
        v3 = _mm256_xor_si256(v3, w);
        SIP_ROUND_V(v0, v1, v2, v3, rot16);
        SIP_ROUND_V(v0, v1, v2, v3, rot16);
        v0 = _mm256_xor_si256(v0, w);
    }
    if (j < high) {
        const __m256i lengths = _mm256_set_epi64x(c[3], c[2], c[1], c[0]);
        for (; j < high; j++) {
            __m256i w = _mm256_set_epi64x((long long)LANE_WORD(3, j), (long long)LANE_WORD(2, j),
                                          (long long)LANE_WORD(1, j), (long long)LANE_WORD(0, j));
            __m256i active = _mm256_cmpgt_epi64(lengths, _mm256_set1_epi64x(j));
            SIP_MASKED_BLOCK_V(v0, v1, v2, v3, w, active, rot16);
        }
    }
    __m256i lo, hi;
    SIP_FINISH_V(v0, v1, v2, v3, rot16, lo, hi);
    /* (lo, hi) pairs: lanes 0 and 2 in `even`, 1 and 3 in `odd`. */
    __m256i even = _mm256_unpacklo_epi64(lo, hi);
    __m256i odd = _mm256_unpackhi_epi64(lo, hi);
    _mm_storeu_si128((__m128i *)out[0], _mm256_castsi256_si128(even));
    _mm_storeu_si128((__m128i *)out[1], _mm256_castsi256_si128(odd));
    _mm_storeu_si128((__m128i *)out[2], _mm256_extracti128_si256(even, 1));
    _mm_storeu_si128((__m128i *)out[3], _mm256_extracti128_si256(odd, 1));
}

/* Shortest and longest of four unsigned 32-bit counts. */
CHUB_AVX2 static inline void count_range4(__m128i counts4, uint32_t *low, uint32_t *high) {
    const __m128i swapped = _mm_shuffle_epi32(counts4, 0x4E);
    const __m128i low2 = _mm_min_epu32(counts4, swapped), high2 = _mm_max_epu32(counts4, swapped);
    *low = (uint32_t)_mm_cvtsi128_si32(_mm_min_epu32(low2, _mm_shuffle_epi32(low2, 0xB1)));
    *high = (uint32_t)_mm_cvtsi128_si32(_mm_max_epu32(high2, _mm_shuffle_epi32(high2, 0xB1)));
}

/* A group's (lo, hi) pairs to digests[2g ...]: all four lanes when none is count 0 (`low` is
   the group's shortest count), else only the lanes with words (`lengths` per 64-bit lane). */
CHUB_AVX2 static inline void store_pairs4(uint64_t *target, __m256i first, __m256i second, uint32_t low,
                                         __m256i lengths) {
    if (low != 0) {
        _mm256_storeu_si256((__m256i *)target, first);
        _mm256_storeu_si256((__m256i *)(target + 4), second);
    } else {
        /* Count-0 and missing lanes keep their slots: store only the others' pairs. */
        const __m256i written = _mm256_cmpgt_epi64(lengths, _mm256_setzero_si256());
        _mm256_maskstore_epi64((long long *)target, _mm256_permute4x64_epi64(written, 0x50), first);
        _mm256_maskstore_epi64((long long *)(target + 4), _mm256_permute4x64_epi64(written, 0xFA), second);
    }
}

/* Word j of a group of four lanes (gathered at `index`, which then moves to word j + 1): a
   plain compression while every lane has a word j (j < `low`, the group's shortest count),
   else a masked one that keeps the state of the lanes already done (`lengths`: the counts). */
#define SIP_GROUP_STEP_V(v0, v1, v2, v3, index, lengths, low, j)                               \
    do {                                                                                     \
        if ((j) < (low)) {                                                                   \
            const __m256i w_ = _mm256_i64gather_epi64(base, (index), 8);                     \
            (v3) = _mm256_xor_si256((v3), w_);                                               \
            SIP_ROUND_V(v0, v1, v2, v3, rot16);                                              \
            SIP_ROUND_V(v0, v1, v2, v3, rot16);                                              \
            (v0) = _mm256_xor_si256((v0), w_);                                               \
        } else {                                                                             \
            const __m256i active_ = _mm256_cmpgt_epi64((lengths), _mm256_set1_epi64x(j));    \
            const __m256i w_ =                                                               \
                _mm256_mask_i64gather_epi64(_mm256_setzero_si256(), base, (index), active_, 8); \
            SIP_MASKED_BLOCK_V(v0, v1, v2, v3, w_, active_, rot16);                          \
        }                                                                                    \
        (index) = _mm256_add_epi64((index), one);                                            \
    } while (0)

/* Messages `count` at a time in their given order, in groups of four lanes: lane i of a group
   is message g + i (its words gathered at words + firsts[g + i] + j). A group's lanes run its
   shortest lane's word count without masking, then up to its longest lane's count with a
   blend that keeps the state of lanes already done (the bench's names are 3 or 4 words:
   sorting by count, as this kernel once did, cost more per name than the occasional masked
   compression). Two groups run together (eight messages; word by word, each group to its own
   counts, then SIP_FINISH2_V), then a last group of 1-4 alone. A count-0 lane (skipped) or a
   missing lane of the last group reads and writes nothing. */
CHUB_AVX2 static void sip128_words_avx2(uint64_t k0, uint64_t k1, const uint64_t *words, const uint32_t *firsts,
                                        const uint32_t *counts, size_t count, uint64_t *digests) {
    ROT16_MASK(rot16);
    const __m256i init0 = _mm256_set1_epi64x((long long)(k0 ^ SIP_C0));
    const __m256i init1 = _mm256_set1_epi64x((long long)(k1 ^ SIP_C1 ^ 0xee));
    const __m256i init2 = _mm256_set1_epi64x((long long)(k0 ^ SIP_C2));
    const __m256i init3 = _mm256_set1_epi64x((long long)(k1 ^ SIP_C3));
    const __m256i one = _mm256_set1_epi64x(1);
    const long long *base = (const long long *)words;
    size_t g = 0;
    for (; count - g >= 8; g += 8) {
        const __m128i countsA = _mm_loadu_si128((const __m128i *)(counts + g));
        const __m128i countsB = _mm_loadu_si128((const __m128i *)(counts + g + 4));
        uint32_t lowA, highA, lowB, highB;
        count_range4(countsA, &lowA, &highA);
        count_range4(countsB, &lowB, &highB);
        if ((highA | highB) == 0) continue;
        const uint32_t high = highA > highB ? highA : highB;
        __m256i indexA = _mm256_cvtepu32_epi64(_mm_loadu_si128((const __m128i *)(firsts + g)));
        __m256i indexB = _mm256_cvtepu32_epi64(_mm_loadu_si128((const __m128i *)(firsts + g + 4)));
        const __m256i lengthsA = _mm256_cvtepu32_epi64(countsA), lengthsB = _mm256_cvtepu32_epi64(countsB);
        __m256i a0 = init0, a1 = init1, a2 = init2, a3 = init3;
        __m256i b0 = init0, b1 = init1, b2 = init2, b3 = init3;
        for (uint32_t j = 0; j < high; j++) {
            if (j < highA) SIP_GROUP_STEP_V(a0, a1, a2, a3, indexA, lengthsA, lowA, j);
            if (j < highB) SIP_GROUP_STEP_V(b0, b1, b2, b3, indexB, lengthsB, lowB, j);
        }
        __m256i alo, ahi, blo, bhi, first, second;
        SIP_FINISH2_V(a0, a1, a2, a3, b0, b1, b2, b3, rot16, alo, ahi, blo, bhi);
        SIP_PAIRS_V(alo, ahi, first, second);
        store_pairs4(digests + 2 * g, first, second, lowA, lengthsA);
        SIP_PAIRS_V(blo, bhi, first, second);
        store_pairs4(digests + 2 * g + 8, first, second, lowB, lengthsB);
    }
    for (; g < count; g += 4) {
        __m128i counts4, firsts4;
        if (count - g >= 4) {
            counts4 = _mm_loadu_si128((const __m128i *)(counts + g));
            firsts4 = _mm_loadu_si128((const __m128i *)(firsts + g));
        } else {
            /* A last group of 1-3: lanes past the end load as count 0 (nothing read there). */
            const __m128i present = _mm_cmpgt_epi32(_mm_set1_epi32((int)(count - g)), _mm_setr_epi32(0, 1, 2, 3));
            counts4 = _mm_maskload_epi32((const int *)(counts + g), present);
            firsts4 = _mm_maskload_epi32((const int *)(firsts + g), present);
        }
        uint32_t low, high;
        count_range4(counts4, &low, &high);
        if (high == 0) continue;
        __m256i index = _mm256_cvtepu32_epi64(firsts4);
        const __m256i lengths = _mm256_cvtepu32_epi64(counts4);
        __m256i v0 = init0, v1 = init1, v2 = init2, v3 = init3;
        for (uint32_t j = 0; j < high; j++) SIP_GROUP_STEP_V(v0, v1, v2, v3, index, lengths, low, j);
        __m256i lo, hi, first, second;
        SIP_FINISH_V(v0, v1, v2, v3, rot16, lo, hi);
        SIP_PAIRS_V(lo, hi, first, second);
        store_pairs4(digests + 2 * g, first, second, low, lengths);
    }
}

/* One group of four one-word messages: one compression, the two finalisations, the (lo, hi)
   pairs of lanes 0-1 and 2-3. */
#define SIP_FINAL_GROUP_V(w, first, second)                                                 \
    do {                                                                                    \
        __m256i v0 = init0, v1 = init1, v2 = init2, v3 = _mm256_xor_si256(init3, w);        \
        SIP_ROUND_V(v0, v1, v2, v3, rot16);                                                 \
        SIP_ROUND_V(v0, v1, v2, v3, rot16);                                                 \
        v0 = _mm256_xor_si256(v0, w);                                                       \
        __m256i lo, hi;                                                                     \
        SIP_FINISH_V(v0, v1, v2, v3, rot16, lo, hi);                                        \
        SIP_PAIRS_V(lo, hi, first, second);                                                 \
    } while (0)

/* Two groups of four one-word messages (`wa`: lanes 0-3, `wb`: lanes 4-7), interleaved as in
   SIP_FINISH2_V; the (lo, hi) pairs of lanes 0-1, 2-3, 4-5, 6-7. */
#define SIP_FINAL_GROUP2_V(wa, wb, pairs01, pairs23, pairs45, pairs67)                      \
    do {                                                                                    \
        __m256i a0 = init0, a1 = init1, a2 = init2, a3 = _mm256_xor_si256(init3, wa);       \
        __m256i b0 = init0, b1 = init1, b2 = init2, b3 = _mm256_xor_si256(init3, wb);       \
        SIP_ROUNDS2_V(2, a0, a1, a2, a3, b0, b1, b2, b3, rot16);                            \
        a0 = _mm256_xor_si256(a0, wa);                                                      \
        b0 = _mm256_xor_si256(b0, wb);                                                      \
        __m256i alo, ahi, blo, bhi;                                                         \
        SIP_FINISH2_V(a0, a1, a2, a3, b0, b1, b2, b3, rot16, alo, ahi, blo, bhi);           \
        SIP_PAIRS_V(alo, ahi, pairs01, pairs23);                                            \
        SIP_PAIRS_V(blo, bhi, pairs45, pairs67);                                            \
    } while (0)

/* One-word messages, eight per loop (two groups of four, interleaved), then a group of four,
   the (lo, hi) pairs stored back to back. A last group of 1-3 is loaded and stored with masks
   (nothing read or written past the end). */
CHUB_AVX2 static void sip128_finals_avx2(uint64_t k0, uint64_t k1, const uint64_t *finals, size_t count,
                                         uint64_t *digests) {
    ROT16_MASK(rot16);
    const __m256i init0 = _mm256_set1_epi64x((long long)(k0 ^ SIP_C0));
    const __m256i init1 = _mm256_set1_epi64x((long long)(k1 ^ SIP_C1 ^ 0xee));
    const __m256i init2 = _mm256_set1_epi64x((long long)(k0 ^ SIP_C2));
    const __m256i init3 = _mm256_set1_epi64x((long long)(k1 ^ SIP_C3));
    size_t g = 0;
    for (; g + 8 <= count; g += 8) {
        const __m256i wa = _mm256_loadu_si256((const __m256i *)(finals + g));
        const __m256i wb = _mm256_loadu_si256((const __m256i *)(finals + g + 4));
        __m256i pairs[4];
        SIP_FINAL_GROUP2_V(wa, wb, pairs[0], pairs[1], pairs[2], pairs[3]);
        for (int i = 0; i < 4; i++) _mm256_storeu_si256((__m256i *)(digests + 2 * g + 4 * i), pairs[i]);
    }
    for (; g + 4 <= count; g += 4) {
        const __m256i w = _mm256_loadu_si256((const __m256i *)(finals + g));
        __m256i first, second;
        SIP_FINAL_GROUP_V(w, first, second);
        _mm256_storeu_si256((__m256i *)(digests + 2 * g), first);
        _mm256_storeu_si256((__m256i *)(digests + 2 * g + 4), second);
    }
    const size_t left = count - g;
    if (left != 0) {
        const __m256i present = _mm256_cmpgt_epi64(_mm256_set1_epi64x((long long)left), _mm256_setr_epi64x(0, 1, 2, 3));
        const __m256i w = _mm256_maskload_epi64((const long long *)(finals + g), present);
        __m256i first, second;
        SIP_FINAL_GROUP_V(w, first, second);
        /* Lane i is written when i < left: its two words are slots 2i and 2i + 1. */
        const __m256i slot = _mm256_setr_epi64x(0, 0, 1, 1);
        const __m256i lefts = _mm256_set1_epi64x((long long)left);
        _mm256_maskstore_epi64((long long *)(digests + 2 * g), _mm256_cmpgt_epi64(lefts, slot), first);
        _mm256_maskstore_epi64((long long *)(digests + 2 * g + 4),
                               _mm256_cmpgt_epi64(lefts, _mm256_add_epi64(slot, _mm256_set1_epi64x(2))), second);
    }
}

static int chub_detect_avx2(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (!(c & bit_OSXSAVE) || !(c & bit_AVX)) return 0;
    /* XCR0 bits 1 and 2: the OS saves the SSE and AVX (YMM) state on a context switch. */
    unsigned xcr0_lo, xcr0_hi;
    __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
    if ((xcr0_lo & 6) != 6) return 0;
    if (__get_cpuid_max(0, 0) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return (b & bit_AVX2) != 0;
}

static int chub_avx2_state = -1; /* -1 unknown, else the detected answer */

int chub_siphash128_avx2_available(void) {
    int state = __atomic_load_n(&chub_avx2_state, __ATOMIC_RELAXED);
    if (state < 0) {
        state = chub_detect_avx2();
        __atomic_store_n(&chub_avx2_state, state, __ATOMIC_RELAXED);
    }
    return state;
}

void chub_siphash128_words(int avx2, uint64_t k0, uint64_t k1, const uint64_t *words, const uint32_t *firsts,
                           const uint32_t *counts, size_t count, uint64_t *digests) {
    if (avx2 && chub_siphash128_avx2_available()) {
        sip128_words_avx2(k0, k1, words, firsts, counts, count, digests);
    } else {
        sip128_words_portable(k0, k1, words, firsts, counts, count, digests);
    }
}

void chub_siphash128_final_words(int avx2, uint64_t k0, uint64_t k1, const uint64_t *finals, size_t count,
                                 uint64_t *digests) {
    if (avx2 && chub_siphash128_avx2_available()) {
        sip128_finals_avx2(k0, k1, finals, count, digests);
    } else {
        sip128_finals_portable(k0, k1, finals, count, digests);
    }
}

CHUB_AVX2 static void sip128_x4_avx2_entry(uint64_t k0, uint64_t k1, const uint64_t *const messages[4],
                                           const uint32_t counts[4], uint64_t digests[8]) {
    uint64_t *out[4] = {digests, digests + 2, digests + 4, digests + 6};
    sip128_x4_avx2(k0, k1, messages, counts, out);
}

void chub_siphash128_x4(int avx2, uint64_t k0, uint64_t k1, const uint64_t *const messages[4],
                        const uint32_t counts[4], uint64_t digests[8]) {
    if (avx2 && chub_siphash128_avx2_available()) {
        sip128_x4_avx2_entry(k0, k1, messages, counts, digests);
    } else {
        for (int i = 0; i < 4; i++) sip128_one(k0, k1, messages[i], counts[i], digests + 2 * i);
    }
}

#else /* not x86-64: the portable code only */

int chub_siphash128_avx2_available(void) { return 0; }

void chub_siphash128_words(int avx2, uint64_t k0, uint64_t k1, const uint64_t *words, const uint32_t *firsts,
                           const uint32_t *counts, size_t count, uint64_t *digests) {
    (void)avx2;
    sip128_words_portable(k0, k1, words, firsts, counts, count, digests);
}

void chub_siphash128_final_words(int avx2, uint64_t k0, uint64_t k1, const uint64_t *finals, size_t count,
                                 uint64_t *digests) {
    (void)avx2;
    sip128_finals_portable(k0, k1, finals, count, digests);
}

void chub_siphash128_x4(int avx2, uint64_t k0, uint64_t k1, const uint64_t *const messages[4],
                        const uint32_t counts[4], uint64_t digests[8]) {
    (void)avx2;
    for (int i = 0; i < 4; i++) sip128_one(k0, k1, messages[i], counts[i], digests + 2 * i);
}
#endif
