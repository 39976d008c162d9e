/*
 * The batch digest's first pass in C (interface: CHubSipHash.h, chub_batch_scan): the Swift
 * loop it replaces (DigestKey.canonicalDigestLanes) held about 17 pointers and counters and
 * spilled them on every value; here the scanners are inlined. The rules are those of
 * Canonicalizer.fastDispatch: trim ASCII whitespace (only when an end byte is <= 0x20),
 * 3...max_fast bytes, ipv4 / domain / detected; a detected value that starts with a digit and
 * has at most 15 bytes tries the IPv4 scanner first.
 *
 * Values go through in chunks of 64, each in two passes, so that each loop has only one
 * scanner's constants and its own counters live (one loop with both inlined spilled about 15
 * of them per value): pass 1 (chub_scan_addresses) builds the chunk's type masks (one bit per
 * value, without branches), trims and scans the addresses, and returns the mask of names (with
 * detected values the IPv4 scanner declined); pass 2 (chub_scan_names) trims, scans and files
 * each name at once, in slot order, so the words are filed exactly as one pass would file them.
 * Walking masks, neither pass branches on a value's type (mixed types in random order
 * mispredicted about half a branch per value). The common case (3...max_fast bytes, no byte <= 0x20 at
 * either end) is one range test and two byte tests: a count of at least 3 means a Swift buffer
 * with a base address, so the NULL and max_input tests only run on the rare path. Results'
 * lo and hi are not stored for accepted values: chub_batch_digest writes them for each one.
 */
#include "CHubSipHash.h"
#include <string.h>

#if defined(__x86_64__)
#include "scanners.h"

static inline int chub_is_space(uint8_t b) { return b == 0x20 || (uint8_t)(b - 0x09) <= 4; }

/* Values per chunk: one bit each in the chunk's masks. */
#define CHUB_SCAN_CHUNK 64

/* The loop state both passes carry from chunk to chunk. */
struct chub_scan_state {
    size_t offset, word_offset, final_count, long_count, deferred;
};

/* The accepted result's offset, count and type (lo and hi are written by chub_batch_digest,
   which fills them in for every value filed here: they are not stored twice). */
static inline void chub_file_result(struct chub_fast_digest *r, size_t offset, size_t n, uint8_t type) {
    const uint64_t where = (uint64_t)(uint32_t)offset | (uint64_t)n << 32;
    memcpy(&r->offset, &where, 8);
    r->type = type;
}

static inline void chub_decline(struct chub_fast_digest *r, uint8_t type) {
    const struct chub_fast_digest declined = {0, 0, 0, 0, type};
    *r = declined;
}

/* The rare path of the length and trim test: NULL, too long, or trimmed to under 3 or over
   max_fast bytes declines (returns 0); else the trimmed bytes. */
static __attribute__((noinline, cold)) int chub_trim_slow(const uint8_t **start, size_t *count, size_t max_input,
                                                           size_t max_fast) {
    const uint8_t *p = *start;
    size_t n = *count;
    if (p == NULL || n > max_input) return 0;
    while (n > 0 && chub_is_space(p[0])) { p++; n--; }
    while (n > 0 && chub_is_space(p[n - 1])) n--;
    *start = p;
    *count = n;
    return n >= 3 && n <= max_fast;
}

/* The common case in one test: 3...max_fast bytes (so p != NULL), no space at an end. */
static inline __attribute__((always_inline)) int chub_trim(const uint8_t **p, size_t *n, size_t max_input,
                                                           size_t max_fast) {
    if (__builtin_expect(*n - 3 > max_fast - 3 || (*p)[0] <= 0x20 || (*p)[*n - 1] <= 0x20, 0))
        return chub_trim_slow(p, n, max_input, max_fast);
    return 1;
}

/* Pass 1 over values[first..<last]: the values' types as bit masks (one bit per value, built
   without branches), then the addresses and detected values (bit order is slot order), each
   trimmed and scanned; the addresses are filed at once. Returns the mask of names for pass 2:
   the domains, the detected values that do not look numeric and those the IPv4 scanner
   declined; `detected_out` is the mask of detected values. Walking masks rather than branching on each value's type keeps values of
   mixed types in random order from mispredicting (about half a branch per value).
   `typed` is a constant at each call (the loop is compiled once with types, once without). */
