/*
 * The matcher's stages after the digests, in C (interface: CHubSipHash.h, "Matcher stages"),
 * for a snapshot and the delta layers of a live state (docs/LIVE-UPDATES.md; usually none): filing the exact probe of every value the batch fast path
 * accepted (and prefetching its home bucket), scanning the buckets (AVX2: the seven
 * fingerprints of a bucket compared with two vector compares), and resolving each value's
 * probes against the cold records. The rules are those of docs/STORE-FORMAT.md ("Lookup",
 * "Lookups of values") exactly as the Swift stages apply them (IndicatorStore/Matcher+Probes.swift,
 * Snapshot+UnsafeHandle.swift `BucketTable`), corrupted buckets included: a count above 7 is 7,
 * no scan passes the last bucket, a cold index >= the entry count is absent.
 *
 * The probe, value-state and record arrays are Swift's (`Probe`, `ValueState`, `MatchRecord`);
 * their layouts are checked once at run time by the caller (`StageLayout`), which uses these
 * functions only when they hold.
 */
#include "CHubSipHash.h"
#include <stddef.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define CHUB_STAGES_AVX2 __attribute__((target("avx2")))
#endif

enum { SLOTS = 7, BUCKET_BYTES = 64, RECORD_BYTES = 24, UNSCANNED = -2, KIND_PARENT = 2 };

static inline uint64_t load_le64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* floor(lo × H / 2^64): the home bucket (Bucket.home). */
static inline int64_t home_bucket(const struct chub_table *t, uint64_t lo) {
    return (int64_t)(uint64_t)(((unsigned __int128)lo * t->home_buckets) >> 64);
}

/* The delta reference of a stored digest: the newest layer that has it (DeltaIndex.slot), or -1. */
/* The slot walk of one layer, for a digest its filter let through (rare for a digest the layer
   does not have: out of line, so the loops calling delta_locate stay small). */
__attribute__((noinline)) static int64_t delta_walk(const struct chub_delta *d, int64_t layer, uint64_t lo,
                                                    uint64_t hi) {
    for (uint64_t slot = lo & d->mask;; slot = (slot + 1) & d->mask) {
        const uint64_t key = d->slots[4 * slot];
        if (key == 0) return -1;
        if (key == lo && d->slots[4 * slot + 1] == hi) return -3 - (int64_t)((uint64_t)layer << 48 | slot);
    }
}

static inline int64_t delta_locate(const struct chub_table *t, uint64_t lo, uint64_t hi) {
    for (int64_t layer = 0; layer < t->delta_count; layer++) {
        const struct chub_delta *const d = &t->deltas[layer];
        const uint64_t bit = (lo >> 32) & d->filter_mask;
        if (__builtin_expect((d->filter[bit >> 6] >> (bit & 63)) & 1, 0)) {
            const int64_t reference = delta_walk(d, layer, lo, hi);
            if (reference != -1) return reference;
        }
    }
    return -1;
}

/* The filter words of probes[0 ..< count] in every delta layer (a slot is read only when the
   filter lets the digest through, rarely: slots are not prefetched). A pass of its own after
   the probes are filed, so that filing stays free of the layers; nothing without layers. */
static void prefetch_delta_filters(const struct chub_table *t, const struct chub_probe *probes, size_t count) {
    for (int64_t layer = 0; layer < t->delta_count; layer++) {
        const struct chub_delta d = t->deltas[layer];
        for (size_t i = 0; i < count; i++) __builtin_prefetch(d.filter + (((probes[i].lo >> 32) & d.filter_mask) >> 6), 0, 3);
    }
}

/* Bits set in a 7-bit mask. */
static const uint8_t bits7[128] = {
#define B2(n) n, n + 1, n + 1, n + 2
#define B4(n) B2(n), B2(n + 1), B2(n + 1), B2(n + 2)
#define B6(n) B4(n), B4(n + 1), B4(n + 1), B4(n + 2)
    B6(0), B6(1)
#undef B2
#undef B4
#undef B6
};

/* The end of BucketTable.locate(lo:from:) once `below` (fingerprints < lo among the 7 slots,
   unused zero slots included) is known: 1 with *entry set when the scan ends here, 0 to
   continue with the next bucket. */
