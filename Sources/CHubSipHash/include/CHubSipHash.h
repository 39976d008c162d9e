#ifndef CHUBSIPHASH_H
#define CHUBSIPHASH_H
#include <stddef.h>
#include <stdint.h>

/*
 * SipHash-2-4 with a 128-bit output (the digest of docs/STORE-FORMAT.md, the same function as
 * libsodium's crypto_shorthash_siphashx24) over messages already cut into SipHash's 64-bit
 * message words, four messages at a time in the 64-bit lanes of AVX2 registers when the CPU
 * has AVX2, else one at a time in portable C. Used by IndicatorKit's batch digest
 * (DigestKey+Batch.swift); see docs/BENCHMARKS-HISTORY.md, "SIMD SipHash".
 *
 * A message of n bytes is n / 8 + 1 words: the full 8-byte blocks read little-endian, then the
 * final word (the last n % 8 bytes, little-endian, with n mod 256 in the top byte). The caller
 * builds the words (the canonicaliser's scanner emits them as it validates), so the kernel
 * reads no bytes and needs no masking.
 */

/* 1 when the AVX2 kernel can run here (the CPU has AVX2 and the OS saves the YMM registers),
   else 0. Checked once with CPUID/XGETBV, then cached. Always 0 off x86-64. */
int chub_siphash128_avx2_available(void);

/*
 * Digests `count` messages: message i is the counts[i] words at words + firsts[i]; a message
 * with counts[i] == 0 is skipped (its digest slots are not written). Writes output bytes 0-7
 * and 8-15 of message i, read little-endian, to digests[2i] and digests[2i + 1].
 * (k0, k1) = key bytes 0-7 and 8-15 read little-endian.
 *
 * With `avx2` non-zero and chub_siphash128_avx2_available(), messages are hashed in groups of
 * four lanes in their given order, two groups at a time (words gathered per lane; lanes of
 * unequal length are handled by masking); otherwise, or with `avx2` zero, one at a time. Both
 * give the same digests.
 */
void chub_siphash128_words(int avx2, uint64_t k0, uint64_t k1, const uint64_t *words,
                           const uint32_t *firsts, const uint32_t *counts, size_t count,
                           uint64_t *digests);

/*
 * Digests `count` messages of one word each (messages of 0-7 bytes: each is its final word;
 * an IPv4 address's `version || type || 4 bytes` is one), given back to back at `finals`:
 * no sorting or gathering, four loaded at once, eight hashed at once. Digests as above.
 */
void chub_siphash128_final_words(int avx2, uint64_t k0, uint64_t k1, const uint64_t *finals, size_t count,
                                 uint64_t *digests);

/*
 * Four messages exactly as given, one per lane, without sorting (for tests of unequal lanes):
 * message i is counts[i] >= 1 words at messages[i]; digests as above, digests[0..<8].
 * Falls back to the portable code like chub_siphash128_words.
 */
void chub_siphash128_x4(int avx2, uint64_t k0, uint64_t k1, const uint64_t *const messages[4],
                        const uint32_t counts[4], uint64_t digests[8]);

/*
 * The batch digest's IPv4 scanner (ipv4.c): when the n bytes at p are a strict dotted quad
 * (four octets 0-255 of 1-3 digits, no leading zero, nothing else; 7 <= n <= 15), returns
 * 2^32 | address, the address with its first octet in the top byte; otherwise 0. Reads only
 * p[0..<n]. Only ever accepts what Canonicalizer.fastIPv4 (Swift) accepts, with the same
 * address. Call only when chub_siphash128_avx2_available() (SSSE3 instructions in VEX form);
 * off x86-64 it is a stub that declines everything.
 */
uint64_t chub_ipv4_scan_avx2(const uint8_t *p, size_t n);

/*
 * The batch digest's name scanner (name.c), for names of 3-64 bytes: when the n bytes at p are
 * a name Canonicalizer.fastDomain (Swift) accepts (with `detecting` as there), writes the
 * lower-cased name to out and the SipHash message words of `prefix || name` (prefix: the two
 * bytes version, type, little-endian) to words, and returns the number of words (>= 1);
 * returns 0 when it declines (the general canonicaliser decides) and -1, writing nothing, when
 * n is outside 3-64 (the Swift scanner decides). Reads only p[0..<n]; writes up to 16 bytes
 * past out + n and up to 98 bytes from words (the caller's scratch has room). Call only when
 * chub_siphash128_avx2_available(); off x86-64 a stub that returns -1.
 */
long chub_name_scan_avx2(const uint8_t *p, size_t n, int detecting, uint16_t prefix, uint8_t *out,
                         uint64_t *words);