static inline __attribute__((always_inline)) CHUB_AVX2 uint64_t chub_scan_addresses(
    const struct chub_value *values, const uint8_t *types, const int typed, size_t first, size_t last,
    struct chub_type_codes codes, uint16_t prefix_ipv4, size_t max_input, size_t max_fast,
    struct chub_batch *batch, struct chub_scan_state *state, uint64_t *detected_out) {
    struct chub_fast_digest *const results = batch->results;
    const size_t count = last - first;
    const uint64_t all = count == 64 ? ~(uint64_t)0 : ((uint64_t)1 << count) - 1;
    uint64_t ipv4 = 0, domain = 0, none = all;
    if (typed) {
        none = 0;
        for (size_t i = 0; i < count; i++) {
            const uint8_t code = types[first + i];
            ipv4 |= (uint64_t)(code == codes.ipv4) << i;
            domain |= (uint64_t)(code == codes.domain) << i;
            none |= (uint64_t)(code == codes.none) << i;
        }
        for (uint64_t other = all & ~(ipv4 | domain | none); other; other &= other - 1)
            chub_decline(&results[first + (size_t)__builtin_ctzll(other)], codes.result_ipv4);
    }
    *detected_out = none;
    /* Detected values in the common case (see chub_trim) that do not look numeric (a digit
       first, at most 15 bytes) are names: found here without branching on each value, so that
       the loop below does not branch on them (values of both kinds in random order). */
    uint64_t names = domain;
    for (uint64_t todo = none; todo; todo &= todo - 1) {
        const size_t index = (size_t)__builtin_ctzll(todo);
        const uint8_t *const p = values[first + index].start;
        const size_t n = (size_t)values[first + index].count;
        if (__builtin_expect(n - 3 > max_fast - 3, 0)) continue;
        const uint8_t head = p[0], tail = p[n - 1];
        const uint64_t name = (head > 0x20) & (tail > 0x20) & (((uint8_t)(head - '0') >= 10) | (n > 15));
        names |= name << index;
    }
    uint64_t *const first_final = batch->finals + state->final_count;
    uint32_t *const first_final_slot = batch->final_slots + state->final_count;
    uint64_t *final = first_final;
    uint32_t *final_slot = first_final_slot;
    const uint64_t final_top = (uint64_t)6 << 56 | prefix_ipv4;
    for (uint64_t todo = (ipv4 | none) & ~names; todo; todo &= todo - 1) {
        const size_t index = (size_t)__builtin_ctzll(todo);
        const size_t slot = first + index;
        const uint8_t *p = values[slot].start;
        size_t n = (size_t)values[slot].count;
        if (!chub_trim(&p, &n, max_input, max_fast)) goto decline;
        const uint64_t detecting = typed ? (none >> index) & 1 : 1;
        if (detecting && ((uint8_t)(p[0] - '0') >= 10 || n > 15)) goto name;
        {
            const uint64_t scanned = chub_ipv4_scan_inline(p, n);
            if (scanned >> 32) {
                const uint32_t big = __builtin_bswap32((uint32_t)scanned);
                *final++ = final_top | (uint64_t)big << 16;
                *final_slot++ = (uint32_t)slot;
                continue;
            }
            if (!detecting) goto decline;
        }
    name:
        names |= (uint64_t)1 << index;
        continue;
    decline:
        chub_decline(&results[slot], codes.result_ipv4);
    }
    /* The addresses' canonical bytes (bytes 2-5 of the message word) and results, filed here
       rather than in the loop above, which then keeps fewer values live. */
    const size_t found = (size_t)(final - first_final);
    uint8_t *const out = batch->bytes + state->offset;
    for (size_t i = 0; i < found; i++) {
        const uint32_t big = (uint32_t)(first_final[i] >> 16);
        memcpy(out + 4 * i, &big, 4);
        chub_file_result(&results[first_final_slot[i]], state->offset + 4 * i, 4, codes.result_ipv4);
    }
    state->offset += 4 * found;
    state->final_count += found;
    return names;
}

static __attribute__((noinline)) CHUB_AVX2 uint64_t chub_scan_addresses_typed(
    const struct chub_value *values, const uint8_t *types, size_t first, size_t last, struct chub_type_codes codes,
    uint16_t prefix_ipv4, size_t max_input, size_t max_fast, struct chub_batch *batch, struct chub_scan_state *state,
    uint64_t *detected) {
    return chub_scan_addresses(values, types, 1, first, last, codes, prefix_ipv4, max_input, max_fast, batch, state,
                               detected);
}