static inline int locate_decide(const struct chub_table *t, const uint8_t *bucket, uint64_t word, int64_t index,
                                unsigned below, uint64_t lo, int64_t *entry) {
    /* Branch-free apart from the rare spill into the next bucket: whether `lo` is found is as
       random as the queries, and a mispredicted branch costs more than the few selects. */
    const uint64_t raw = (word >> 32) & 0xFF;
    const int64_t count = (int64_t)(raw > SLOTS ? SLOTS : raw);
    /* The scan goes on only when the bucket is full (count 7) and all its slots are below `lo`
       (below 7), i.e. below + count = 14 (both are at most 7), and a bucket follows: one test
       that is rarely true (3.4 % of random misses), so its branch is well predicted. (Written
       as `position >= count && count == 7`, the compiler branched on count < 7 first, true
       for most buckets but not predictably.) */
    if (__builtin_expect((int64_t)below + count == 2 * SLOTS, 0) && index < t->last_bucket) return 0;
    int64_t position = (int64_t)below + count - SLOTS;
    position = position < 0 ? 0 : position;
    /* position <= 7 here; slot 7 would be past the fingerprints, so read slot 6 instead
       (its answer is discarded: position < count fails). */
    const int64_t read = position < SLOTS ? position : SLOTS - 1;
    const int64_t found = (int64_t)(uint32_t)word + position;
    const int hit = (position < count) & (load_le64(bucket + 8 + 8 * read) == lo) & (found < t->entry_count);
    *entry = hit ? found : -1;
    return 1;
}

/* Prefetches the cold record `entry` found (both lines it may straddle). Unconditional, a miss
   prefetching the first record (harmless): no branch on found, which is as random as the
   queries. */
static inline void prefetch_record(const struct chub_table *t, int64_t entry) {
    const uint8_t *const record = t->records + (entry >= 0 ? entry : 0) * RECORD_BYTES;
    __builtin_prefetch(record, 0, 3);
    __builtin_prefetch(record + RECORD_BYTES - 1, 0, 3);
}

static int64_t locate_portable(const struct chub_table *t, uint64_t lo) {
    int64_t index = home_bucket(t, lo);
    for (;;) {
        const uint8_t *bucket = t->buckets + index * BUCKET_BYTES;
        unsigned below = 0;
        for (int slot = 0; slot < SLOTS; slot++) below += load_le64(bucket + 8 + 8 * slot) < lo;
        int64_t entry;
        if (locate_decide(t, bucket, load_le64(bucket), index, below, lo, &entry)) return entry;
        index++;
    }
}

#if defined(__x86_64__)
/* The same scan with the fingerprints compared four at a time: AVX2 compares signed 64-bit
   lanes, so both sides are biased by 2^63 (unsigned order); two overlapping loads cover the
   seven slots. `t` is a copy in the caller's frame, so that the
   stores to the probes cannot alias it. */
CHUB_STAGES_AVX2 static inline int64_t locate_avx2(const struct chub_table t, const uint64_t *where) {
    const uint64_t lo = *where;
    const __m256i bias = _mm256_set1_epi64x((long long)0x8000000000000000ULL);
    const __m256i key = _mm256_xor_si256(_mm256_broadcastq_epi64(_mm_loadl_epi64((const __m128i *)where)), bias);
    int64_t index = home_bucket(&t, lo);
    for (;;) {
        const uint8_t *bucket = t.buckets + index * BUCKET_BYTES;
        /* Slots 0-3 and 3-6 (slot 3 in both: OR-ed into one bit). */
        const __m256i first = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(bucket + 8)), bias);
        const __m256i second = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(bucket + 32)), bias);
        const unsigned low = (unsigned)_mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(key, first)));
        const unsigned high = (unsigned)_mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(key, second)));
        const unsigned below = bits7[low | (high << 3)];
        int64_t entry;
        if (locate_decide(&t, bucket, load_le64(bucket), index, below, lo, &entry)) return entry;
        index++;
    }
}

/* One probe's scan: the delta layers first when `deltas` (a constant at each call: the loop
   without layers stays free of them), then its bucket, prefetching the cold record found. */
CHUB_STAGES_AVX2 static inline void locate_probe_avx2(const struct chub_table t, struct chub_probe *probe,
                                                      const int deltas) {
    const int64_t reference = deltas ? delta_locate(&t, probe->lo, probe->hi) : -1;
    if (reference != -1) {
        probe->entry = reference;
        return;
    }
    const int64_t entry = locate_avx2(t, &probe->lo);
    prefetch_record(&t, entry);
    probe->entry = entry;
}

CHUB_STAGES_AVX2 static void locate_all_avx2(const struct chub_table *table, struct chub_probe *probes, size_t count) {
    const struct chub_table t = *table;
    struct chub_probe *const end = probes + count;
    if (t.delta_count) {
        for (struct chub_probe *probe = probes; probe < end; probe++) locate_probe_avx2(t, probe, 1);
    } else {
        for (struct chub_probe *probe = probes; probe < end; probe++) locate_probe_avx2(t, probe, 0);
    }
}
#endif