/*
 * The batch digest's first pass (batch.c) over a packed batch, in one call: for each value the
 * trim test, the type dispatch, the vector scanners and the filing of its message words, as the
 * Swift loop of DigestKey+Batch.swift does it value by value (same order, same answers).
 *
 * Values are `struct chub_value`s (a pointer and a byte count: the layout of Swift's
 * UnsafeBufferPointer<UInt8>, checked by the caller before it uses this). Types are one byte
 * per value in `types` (NULL: every value detected) compared with the codes in `codes`; any
 * other code is declined. Results are `struct chub_fast_digest`s (the layout of IndicatorKit's
 * FastDigest, also checked), lo/hi written by chub_batch_digest.
 *
 * Names the vector scanner cannot take (over 64 bytes) are filed with their bytes and words
 * reserved and listed in `deferred` (their index in the word lists): the caller scans them
 * (the Swift scanner) and sets their word count to 0 when it declines. Returns how many.
 */
struct chub_value {
    const uint8_t *start;
    intptr_t count;
};

struct chub_fast_digest {
    uint64_t lo, hi;
    int32_t offset, count;
    uint8_t type;
};

struct chub_type_codes {
    uint8_t ipv4, domain, none; /* the byte of IndicatorType? .ipv4, .domain, nil */
    uint8_t result_ipv4, result_domain; /* the byte of IndicatorType .ipv4, .domain */
};

struct chub_batch {
    struct chub_fast_digest *results;
    uint8_t *bytes;
    uint64_t *words;
    uint32_t *word_firsts, *word_counts, *word_slots;
    uint64_t *finals;
    uint32_t *final_slots;
    uint32_t *deferred;
    uint64_t *digests;
    size_t final_count, long_count; /* out */
};

size_t chub_batch_scan(const struct chub_value *values, const uint8_t *types, size_t count,
                       struct chub_type_codes codes, uint16_t prefix_ipv4, uint16_t prefix_domain,
                       size_t max_input, size_t max_fast, struct chub_batch *batch);

/* The second pass: digests the filed messages (chub_siphash128_final_words, _words) and
   writes each digest into its value's result (a message with word count 0 is skipped). */
/* chub_batch_digest's first half: the digests of the finals, then of the word lists, into
   batch->digests (2 words each, finals first). */
void chub_batch_hash(uint64_t k0, uint64_t k1, struct chub_batch *batch);
void chub_batch_digest(uint64_t k0, uint64_t k1, struct chub_batch *batch);
/* chub_batch_digest's second half: each digest's lo/hi into its value's result (a long message
   of word count 0, a name declined after the scan, is skipped). */
void chub_batch_write_results(const struct chub_batch *batch);
/* ================================================================================================
 * Matcher stages (probe.c; IndicatorStore/Matcher+Stages.swift). The matcher's stages after the
 * digests for a state without delta layers; the same answers as the Swift stages, which stay the
 * general path. Swift owns the arrays: `chub_probe`, `chub_value_state` and `chub_match_record`
 * are the layouts of its `Probe`, `ValueState` and `MatchRecord`, checked once at run time by
 * the caller before it uses these functions (`StageLayout`).
 * ============================================================================================== */

/* A probe: the stored digest, its kind (0 exact, 1 network, 2 parent, 3 URL expression) and
   detail, and the scan's answer (cold index, -1 absent, -2 not scanned yet). */
struct chub_probe {
    uint64_t lo, hi;
    uint8_t kind, detail;
    uint8_t type; /* the value's IndicatorType byte: set by chub_stage_exact_probes only */
    int64_t entry;
};

/* A value of a batch: its type (the byte of IndicatorType) and its probes
   probes[first ..< first + count]; count -1: refused. */
struct chub_value_state {
    uint8_t type;
    int32_t first, count;
};

/* The answer for a value (MatchRecord): status, type, matching probe's kind and detail, the
   entry's metadata words and the matching probe's digest (zero unless a hit). */
struct chub_match_record {
    uint8_t status, type, kind, detail;
    uint64_t word2, word3, lo, hi;
};

/* The bytes of MatchRecord.Status .refused, .miss, .hit and of IndicatorType.ipv4 (the type
   of a refused record). */
struct chub_record_codes {
    uint8_t refused, miss, hit, refused_type;
};

/* A snapshot's bucket array and cold records (BucketTable; docs/STORE-FORMAT.md). */
/* One delta layer of a live state (IndicatorStore DeltaIndex): `mask + 1` slots of four words
   (lo, 0 = empty; hi; metadata word 2; metadata word 3, `chub_tombstone_word3` for a tombstone),
   linear probing from slot lo & mask, behind a one-bit filter. */