static __attribute__((noinline)) CHUB_AVX2 uint64_t chub_scan_addresses_detected(
    const struct chub_value *values, size_t first, size_t last, struct chub_type_codes codes, uint16_t prefix_ipv4,
    size_t max_input, size_t max_fast, struct chub_batch *batch, struct chub_scan_state *state, uint64_t *detected) {
    return chub_scan_addresses(values, NULL, 0, first, last, codes, prefix_ipv4, max_input, max_fast, batch, state,
                               detected);
}

/* Pass 2: the names in the mask (bit order is slot order), each trimmed, scanned and filed at
   once (its word list entry and result); offsets are kept as counters from the batch's bases.
   A name over 64 bytes (the scanner returns -1) has its bytes and words reserved and is listed
   for the caller's scanner. */
static __attribute__((noinline)) CHUB_AVX2 void chub_scan_names(
    const struct chub_value *values, size_t first, uint64_t names, uint64_t detected, uint8_t result_domain,
    uint8_t result_declined, uint16_t prefix_domain, size_t max_input, size_t max_fast, struct chub_batch *batch,
    struct chub_scan_state *state) {
    uint8_t *const bytes = batch->bytes;
    uint64_t *const words = batch->words;
    struct chub_fast_digest *const results = batch->results;
    uint32_t *const word_firsts = batch->word_firsts, *const word_counts = batch->word_counts;
    uint32_t *const word_slots = batch->word_slots;
    size_t offset = state->offset, word_offset = state->word_offset, long_count = state->long_count;
    for (; names; names &= names - 1) {
        const size_t index = (size_t)__builtin_ctzll(names);
        const uint32_t slot = (uint32_t)(first + index);
        const uint8_t *p = values[slot].start;
        size_t n = (size_t)values[slot].count;
        if (!chub_trim(&p, &n, max_input, max_fast)) {
            chub_decline(&results[slot], result_declined);
            continue;
        }
        long count = chub_name_scan_inline(p, n, (int)((detected >> index) & 1), prefix_domain, bytes + offset,
                                           words + word_offset);
        if (count == 0) {
            chub_decline(&results[slot], result_declined);
            continue;
        }
        if (__builtin_expect(count < 0, 0)) {
            count = (long)((n + 2) / 8 + 1);
            batch->deferred[state->deferred++] = (uint32_t)long_count;
        }
        word_firsts[long_count] = (uint32_t)word_offset;
        word_counts[long_count] = (uint32_t)count;
        word_slots[long_count] = slot;
        long_count++;
        chub_file_result(&results[slot], offset, n, result_domain);
        word_offset += (size_t)count;
        offset += n;
    }
    state->offset = offset;
    state->word_offset = word_offset;
    state->long_count = long_count;
}

CHUB_AVX2 size_t chub_batch_scan(const struct chub_value *values, const uint8_t *types, size_t count,
                                 struct chub_type_codes codes, uint16_t prefix_ipv4, uint16_t prefix_domain,
                                 size_t max_input, size_t max_fast, struct chub_batch *batch) {
    struct chub_scan_state state = {0, 0, 0, 0, 0};
    for (size_t first = 0; first < count; first += CHUB_SCAN_CHUNK) {
        const size_t last = count - first < CHUB_SCAN_CHUNK ? count : first + CHUB_SCAN_CHUNK;
        uint64_t detected;
        const uint64_t names =
            types ? chub_scan_addresses_typed(values, types, first, last, codes, prefix_ipv4, max_input, max_fast,
                                              batch, &state, &detected)
                  : chub_scan_addresses_detected(values, first, last, codes, prefix_ipv4, max_input, max_fast, batch,
                                                 &state, &detected);
        chub_scan_names(values, first, names, detected, codes.result_domain, codes.result_ipv4, prefix_domain,
                        max_input, max_fast, batch, &state);
    }
    batch->final_count = state.final_count;
    batch->long_count = state.long_count;
    return state.deferred;
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

void chub_batch_write_results(const struct chub_batch *batch) {
    const size_t finals = batch->final_count, longs = batch->long_count;
    const uint64_t *const digests = batch->digests, *const long_digests = digests + 2 * finals;
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

void chub_batch_hash(uint64_t k0, uint64_t k1, struct chub_batch *batch) {
    const size_t finals = batch->final_count, longs = batch->long_count;
    chub_siphash128_final_words(1, k0, k1, batch->finals, finals, batch->digests);
    chub_siphash128_words(1, k0, k1, batch->words, batch->word_firsts, batch->word_counts, longs,
                          batch->digests + 2 * finals);
}

void chub_batch_digest(uint64_t k0, uint64_t k1, struct chub_batch *batch) {
    chub_batch_hash(k0, k1, batch);
    chub_batch_write_results(batch);
}
