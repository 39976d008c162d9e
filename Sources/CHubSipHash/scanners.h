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

/* PSHUFB masks that move lanes 0..k-1 of a register up to lanes n-k..n-1, -1 (zero) in the
   other lanes, for k = 8 (8 <= n <= 16) and k = 4 (4 <= n <= 16): loadu(table + 16 - n). */
static const int8_t chub_shift_up8[32] __attribute__((aligned(32))) = {
    -1, -1, -1, -1, -1, -1, -1, -1, 0, 1, 2, 3, 4, 5, 6, 7,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};
static const int8_t chub_shift_up4[32] __attribute__((aligned(32))) = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 1, 2, 3,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

/* Lane masks (bit i = lane i) of 32 name bytes, lanes that are zero bytes in no class. */
struct chub_name_masks {
    uint32_t label, dots, hyphens, tail;
};

/*
 * Classifies 32 bytes with one compare per class: letters (after OR 0x20) and digits as
 * signed compares of the byte moved to the top of the signed range ('a'..'z' and '0'..'9'
 * become 102..127 and 118..127; every other byte, >= 0x80 included, lands at or below 101,
 * resp. 117), '.' and '-' as equalities. `label`: letters and digits; `tail`: letters and hyphens
 * (what makes a last label "not all digits"). Returns the four PMOVMSKB masks.
 */
static inline CHUB_AVX2 struct chub_name_masks chub_name_classify(__m256i bytes, __m256i lower) {
    const __m256i letters = _mm256_cmpgt_epi8(_mm256_add_epi8(lower, _mm256_set1_epi8(0x66 - 'a')), _mm256_set1_epi8(0x65));
    const __m256i digits = _mm256_cmpgt_epi8(_mm256_add_epi8(bytes, _mm256_set1_epi8(0x76 - '0')), _mm256_set1_epi8(0x75));
    const __m256i dots = _mm256_cmpeq_epi8(bytes, _mm256_set1_epi8('.'));
    const __m256i hyphens = _mm256_cmpeq_epi8(bytes, _mm256_set1_epi8('-'));
    struct chub_name_masks m = {
        (uint32_t)_mm256_movemask_epi8(_mm256_or_si256(letters, digits)),
        (uint32_t)_mm256_movemask_epi8(dots),
        (uint32_t)_mm256_movemask_epi8(hyphens),
        (uint32_t)_mm256_movemask_epi8(_mm256_or_si256(letters, hyphens)),
    };
    return m;
}

/* (1 << n) - 1 for n = 0...32: the lanes of an n-byte name. */
static const uint32_t chub_name_lanes[33] = {
    0x0, 0x1, 0x3, 0x7, 0xF, 0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF, 0x3FFF, 0x7FFF,
    0xFFFF, 0x1FFFF, 0x3FFFF, 0x7FFFF, 0xFFFFF, 0x1FFFFF, 0x3FFFFF, 0x7FFFFF, 0xFFFFFF, 0x1FFFFFF, 0x3FFFFFF,
    0x7FFFFFF, 0xFFFFFFF, 0x1FFFFFFF, 0x3FFFFFFF, 0x7FFFFFFF, 0xFFFFFFFF,
};

/*
 * The rules on the masks of the whole name (bits >= n clear; `lanes` = (1 << n) - 1). Every
 * byte is a letter or digit, or a separator ('.', '-') between two letters/digits: so no other
 * byte, no separator first or last, no `..`, `-.`, `.-`, `--` (no `xn--` label). There is a
 * dot, and the last label is not all digits: a letter or hyphen above the highest dot, that is
 * (the two masks share no bit) `tail > dots`; with `dots != 0`, `dots - 1 < tail` (unsigned).
 * When detecting, not a shape TypeDetector gives another type (a leading `00`, a last label of
 * 3+ bytes starting `0x`). A name of at most 64 bytes with a dot has no label over 63 bytes.
 * Returns whether the name is accepted.
 */
static inline CHUB_AVX2 int chub_name_rules(const uint8_t *p, size_t n, int detecting, uint64_t label,
                                            uint64_t dots, uint64_t hyphens, uint64_t tail, uint64_t lanes) {
    const uint64_t good = label | ((dots | hyphens) & label << 1 & label >> 1);
    if (good != lanes || dots - 1 >= tail) return 0;
    if (detecting) {
        uint16_t first;
        memcpy(&first, p, 2);
        if (first == ('0' | '0' << 8)) return 0;
        const size_t last_dot = 63 - (size_t)__builtin_clzll(dots);
        if (n - last_dot > 3) {
            uint16_t start;
            memcpy(&start, p + last_dot + 1, 2);
            if ((start | 0x2000) == ('0' | 'x' << 8)) return 0;
        }
    }
    return 1;
}

/* The lanes 0..n-1 (n = 3...32) of `bytes` hold the name, the others zero: stores its
   canonical bytes (32, or 16 under 16 bytes) and message, and checks the rules. */