int64_t chub_stage_locate_one(int avx2, const struct chub_table *table, uint64_t lo) {
#if defined(__x86_64__)
    if (avx2) return locate_avx2(*table, &lo);
#endif
    (void)avx2;
    return locate_portable(table, lo);
}

void chub_stage_locate(int avx2, const struct chub_table *table, struct chub_probe *probes, size_t count) {
#if defined(__x86_64__)
    if (avx2) { locate_all_avx2(table, probes, count); return; }
#endif
    (void)avx2;
    const struct chub_table t = *table;
    for (size_t i = 0; i < count; i++) {
        const int64_t reference = t.delta_count ? delta_locate(&t, probes[i].lo, probes[i].hi) : -1;
        if (reference != -1) {
            probes[i].entry = reference;
            continue;
        }
        const int64_t entry = locate_portable(&t, probes[i].lo);
        prefetch_record(&t, entry);
        probes[i].entry = entry;
    }
}

int64_t chub_stage_find(const struct chub_table *t, uint64_t lo, uint64_t hi) {
    int64_t index = home_bucket(t, lo);
    for (;;) {
        const uint8_t *bucket = t->buckets + index * BUCKET_BYTES;
        const uint64_t word = load_le64(bucket);
        int64_t count = (int64_t)((word >> 32) & 0xFF);
        if (count > SLOTS) count = SLOTS;
        for (int64_t slot = 0; slot < count; slot++) {
            const uint64_t fingerprint = load_le64(bucket + 8 + 8 * slot);
            if (fingerprint >= lo) {
                if (fingerprint != lo) return -1;
                const int64_t entry = (int64_t)(uint32_t)word + slot;
                if (entry < t->entry_count && load_le64(t->records + entry * RECORD_BYTES) == hi) return entry;
            }
        }
        if (count < SLOTS || index >= t->last_bucket) return -1;
        index++;
    }
}

/* A value's exact probe (kind 0, detail 0, not yet scanned) of digest (lo, hi) at `probe`, lo
   as stored (Slot.stored: 0 becomes 1), and its home bucket prefetched. Kind, detail, type and
   the padding after them are one store. */
static inline void put_exact_probe(const struct chub_table *t, struct chub_probe *probe, uint64_t raw_lo, uint64_t hi,
                                   uint8_t type) {
    const uint64_t lo = raw_lo + (raw_lo == 0);
    probe->lo = lo;
    probe->hi = hi;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    _Static_assert(offsetof(struct chub_probe, kind) == 16 && offsetof(struct chub_probe, detail) == 17 &&
                       offsetof(struct chub_probe, type) == 18 && offsetof(struct chub_probe, entry) == 24,
                   "kind, detail, type in the word at 16");
    const uint64_t head = (uint64_t)type << 16; /* kind 0, detail 0 */
    memcpy(&probe->kind, &head, 8);
#else
    probe->kind = 0;
    probe->detail = 0;
    probe->type = type;
#endif
    probe->entry = UNSCANNED;
    __builtin_prefetch(t->buckets + home_bucket(t, lo) * BUCKET_BYTES, 0, 3);
}

static inline size_t exact_probes(const struct chub_fast_digest *results, size_t slot, size_t count, uint64_t covering,
                                  struct chub_probe *probes, size_t *probe_count, struct chub_value_state *states,
                                  const struct chub_table *table, const int with_states) {
    size_t next = *probe_count;
    const struct chub_table t = *table;
    for (; slot < count; slot++) {
        const struct chub_fast_digest *result = &results[slot];
        const uint8_t type = result->type;
        if (result->count == 0 || ((covering >> (type & 63)) & 1)) break;
        put_exact_probe(&t, &probes[next], result->lo, result->hi, type);
        if (with_states) {
            states[slot].type = type;
            states[slot].first = (int32_t)next;
            states[slot].count = 1;
        }
        next++;
    }
    *probe_count = next;
    return slot;
}

size_t chub_stage_exact_probes(const struct chub_fast_digest *results, size_t slot, size_t count, uint64_t covering,
                               struct chub_probe *probes, size_t *probe_count, struct chub_value_state *states,
                               const struct chub_table *table) {
    const size_t first = *probe_count;
    const size_t next = states ? exact_probes(results, slot, count, covering, probes, probe_count, states, table, 1)
                               : exact_probes(results, slot, count, covering, probes, probe_count, NULL, table, 0);
    prefetch_delta_filters(table, probes + first, *probe_count - first);
    return next;
}

