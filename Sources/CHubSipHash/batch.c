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
 * of them per value): pass 1 (chub_scan_addresses) trims and dispatches every value on its
 * type byte into a list of addresses and a list of names, then scans and files the listed
 * addresses (a detected value the IPv4 scanner declines joins the names, after the others);
 * pass 2 (chub_scan_names) scans and files each listed name. The word lists are thus not in
 * slot order, which nothing relies on: each value is found through its own result and word
 * list entry (BatchScanPassTests compares every slot with the Swift loop). The common case (3...max_fast bytes, no byte <= 0x20 at
 * either end) is one range test and two byte tests: a count of at least 3 means a Swift buffer
 * with a base address, so the NULL and max_input tests only run on the rare path. Results'
 * lo and hi are not stored for accepted values: chub_batch_digest writes them for each one.
 */
#include "CHubSipHash.h"
#include <string.h>

#if defined(__x86_64__)
#include "scanners.h"

static inline int chub_is_space(uint8_t b) { return b == 0x20 || (uint8_t)(b - 0x09) <= 4; }

/* A value left for the name pass: its trimmed bytes, slot and whether it is detected. */
struct chub_pending_name {
    const uint8_t *p;
    uint32_t n, slot_detecting; /* slot << 1 | detecting */
};

/* Values per chunk: the pending names of one chunk live on the caller's stack. */
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

/* Pass 1 over values[first..<last], as two loops that each keep few values live: the first
   trims and dispatches on the type byte only, listing the addresses to scan (with detected
   values that may be one) in `addresses` and the names in `pending`; the second scans the
   listed addresses and files each accepted one at once (its canonical bytes, final word, slot
   and result); a detected value the IPv4 scanner declines joins the names. The names are then
   not all in slot order (those declined addresses come last), which nothing relies on: every
   value's words and bytes are found through its own result and word list entry.
   `typed` is a constant at each call (the loop is compiled once with types, once without). */
static inline __attribute__((always_inline)) CHUB_AVX2 size_t chub_scan_addresses(
    const struct chub_value *values, const uint8_t *types, const int typed, size_t first, size_t last,
    struct chub_type_codes codes, uint16_t prefix_ipv4, size_t max_input, size_t max_fast,
    struct chub_batch *batch, struct chub_scan_state *state, struct chub_pending_name *pending) {
    struct chub_fast_digest *const results = batch->results;
    struct chub_pending_name addresses[CHUB_SCAN_CHUNK];
    struct chub_pending_name *next = pending, *next_address = addresses;
    for (size_t slot = first; slot < last; slot++) {
        const uint8_t *p = values[slot].start;
        size_t n = (size_t)values[slot].count;
        const uint8_t code = typed ? types[slot] : codes.none;
        /* The common case in one test: 3...max_fast bytes (so p != NULL), no space at an end. */
        if (__builtin_expect(n - 3 > max_fast - 3 || p[0] <= 0x20 || p[n - 1] <= 0x20, 0)) {
            if (p == NULL || n > max_input) goto decline;
            while (n > 0 && chub_is_space(p[0])) { p++; n--; }
            while (n > 0 && chub_is_space(p[n - 1])) n--;
            if (n < 3 || n > max_fast) goto decline;
        }
        struct chub_pending_name *entry;
        uint32_t detecting;
        if (typed && code == codes.ipv4) {
            entry = next_address++;
            detecting = 0;
        } else if (typed && code == codes.domain) {
            entry = next++;
            detecting = 0;
        } else if (!typed || code == codes.none) {
            detecting = 1;
            if ((uint8_t)(p[0] - '0') < 10 && n <= 15) entry = next_address++;
            else entry = next++;
        } else {
            goto decline;
        }
        entry->p = p;
        entry->n = (uint32_t)n;
        entry->slot_detecting = (uint32_t)slot << 1 | detecting;
        continue;
    decline:
        chub_decline(&results[slot], codes.result_ipv4);
    }
    /* The addresses: the canonical bytes (bytes 2-5 of the message word), the final word, its
       slot and the result, all at index `found` of their arrays. */
    const struct chub_pending_name *const addresses_end = next_address;
    uint64_t *const finals = batch->finals + state->final_count;
    uint32_t *const final_slots = batch->final_slots + state->final_count;
    uint8_t *const out = batch->bytes + state->offset;
    const uint64_t where = (uint64_t)(uint32_t)state->offset | (uint64_t)4 << 32;
    const uint64_t final_top = (uint64_t)6 << 56 | prefix_ipv4;
    const uint8_t result_ipv4 = codes.result_ipv4;
    size_t found = 0;
    for (const struct chub_pending_name *a = addresses; a < addresses_end; a++) {
        const uint32_t slot = a->slot_detecting >> 1;
        const uint64_t scanned = chub_ipv4_scan_inline(a->p, a->n);
        if (scanned >> 32) {
            const uint32_t big = __builtin_bswap32((uint32_t)scanned);
            memcpy(out + 4 * found, &big, 4);
            finals[found] = final_top | (uint64_t)big << 16;
            final_slots[found] = slot;
            struct chub_fast_digest *const r = &results[slot];
            const uint64_t at = where + 4 * found;
            memcpy(&r->offset, &at, 8);
            r->type = result_ipv4;
            found++;
        } else if (a->slot_detecting & 1) {
            *next++ = *a;
        } else {
            chub_decline(&results[slot], result_ipv4);
        }
    }
    state->offset += 4 * found;
    state->final_count += found;
    return (size_t)(next - pending);
}

