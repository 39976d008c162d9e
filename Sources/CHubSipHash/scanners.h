/*
 * The vector scanners' bodies (x86-64 only), as static inline functions, so that the batch
 * scan (batch.c) inlines them into its loop; ipv4.c and name.c wrap them as the exported
 * chub_ipv4_scan_avx2 and chub_name_scan_avx2 (their comments there, interface CHubSipHash.h).
 */
#ifndef CHUB_SCANNERS_H
#define CHUB_SCANNERS_H
#include <stdint.h>
#include <string.h>
#include <immintrin.h>
#include "ipv4_table.h"

#define CHUB_AVX2 __attribute__((target("avx2")))

static inline CHUB_AVX2 uint64_t chub_ipv4_scan_inline(const uint8_t *p, size_t n) {
    if (n - 7 > 8) return 0; /* 7...15 bytes */
    uint64_t lo, hi;
    if (n >= 8) {
        uint64_t last;
        memcpy(&lo, p, 8);
        memcpy(&last, p + n - 8, 8);
        /* Bytes 8..<n: the top n - 8 bytes of the last 8 (none for n = 8: shifted out). */
        hi = (last >> 1) >> (8 * (16 - n) - 1);
    } else {
        uint32_t first, last;
        memcpy(&first, p, 4);
        memcpy(&last, p + 3, 4);
        lo = (uint64_t)first | (uint64_t)last << 24;
        hi = 0;
    }
    const __m128i bytes = _mm_set_epi64x((long long)hi, (long long)lo);
    const __m128i values = _mm_sub_epi8(bytes, _mm_set1_epi8('0'));
    /* Lanes past the end are 0: neither digit nor dot. */
    const unsigned digits = (unsigned)_mm_movemask_epi8(
        _mm_cmpeq_epi8(_mm_min_epu8(values, _mm_set1_epi8(9)), values));
    const unsigned dots = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, _mm_set1_epi8('.')));
    /* The shape: exactly three dots with 1-3 digits before, between and after, or refused; then
       every other byte below the length a digit (the shape's digit mask, exactly). */
    const unsigned key = dots | 1u << n;
    const unsigned shape = chub_ipv4_table.slots[(uint32_t)(key * CHUB_IPV4_MAGIC) >> CHUB_IPV4_SHIFT];
    unsigned bad = (chub_ipv4_table.keys[shape] ^ key) | (chub_ipv4_table.digits[shape] ^ digits);
    const struct chub_ipv4_shape *const row = &chub_ipv4_table.shapes[shape];
    const __m128i lined = _mm_shuffle_epi8(values, _mm_load_si128((const __m128i *)row->shuffle));
    /* Per octet: 100 * hundreds + 10 * tens, units + 0 (16-bit), then their sum (32-bit). */
    const __m128i octets = _mm_madd_epi16(_mm_maddubs_epi16(lined, _mm_set1_epi32(0x00010A64)), _mm_set1_epi16(1));
    /* Over 255, or under the octet's least value (10 or 100 for 2 or 3 digits: a leading '0'). */
    const __m128i outside = _mm_or_si128(_mm_cmpgt_epi32(octets, _mm_set1_epi32(255)),
                                         _mm_cmpgt_epi32(_mm_load_si128((const __m128i *)row->least), octets));
    bad |= (unsigned)_mm_movemask_epi8(outside);
    /* Octet k is in byte 4k; the address (first octet highest) is bytes 12, 8, 4, 0. */
    const uint32_t address = (uint32_t)_mm_cvtsi128_si32(
        _mm_shuffle_epi8(octets, _mm_setr_epi8(12, 8, 4, 0, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1)));
    return bad ? 0 : (uint64_t)1 << 32 | address;
}


/* PSHUFB masks that move the top k lanes of a register down to lanes 0..k-1 (zero above):
   loadu(chub_shift_down + 16 - k). */
