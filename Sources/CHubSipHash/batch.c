/*
 * The batch digest's first pass in C (interface: CHubSipHash.h, chub_batch_scan): the Swift
 * loop it replaces (DigestKey.canonicalDigestLanes) held about 17 pointers and counters and
 * spilled them on every value; here the scanners are inlined and the loop state stays in
 * registers. The rules are those of Canonicalizer.fastDispatch: trim ASCII whitespace (only
 * when an end byte is <= 0x20), 3...max_fast bytes, ipv4 / domain / detected; a detected value
 * that starts with a digit and has at most 15 bytes tries the IPv4 scanner first.
 */
#include "CHubSipHash.h"
#include <string.h>

#if defined(__x86_64__)
#include "scanners.h"

static inline int chub_is_space(uint8_t b) { return b == 0x20 || (uint8_t)(b - 0x09) <= 4; }

CHUB_AVX2 size_t chub_batch_scan(const struct chub_value *values, const uint8_t *types, size_t count,
                                 struct chub_type_codes codes, uint16_t prefix_ipv4, uint16_t prefix_domain,
                                 size_t max_input, size_t max_fast, struct chub_batch *batch) {
    struct chub_fast_digest *const results = batch->results;
    uint8_t *const bytes = batch->bytes;
    uint64_t *const words = batch->words;
    size_t offset = 0, word_offset = 0, final_count = 0, long_count = 0, deferred = 0;
    const struct chub_fast_digest declined = {0, 0, 0, 0, codes.result_ipv4};
    for (size_t slot = 0; slot < count; slot++) {
        const uint8_t *p = values[slot].start;
        size_t n = (size_t)values[slot].count;
        const uint8_t code = types ? types[slot] : codes.none;
        if (p == NULL || n > max_input) goto decline;
        if (n == 0 || p[0] <= 0x20 || p[n - 1] <= 0x20) {
            while (n > 0 && chub_is_space(p[0])) { p++; n--; }
            while (n > 0 && chub_is_space(p[n - 1])) n--;
        }
        if (n < 3 || n > max_fast) goto decline;
        int ipv4, detecting;
        if (code == codes.ipv4) { ipv4 = 1; detecting = 0; }
        else if (code == codes.domain) { ipv4 = 0; detecting = 0; }
        else if (code == codes.none) { ipv4 = (uint8_t)(p[0] - '0') < 10 && n <= 15; detecting = 1; }
        else goto decline;
        uint8_t *const out = bytes + offset;
        if (ipv4) {
            const uint64_t scanned = chub_ipv4_scan_inline(p, n);
            if (scanned >> 32) {
                const uint32_t address = (uint32_t)scanned;
                const uint32_t big = __builtin_bswap32(address);
                memcpy(out, &big, 4);
                batch->finals[final_count] = (uint64_t)6 << 56 | (uint64_t)big << 16 | prefix_ipv4;
                batch->final_slots[final_count] = (uint32_t)slot;
                final_count++;
                const struct chub_fast_digest address_result = {0, 0, (int32_t)offset, 4, codes.result_ipv4};
                results[slot] = address_result;
                offset += 4;
                continue;
            }
            if (!detecting) goto decline;
        }
        long scanned = chub_name_scan_inline(p, n, detecting, prefix_domain, out, words + word_offset);
        if (scanned == 0) goto decline;
        if (scanned < 0) {
            /* Over 64 bytes: reserve its bytes and words for the caller's scanner. */
            scanned = (long)((n + 2) / 8 + 1);
            batch->deferred[deferred++] = (uint32_t)long_count;
        }
        batch->word_firsts[long_count] = (uint32_t)word_offset;
        batch->word_counts[long_count] = (uint32_t)scanned;
        batch->word_slots[long_count] = (uint32_t)slot;
        long_count++;
        const struct chub_fast_digest name_result = {0, 0, (int32_t)offset, (int32_t)n, codes.result_domain};
        results[slot] = name_result;
        word_offset += (size_t)scanned;
        offset += n;
        continue;
    decline:
        results[slot] = declined;
    }
    batch->final_count = final_count;
    batch->long_count = long_count;
    return deferred;
}
#else
size_t chub_batch_scan(const struct chub_value *values, const uint8_t *types, size_t count,
                       struct chub_type_codes codes, uint16_t prefix_ipv4, uint16_t prefix_domain,
                       size_t max_input, size_t max_fast, struct chub_batch *batch) {
    /* Never called off x86-64 (the caller uses it only with the vector scanners). */
    (void)values; (void)types; (void)count; (void)codes; (void)prefix_ipv4; (void)prefix_domain;
    (void)max_input; (void)max_fast;
    batch->final_count = 0;
    batch->long_count = 0;
    return 0;
}
#endif

void chub_batch_digest(uint64_t k0, uint64_t k1, struct chub_batch *batch) {
    const size_t finals = batch->final_count, longs = batch->long_count;
    uint64_t *const digests = batch->digests;
    uint64_t *const long_digests = digests + 2 * finals;
    chub_siphash128_final_words(1, k0, k1, batch->finals, finals, digests);
    chub_siphash128_words(1, k0, k1, batch->words, batch->word_firsts, batch->word_counts, longs, long_digests);
    struct chub_fast_digest *const results = batch->results;
    for (size_t i = 0; i < finals; i++) {
        struct chub_fast_digest *r = &results[batch->final_slots[i]];
        r->lo = digests[2 * i];
        r->hi = digests[2 * i + 1];
    }
    for (size_t i = 0; i < longs; i++) {
        if (batch->word_counts[i] == 0) continue;
        struct chub_fast_digest *r = &results[batch->word_slots[i]];
        r->lo = long_digests[2 * i];
        r->hi = long_digests[2 * i + 1];
    }
}