/* Files value `slot`'s exact probe at probes[slot] straight from its digest; returns its
   covering bit (non-zero: the value needs covering probes). */
static inline uint64_t file_exact(const struct chub_table *t, const struct chub_fast_digest *results,
                                  const uint64_t *digest, uint32_t slot, uint64_t covering,
                                  struct chub_probe *probes) {
    const uint8_t type = results[slot].type;
    put_exact_probe(t, &probes[slot], digest[0], digest[1], type);
    return (covering >> (type & 63)) & 1;
}

/* Both lists' probes; with `checked` 0 (covering == 0) no covering bits are tested. */
static inline uint64_t file_all(const struct chub_batch *batch, uint64_t covering, struct chub_probe *probes,
                                const struct chub_table *table, const int checked) {
    const size_t finals = batch->final_count, longs = batch->long_count;
    const uint64_t *const digests = batch->digests, *const long_digests = digests + 2 * finals;
    const struct chub_table t = *table;
    const struct chub_fast_digest *const results = batch->results;
    const uint32_t *const final_slots = batch->final_slots, *const word_slots = batch->word_slots;
    uint64_t general = 0;
    for (size_t i = 0; i < finals; i++) {
        const uint64_t bit = file_exact(&t, results, digests + 2 * i, final_slots[i], covering, probes);
        if (checked) general |= bit;
    }
    for (size_t i = 0; i < longs; i++) {
        const uint64_t bit = file_exact(&t, results, long_digests + 2 * i, word_slots[i], covering, probes);
        if (checked) general |= bit;
    }
    return general;
}

int chub_batch_digest_probes(uint64_t k0, uint64_t k1, struct chub_batch *batch, size_t count, uint64_t covering,
                             struct chub_probe *probes, const struct chub_table *table) {
    chub_batch_hash(k0, k1, batch);
    if (batch->final_count + batch->long_count == count) {
        /* The caller's promise: no long message of word count 0 (see the header). With no
           covering types nothing needs testing (file_all's unchecked form returns 0). */
        const uint64_t general = covering == 0 ? file_all(batch, 0, probes, table, 0)
                                               : file_all(batch, covering, probes, table, 1);
        if (!general) {
            prefetch_delta_filters(table, probes, count);
            return 1;
        }
    }
    chub_batch_write_results(batch);
    return 0;
}

void chub_stage_exact_states(const struct chub_probe *probes, size_t first, size_t count,
                             struct chub_value_state *states) {
    for (size_t j = 0; j < count; j++) {
        states[j].type = probes[first + j].type;
        states[j].first = (int32_t)(first + j);
        states[j].count = 1;
    }
}

/* A record's first word: status, type, kind, detail (then four bytes of padding, zero). */
static inline void put_record(struct chub_match_record *r, uint64_t head, uint64_t word2, uint64_t word3, uint64_t lo,
                              uint64_t hi) {
    memcpy(r, &head, 8);
    r->word2 = word2;
    r->word3 = word3;
    r->lo = lo;
    r->hi = hi;
}

static inline uint64_t record_head(uint8_t status, uint8_t type, uint8_t kind, uint8_t detail) {
    return (uint64_t)status | (uint64_t)type << 8 | (uint64_t)kind << 16 | (uint64_t)detail << 24;
}

/* Any value: refused, or its probes in order (Matcher.resolve). Out of line, so that the loop
   below keeps its few values in registers. */