static const int8_t chub_shift_down[32] __attribute__((aligned(32))) = {
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

/* The n (1...15) bytes at p in lanes 0..n-1, the others zero; reads only p[0..<n]. */
static inline CHUB_AVX2 __m128i chub_load_short(const uint8_t *p, size_t n) {
    uint64_t lo, hi = 0;
    if (n >= 8) {
        uint64_t last;
        memcpy(&lo, p, 8);
        memcpy(&last, p + n - 8, 8);
        hi = (last >> 1) >> (8 * (16 - n) - 1); /* bytes 8..<n; none for n = 8 */
    } else if (n >= 4) {
        uint32_t first, last;
        memcpy(&first, p, 4);
        memcpy(&last, p + n - 4, 4);
        lo = (uint64_t)first | (uint64_t)last << (8 * (n - 4));
    } else {
        uint16_t first;
        memcpy(&first, p, 2); /* callers pass n >= 3 */
        lo = (uint64_t)first | (uint64_t)p[n - 1] << (8 * (n - 1));
    }
    return _mm_set_epi64x((long long)hi, (long long)lo);
}

/* Masks of one 16-byte chunk (bit i = lane i), lanes outside `valid` cleared by the caller. */
struct chub_chunk {
    unsigned ok, separators, dots, digits;
};

static inline CHUB_AVX2 struct chub_chunk chub_scan_chunk(__m128i bytes, uint8_t *out, uint8_t *message) {
    const __m128i lower = _mm_or_si128(bytes, _mm_set1_epi8(0x20));
    const __m128i letter_offset = _mm_sub_epi8(lower, _mm_set1_epi8('a'));
    const __m128i letters = _mm_cmpeq_epi8(_mm_min_epu8(letter_offset, _mm_set1_epi8(25)), letter_offset);
    const __m128i digit_offset = _mm_sub_epi8(bytes, _mm_set1_epi8('0'));
    const __m128i digits = _mm_cmpeq_epi8(_mm_min_epu8(digit_offset, _mm_set1_epi8(9)), digit_offset);
    const __m128i separator_offset = _mm_sub_epi8(bytes, _mm_set1_epi8('-'));
    const __m128i separators = _mm_cmpeq_epi8(_mm_min_epu8(separator_offset, _mm_set1_epi8(1)), separator_offset);
    const __m128i dots = _mm_cmpeq_epi8(bytes, _mm_set1_epi8('.'));
    /* Lower-cased, and zero where the input is zero (lanes past the end). */
    const __m128i canonical = _mm_andnot_si128(_mm_cmpeq_epi8(bytes, _mm_setzero_si128()), lower);
    _mm_storeu_si128((__m128i *)out, canonical);
    _mm_storeu_si128((__m128i *)message, canonical);
    struct chub_chunk chunk = {
        (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(letters, digits), separators)),
        (unsigned)_mm_movemask_epi8(separators),
        (unsigned)_mm_movemask_epi8(dots),
        (unsigned)_mm_movemask_epi8(digits),
    };
    return chunk;
}

static inline CHUB_AVX2 long chub_name_scan_inline(const uint8_t *p, size_t n, int detecting, uint16_t prefix,
                                                   uint8_t *out, uint64_t *words) {
    if (n < 3 || n > 64) return -1;
    uint8_t *message = (uint8_t *)words;
    memcpy(message, &prefix, 2);
    uint64_t ok = 0, separators = 0, dots = 0, digits = 0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        struct chub_chunk c = chub_scan_chunk(_mm_loadu_si128((const __m128i *)(p + i)), out + i, message + 2 + i);
        ok |= (uint64_t)c.ok << i;
        separators |= (uint64_t)c.separators << i;
        dots |= (uint64_t)c.dots << i;
        digits |= (uint64_t)c.digits << i;
    }
    const size_t rest = n - i;
    if (rest > 0) {
        __m128i bytes;
        if (n >= 16) {
            const __m128i last = _mm_loadu_si128((const __m128i *)(p + n - 16));
            bytes = _mm_shuffle_epi8(last, _mm_loadu_si128((const __m128i *)(chub_shift_down + 16 - rest)));
        } else {
            bytes = chub_load_short(p, n);
        }
        const unsigned valid = (1u << rest) - 1;
        struct chub_chunk c = chub_scan_chunk(bytes, out + i, message + 2 + i);
        /* Lanes past the end are zero: not ok (so `ok ^ all` below refuses nothing there). */
        ok |= (uint64_t)(c.ok & valid) << i;
        separators |= (uint64_t)(c.separators & valid) << i;
        dots |= (uint64_t)(c.dots & valid) << i;
        digits |= (uint64_t)(c.digits & valid) << i;
    }
    /* The message's final word: the bytes after the last full block, zero padding, and the
       length (mod 256) in the top byte. The chunk stores above left zeros after the name up to
       byte 2 + 16 * ceil(n / 16) of the message; clear the rest of the final word. */
    const size_t total = n + 2;
    const size_t final_index = total / 8;
    _mm_storeu_si128((__m128i *)(message + 2 + i + (rest > 0 ? 16 : 0)), _mm_setzero_si128());
    words[final_index] |= (uint64_t)(total & 0xFF) << 56;
    const uint64_t all = n == 64 ? ~(uint64_t)0 : ((uint64_t)1 << n) - 1;
    uint64_t bad = ok ^ all;
    bad |= separators & (separators >> 1 | 1 | (uint64_t)1 << (n - 1));
    if (bad != 0 || dots == 0) return 0;
    /* The last label (after the highest dot): not all digits. */
    const unsigned last_dot = 63 - (unsigned)__builtin_clzll(dots);
    if (((~digits & all) >> last_dot >> 1) == 0) return 0;
    if (detecting) {
        if (p[0] == '0' && p[1] == '0') return 0;
        if (n - last_dot > 3 && p[last_dot + 1] == '0' && (p[last_dot + 2] | 0x20) == 'x') return 0;
    }
    return (long)final_index + 1;
}
#endif
