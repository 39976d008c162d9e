/*
 * The batch digest's vector name scanner: a plain LDH name of at most 64 bytes validated,
 * lower-cased and laid out as its SipHash message (`version || type || name`, cut into words)
 * 32 bytes at a time. Same contract as the Swift scanner it stands in for
 * (Canonicalizer.fastDomain, Canonicalizer+SWAR.swift): it only ever accepts; anything else is
 * declined and the general canonicaliser decides. Interface: CHubSipHash.h.
 *
 * A name of 3-32 bytes is one AVX2 register (from 16 bytes on: the first 16 and the last 16,
 * shifted down with PSHUFB so that lane i is byte i and the lanes past the end are zero; under
 * 16, built from overlapping loads: never a byte outside the name); 33-64 bytes are two
 * overlapping registers (the first and the last 32) whose masks are joined with one shift.
 * Per register: one OR to lower-case (PSIGNB by the byte itself keeps the lanes past the end
 * zero), two stores (the canonical bytes, and the message from byte 2 so that the words need
 * no shifts; its zero lanes are the final word's padding and one byte store its length), one
 * compare per class (letters, digits, '.', '-') and a PMOVMSKB per mask. The rules are then a
 * few operations on the 64-bit masks of the whole name (chub_name_rules in scanners.h): only
 * letters, digits and separators; each separator between two letters/digits (so none first or
 * last and no `..`, `-.`, `.-`, `--`: no `xn--` label); a dot; a last label that is not all
 * digits; and, when detecting, not the shapes TypeDetector gives another type (a leading `00`,
 * a last label starting `0x`). A name of 64 bytes or fewer has no label over 63 bytes once it
 * has a dot.
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