static __attribute__((noinline)) CHUB_AVX2 size_t chub_scan_addresses_typed(
    const struct chub_value *values, const uint8_t *types, size_t first, size_t last, struct chub_type_codes codes,
    uint16_t prefix_ipv4, size_t max_input, size_t max_fast, struct chub_batch *batch, struct chub_scan_state *state,
    struct chub_pending_name *pending) {
    return chub_scan_addresses(values, types, 1, first, last, codes, prefix_ipv4, max_input, max_fast, batch, state,
                               pending);
}

static __attribute__((noinline)) CHUB_AVX2 size_t chub_scan_addresses_detected(
    const struct chub_value *values, size_t first, size_t last, struct chub_type_codes codes, uint16_t prefix_ipv4,
    size_t max_input, size_t max_fast, struct chub_batch *batch, struct chub_scan_state *state,
    struct chub_pending_name *pending) {
    return chub_scan_addresses(values, NULL, 0, first, last, codes, prefix_ipv4, max_input, max_fast, batch, state,
                               pending);
}

/* Pass 2: the listed names, each scanned and filed at once (its word list entry and result);
   offsets are kept as counters from the batch's bases. A name over 64 bytes (the scanner
   returns -1) has its bytes and words reserved and is listed for the caller's scanner. */
static __attribute__((noinline)) CHUB_AVX2 void chub_scan_names(
    const struct chub_pending_name *pending, size_t pending_count, uint8_t result_domain, uint8_t result_declined,
    uint16_t prefix_domain, struct chub_batch *batch, struct chub_scan_state *state) {
    uint8_t *const bytes = batch->bytes;
    uint64_t *const words = batch->words;
    struct chub_fast_digest *const results = batch->results;
    uint32_t *const word_firsts = batch->word_firsts, *const word_counts = batch->word_counts;
    uint32_t *const word_slots = batch->word_slots;
    size_t offset = state->offset, word_offset = state->word_offset, long_count = state->long_count;
    const struct chub_pending_name *const end = pending + pending_count;
    for (const struct chub_pending_name *e = pending; e < end; e++) {
        const size_t n = e->n;
        const uint32_t slot = e->slot_detecting >> 1;
        long count = chub_name_scan_inline(e->p, n, (int)(e->slot_detecting & 1), prefix_domain, bytes + offset,
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
    struct chub_pending_name pending[CHUB_SCAN_CHUNK];
    for (size_t first = 0; first < count; first += CHUB_SCAN_CHUNK) {
        const size_t last = count - first < CHUB_SCAN_CHUNK ? count : first + CHUB_SCAN_CHUNK;
        const size_t pending_count =
            types ? chub_scan_addresses_typed(values, types, first, last, codes, prefix_ipv4, max_input, max_fast,
                                              batch, &state, pending)
                  : chub_scan_addresses_detected(values, first, last, codes, prefix_ipv4, max_input, max_fast, batch,
                                                 &state, pending);
        chub_scan_names(pending, pending_count, codes.result_domain, codes.result_ipv4, prefix_domain, batch, &state);
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