__attribute__((noinline)) static void resolve_value(const struct chub_table *t, const struct chub_probe *probes,
                                                    struct chub_value_state state, uint32_t now,
                                                    struct chub_record_codes codes, struct chub_match_record *r) {
    if (state.count < 0) {
        put_record(r, record_head(codes.refused, codes.refused_type, 0, 0), 0, 0, 0, 0);
        return;
    }
    const struct chub_probe *probe = probes + state.first, *const end = probe + state.count;
    for (; probe < end; probe++) {
        int64_t entry = probe->entry;
        if (entry >= 0) {
            if (load_le64(t->records + entry * RECORD_BYTES) != probe->hi) entry = chub_stage_find(t, probe->lo, probe->hi);
        } else if (entry == UNSCANNED) {
            entry = t->delta_count ? delta_locate(t, probe->lo, probe->hi) : -1;
            if (entry == -1) entry = chub_stage_find(t, probe->lo, probe->hi);
        }
        uint64_t word2, word3;
        if (entry <= -3) {
            /* A delta layer's entry answers alone: a tombstone or an expired entry does not match. */
            const uint64_t packed = (uint64_t)(-3 - entry);
            const uint64_t *const slot = t->deltas[packed >> 48].slots + 4 * (packed & (((uint64_t)1 << 48) - 1));
            word2 = slot[2];
            word3 = slot[3];
            if (word3 == chub_tombstone_word3) continue;
        } else if (entry >= 0) {
            const uint8_t *record = t->records + entry * RECORD_BYTES;
            word2 = load_le64(record + 8);
            word3 = load_le64(record + 16);
        } else {
            continue;
        }
        const uint32_t expires = (uint32_t)word2;
        if (expires != 0 && now >= expires) continue;
        if (probe->kind == KIND_PARENT && !((word3 >> 37) & 1)) continue;
        put_record(r, record_head(codes.hit, state.type, probe->kind, probe->detail), word2, word3, probe->lo, probe->hi);
        return;
    }
    put_record(r, record_head(codes.miss, state.type, 0, 0), 0, 0, 0, 0);
}

/* What a miss reads instead of a cold record (so that hit and miss take the same path). */
static const uint8_t no_record[RECORD_BYTES];

/* Hides `x` from the optimiser, which would otherwise turn the masks below back into branches. */
#define CHUB_OPAQUE(x) __asm__("" : "+r"(x))

/* The record of a value whose only probe is `probe` (its exact one: kind 0, detail 0, see
   Matcher.addProbes) when the scan settled it: 1, else 0 (the general code decides). Hit or
   miss is as random as the queries, so both take one path of masks, not a branch: a miss
   reads `no_record`, and the record is masked to zeros. */
static inline int resolve_single(const uint8_t *cold, const struct chub_probe *probe, uint64_t type, uint32_t now,
                                 uint64_t hit, uint64_t miss, struct chub_match_record *r) {
    const int64_t entry = probe->entry;
    if (entry < -1) return 0; /* unscanned, or a delta reference */
    uint64_t absent = (uint64_t)(entry >> 63); /* all ones for -1 */
    CHUB_OPAQUE(absent);
    const uintptr_t at = (uintptr_t)(cold + (entry & (int64_t)~absent) * RECORD_BYTES);
    const uint8_t *const record = (const uint8_t *)((at & ~absent) | ((uintptr_t)no_record & absent));
    const uint64_t hi = probe->hi;
    /* Another digest with this fingerprint: rare, the general code decides. */
    if (__builtin_expect(((load_le64(record) ^ hi) & ~absent) != 0, 0)) return 0;
    const uint64_t word2 = load_le64(record + 8), word3 = load_le64(record + 16);
    const uint32_t expires = (uint32_t)word2;
    const uint64_t expired = (uint64_t)((expires != 0) & (now >= expires));
    uint64_t keep = ~absent & ((uint64_t)0 - (expired ^ 1));
    CHUB_OPAQUE(keep);
    const uint64_t head = (miss ^ ((hit ^ miss) & keep)) | type;
    put_record(r, head, word2 & keep, word3 & keep, probe->lo & keep, hi & keep);
    return 1;
}

void chub_stage_resolve(const struct chub_table *table, const struct chub_probe *probes,
                        const struct chub_value_state *states, size_t count, uint32_t now,
                        struct chub_record_codes codes, struct chub_match_record *records) {
    const uint8_t *const cold = table->records;
    const uint64_t miss = codes.miss, hit = codes.hit;
    for (size_t i = 0; i < count; i++) {
        const struct chub_value_state state = states[i];
        struct chub_match_record *const r = &records[i];
        if (state.count == 1 &&
            resolve_single(cold, probes + state.first, (uint64_t)state.type << 8, now, hit, miss, r)) continue;
        resolve_value(table, probes, state, now, codes, r);
    }
}

void chub_stage_resolve_exact(const struct chub_table *table, const struct chub_probe *probes, size_t count,
                              uint32_t now, struct chub_record_codes codes, struct chub_match_record *records) {
    const uint8_t *const cold = table->records;
    const uint64_t miss = codes.miss, hit = codes.hit;
    for (size_t i = 0; i < count; i++) {
        const struct chub_probe *const probe = probes + i;
        if (resolve_single(cold, probe, (uint64_t)probe->type << 8, now, hit, miss, &records[i])) continue;
        const struct chub_value_state state = {probe->type, 0, 1};
        resolve_value(table, probe, state, now, codes, &records[i]);
    }
}