struct chub_delta {
    const uint64_t *slots;
    uint64_t mask;
    /* `filter_mask + 1` bits; bit (lo >> 32) & filter_mask is set for every entry (clear: the
       layer does not have the digest). */
    const uint64_t *filter;
    uint64_t filter_mask;
};

/* `word3` of a delta tombstone (DeltaIndex.tombstoneWord3): flags bit 7, reserved in every
   metadata word a writer produces. */
static const uint64_t chub_tombstone_word3 = (uint64_t)1 << 39;

/* The snapshot's bucket table and the state's delta layers, newest first (none: delta_count 0).
   A probe the delta knows gets the entry -3 - (layer << 48 | slot) (Probe.deltaReference): the
   newest layer's entry answers it alone, the snapshot is not read. */
struct chub_table {
    const uint8_t *buckets, *records;
    uint64_t home_buckets;
    int64_t last_bucket, entry_count;
    const struct chub_delta *deltas;
    int64_t delta_count;
};

/* From results[slot] on, while the batch fast path accepted the value and its type byte's bit
   is clear in `covering` (no network or parent probes in this state): files its exact probe
   (Slot.stored digest, entry -2, the value's type byte) at probes[*probe_count], prefetches its
   home bucket (and each delta layer's filter word), and advances *probe_count; with `states` non-NULL, also its state at
   states[slot] (count 1). Returns the first slot it did not file (count when it filed all). */
size_t chub_stage_exact_probes(const struct chub_fast_digest *results, size_t slot, size_t count, uint64_t covering,
                               struct chub_probe *probes, size_t *probe_count, struct chub_value_state *states,
                               const struct chub_table *table);

/* chub_batch_digest fused with chub_stage_exact_probes. Call only when no long message has
   word count 0 (no long name was declined after the scan: the caller uses chub_batch_digest
   then). For a batch of `count` values whose every value the scan accepted
   (batch->final_count + batch->long_count == count) and none of whose types has its bit in
   `covering`: files value i's exact
   probe at probes[i] (as chub_stage_exact_probes would: one per value, in value order) straight
   from the kernels' output and prefetches its home bucket (and the layers' filter words), and returns 1 without writing the
   results' lo/hi. Otherwise writes lo/hi into the results exactly as chub_batch_digest, returns
   0, and probes[0 ..< count] hold nothing the caller may use. */
int chub_batch_digest_probes(uint64_t k0, uint64_t k1, struct chub_batch *batch, size_t count, uint64_t covering,
                             struct chub_probe *probes, const struct chub_table *table);

/* The states of values 0 ..< count whose exact probes chub_stage_exact_probes filed at
   probes[first ...] without states: value j's is (probes[first + j].type, first + j, 1). */
void chub_stage_exact_states(const struct chub_probe *probes, size_t first, size_t count,
                             struct chub_value_state *states);

/* For each probe: BucketTable.locate (the cold index of the first entry whose fingerprint is
   lo, or -1) into its `entry`, and prefetches both lines of a located cold record. With `avx2`
   (only where chub_siphash128_avx2_available()), a bucket's fingerprints are compared four at a
   time; the same answers. chub_stage_locate_one: the scan of one lo, without prefetching. */
void chub_stage_locate(int avx2, const struct chub_table *table, struct chub_probe *probes, size_t count);
int64_t chub_stage_locate_one(int avx2, const struct chub_table *table, uint64_t lo);

/* BucketTable.find: the cold index of the stored digest (lo, hi), or -1. */
int64_t chub_stage_find(const struct chub_table *table, uint64_t lo, uint64_t hi);

/* Writes records[i] for states[0 ..< count]: refused, or the first probe of the value that finds
   a live entry (entry -2 or a cold hi that differs: found with chub_stage_find; not expired at
   `now`; a parent only if it covers subdomains) as a hit, else a miss (Matcher.resolve). */
void chub_stage_resolve(const struct chub_table *table, const struct chub_probe *probes,
                        const struct chub_value_state *states, size_t count, uint32_t now,
                        struct chub_record_codes codes, struct chub_match_record *records);

/* chub_stage_resolve for a batch whose every value has exactly one probe, filed by
   chub_stage_exact_probes: value i is probes[i] (its type from the probe), no states read. */
void chub_stage_resolve_exact(const struct chub_table *table, const struct chub_probe *probes, size_t count,
                              uint32_t now, struct chub_record_codes codes, struct chub_match_record *records);
#endif
