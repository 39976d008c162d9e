/*
 * The batch digest's vector name scanner: a plain LDH name of at most 64 bytes validated,
 * lower-cased and laid out as its SipHash message (`version || type || name`, cut into words)
 * sixteen bytes at a time. Same contract as the Swift scanner it stands in for
 * (Canonicalizer.fastDomain, Canonicalizer+SWAR.swift): it only ever accepts; anything else is
 * declined and the general canonicaliser decides. Interface: CHubSipHash.h.
 *
 * Per 16 bytes: one load (the last, partial one ends at the name's last byte, or is built from
 * overlapping loads for a name under 16 bytes: never a byte outside the name), lane tests for
 * letters, digits and separators ('.' and '-'), one OR to lower-case, two stores (the canonical
 * bytes and the message). The lane masks (PMOVMSKB) of the whole name fit one 64-bit word each,
 * so the rules are a few bit operations: only letters, digits and separators; no separator
 * first, last or next to another (so no `..`, `-.`, `.-`, `--`: no `xn--` label); a dot; a last
 * label that is not all digits; and, when detecting, not the shapes TypeDetector gives another
 * type (a leading `00`, a last label starting `0x`). A name of 64 bytes or fewer has no label
 * over 63 bytes once it has a dot.
 */
#include "CHubSipHash.h"
#include <string.h>

#if defined(__x86_64__)
#include "scanners.h"

CHUB_AVX2 long chub_name_scan_avx2(const uint8_t *p, size_t n, int detecting, uint16_t prefix, uint8_t *out,
                                   uint64_t *words) {
    return chub_name_scan_inline(p, n, detecting, prefix, out, words);
}
#else
long chub_name_scan_avx2(const uint8_t *p, size_t n, int detecting, uint16_t prefix, uint8_t *out,
                         uint64_t *words) {
    (void)p; (void)n; (void)detecting; (void)prefix; (void)out; (void)words;
    return -1;
}
#endif