static inline CHUB_AVX2 long chub_name_scan_register(const uint8_t *p, size_t n, int detecting, __m256i bytes,
                                                     uint8_t *out, uint8_t *message) {
    const __m256i lower = _mm256_or_si256(bytes, _mm256_set1_epi8(0x20));
    /* Lower-cased, zero where the byte is zero (past the end): PSIGNB by the byte itself. */
    const __m256i canonical = _mm256_sign_epi8(lower, bytes);
    if (n >= 16) _mm256_storeu_si256((__m256i *)out, canonical);
    else _mm_storeu_si128((__m128i *)out, _mm256_castsi256_si128(canonical));
    /* The message: canonical bytes from byte 2 (zeros after the name up to byte 34), eight
       more zeros, then the final word's top byte: the length. */
    _mm256_storeu_si256((__m256i *)(message + 2), canonical);
    memset(message + 34, 0, 8);
    message[(n + 2) | 7] = (uint8_t)(n + 2);
    const struct chub_name_masks m = chub_name_classify(bytes, lower);
    if (!chub_name_rules(p, n, detecting, m.label, m.dots, m.hyphens, m.tail, chub_name_lanes[n])) return 0;
    return (long)((n + 10) >> 3);
}

/* The name scanner (contract: chub_name_scan_avx2 in CHubSipHash.h): the number of message
   words filed, 0 when declined, -1 (nothing written) outside 3...64 bytes. */
static inline CHUB_AVX2 long chub_name_scan_inline(const uint8_t *p, size_t n, int detecting, uint16_t prefix,
                                                   uint8_t *out, uint64_t *words) {
    uint8_t *const message = (uint8_t *)words;
    if (n - 16 <= 16) {
        /* 16...32 bytes: the first 16 and the last 16 shifted down to lanes n-16..15. */
        memcpy(message, &prefix, 2);
        const __m128i last = _mm_loadu_si128((const __m128i *)(p + n - 16));
        const __m128i rest = _mm_shuffle_epi8(last, _mm_loadu_si128((const __m128i *)(chub_shift_down + 32 - n)));
        const __m256i bytes = _mm256_set_m128i(rest, _mm_loadu_si128((const __m128i *)p));
        return chub_name_scan_register(p, n, detecting, bytes, out, message);
    }
    if (n < 16) {
        if (n < 3) return -1;
        memcpy(message, &prefix, 2);
        __m128i bytes;
        if (n >= 4) {
            /* The first 8 (4) bytes, and the last 8 (4) moved up to end at lane n - 1 (where
               the two overlap, both hold the same bytes). */
            __m128i first, last;
            const int8_t *shift;
            if (n >= 8) {
                first = _mm_loadl_epi64((const __m128i *)p);
                last = _mm_loadl_epi64((const __m128i *)(p + n - 8));
                shift = chub_shift_up8 + 16;
            } else {
                uint32_t head, tail;
                memcpy(&head, p, 4);
                memcpy(&tail, p + n - 4, 4);
                first = _mm_cvtsi32_si128((int)head);
                last = _mm_cvtsi32_si128((int)tail);
                shift = chub_shift_up4 + 16;
            }
            bytes = _mm_or_si128(first, _mm_shuffle_epi8(last, _mm_loadu_si128((const __m128i *)(shift - n))));
        } else {
            uint16_t head;
            memcpy(&head, p, 2); /* n = 3 */
            bytes = _mm_cvtsi32_si128((int)((uint32_t)head | (uint32_t)p[2] << 16));
        }
        return chub_name_scan_register(p, n, detecting, _mm256_zextsi128_si256(bytes), out, message);
    }
    if (n > 64) return -1;
    /* 33...64 bytes: the first 32 and the last 32 (overlapping); their masks joined. */
    memcpy(message, &prefix, 2);
    const __m256i first = _mm256_loadu_si256((const __m256i *)p);
    const __m256i last = _mm256_loadu_si256((const __m256i *)(p + n - 32));
    const __m256i first_lower = _mm256_or_si256(first, _mm256_set1_epi8(0x20));
    const __m256i last_lower = _mm256_or_si256(last, _mm256_set1_epi8(0x20));
    _mm256_storeu_si256((__m256i *)out, first_lower);
    _mm256_storeu_si256((__m256i *)(out + n - 32), last_lower);
    _mm256_storeu_si256((__m256i *)(message + 2), first_lower);
    _mm256_storeu_si256((__m256i *)(message + n - 30), last_lower);
    memset(message + 2 + n, 0, 8);
    message[(n + 2) | 7] = (uint8_t)(n + 2);
    const struct chub_name_masks a = chub_name_classify(first, first_lower);
    const struct chub_name_masks b = chub_name_classify(last, last_lower);
    const unsigned shift = (unsigned)(n - 32);
#define CHUB_JOIN(field) ((uint64_t)a.field | (uint64_t)b.field << shift)
    const int accepted = chub_name_rules(p, n, detecting, CHUB_JOIN(label), CHUB_JOIN(dots), CHUB_JOIN(hyphens),
                                         CHUB_JOIN(tail), ~(uint64_t)0 >> (64 - n));
#undef CHUB_JOIN
    if (!accepted) return 0;
    return (long)((n + 10) >> 3);
}
#endif
