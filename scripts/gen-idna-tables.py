#!/usr/bin/env python3
"""Generates the IDNA (UTS #46) lookup tables of IndicatorKit from the Unicode data TSVs.

Usage:  python3 scripts/gen-idna-tables.py [DATA_DIR]
        (DATA_DIR defaults to ../shared/data/idna relative to the repository, i.e. /work/shared/data/idna)

Reads (Unicode 18.0.0 facts, see the header of each file):
  uts46-mapping-18.0.0.tsv          start_hex, status (V/M/D/I/X), mapping (hex code points)
  bidi-classes-18.0.0.tsv           first_hex, last_hex, bidi_class (empty = unassigned)
  general-category-marks-18.0.0.tsv first_hex, last_hex, category (Mn/Mc/Me)
  virama-18.0.0.tsv                 code_point_hex (Canonical_Combining_Class = 9)
  joining-types-18.0.0.tsv          first_hex, last_hex, joining_type (D/R/L/T/C; absent = U)

Writes:
  Sources/IndicatorKit/IDNA+MappingTable.swift    the UTS #46 mapping table: range starts, mapping data
  Sources/IndicatorKit/IDNA+MappingInfo.swift     the UTS #46 mapping table: status and mapping per range
  Sources/IndicatorKit/IDNA+PropertyTables.swift  Bidi_Class, marks, virama, Joining_Type

Every table is a sorted array searched by binary search (see IDNA+Lookup.swift for the
encodings, which this script and that file must agree on).
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(ROOT), "shared", "data", "idna")
OUT = os.path.join(ROOT, "Sources", "IndicatorKit")
VERSION = "18.0.0"

# Mapping status codes (IDNA.MappingStatus in IDNA+Lookup.swift).
VALID, DEVIATION, IGNORED, DISALLOWED, MAPPED, MAPPED_RUN, CASE_PAIRS = range(7)
STATUS = {"V": VALID, "D": DEVIATION, "I": IGNORED, "X": DISALLOWED, "M": MAPPED}

# Bidi_Class codes (IDNA.BidiClass in IDNA+Lookup.swift); 0 = unassigned.
BIDI = ["unassigned", "L", "R", "AL", "EN", "ES", "ET", "AN", "CS", "NSM", "BN", "B", "S", "WS",
        "ON", "LRE", "LRO", "RLE", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"]
# Joining_Type codes (IDNA.JoiningType); 0 = U (non-joining, the default).
JOINING = ["U", "D", "R", "L", "T", "C"]


def rows(name):
    """The data rows of a TSV: comment lines and the column header line are skipped."""
    out = []
    header_seen = False
    with open(os.path.join(DATA, name), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            if not header_seen:
                header_seen = True
                continue
            out.append(line.split("\t"))
    return out


def mapping_table():
    """Ranges (start, info) and the flat mapping data.

    info = status << 29 | length << 24 | offset. For MAPPED the mapping is
    data[offset ..< offset + length]. For MAPPED_RUN (consecutive code points mapped to
    consecutive single code points, e.g. A-Z) the mapping of cp is data[offset] + (cp - start).
    CASE_PAIRS ranges alternate upper/lower case pairs (U+0100 -> U+0101, U+0101 valid, ...):
    a code point at an even distance from start maps to cp + 1, the others are valid.
    """
    raw = []
    for r in rows(f"uts46-mapping-{VERSION}.tsv"):
        start = int(r[0], 16)
        status = STATUS[r[1]]
        mapping = tuple(int(x, 16) for x in r[2].split()) if status == MAPPED else ()
        raw.append((start, status, mapping))
    assert raw[0][0] == 0 and all(a[0] < b[0] for a, b in zip(raw, raw[1:]))
    ends = [b[0] for b in raw[1:]] + [0x110000]

    # Build ranges: merge equal statuses without mappings; merge arithmetic single-cp runs.
    ranges = []  # [start, end, status, mapping-or-base]
    for (start, status, mapping), end in zip(raw, ends):
        if status == MAPPED and len(mapping) == 1 and end - start == 1:
            prev = ranges[-1] if ranges else None
            if prev and prev[1] == start and prev[2] in (MAPPED, MAPPED_RUN) and len(prev[3]) == 1 \
                    and prev[1] - prev[0] >= 1 and prev[3][0] + (start - prev[0]) == mapping[0] \
                    and (prev[2] == MAPPED_RUN or prev[1] - prev[0] == 1):
                prev[1] = end
                prev[2] = MAPPED_RUN
                continue
        if status != MAPPED and ranges and ranges[-1][2] == status and ranges[-1][1] == start:
            ranges[-1][1] = end
            continue
        ranges.append([start, end, status, mapping])

    # Fold alternating "mapped to next, next valid" pairs (Latin Extended, Cyrillic, ...).
    folded = []
    i = 0
    while i < len(ranges):
        j = i
        while j + 1 < len(ranges) and is_case_pair(ranges[j], ranges[j + 1]) \
                and (j == i or ranges[j][0] == ranges[j - 1][1]):
            j += 2
        if j - i >= 4:  # at least two pairs
            folded.append([ranges[i][0], ranges[j - 1][1], CASE_PAIRS, ()])
            i = j
        else:
            folded.append(ranges[i])
            i += 1
    ranges = folded

    data = []
    index = {}
    starts, infos = [], []
    for start, end, status, mapping in ranges:
        offset = length = 0
        if status in (MAPPED, MAPPED_RUN):
            if mapping not in index:
                # Reuse an existing identical sequence when one is present.
                index[mapping] = len(data)
                data.extend(mapping)
            offset, length = index[mapping], len(mapping)
        assert length < 32 and offset < (1 << 24)
        starts.append(start)
        infos.append(status << 29 | length << 24 | offset)
    return starts, infos, data


def is_case_pair(upper, lower):
    """Whether `upper` is one code point mapped to the next one and `lower` is that one, valid."""
    return (upper[2] == MAPPED and upper[1] - upper[0] == 1 and upper[3] == (upper[0] + 1,)
            and lower[2] == VALID and lower[0] == upper[1] and lower[1] - lower[0] == 1)


def packed_ranges(name, codes, default):
    """Ranges of a property as `start << 8 | code`, gaps filled with `default`, equal neighbours merged."""
    entries = []
    cursor = 0
    for r in rows(name):
        first, last = int(r[0], 16), int(r[1], 16)
        value = codes.index(r[2]) if r[2] else 0
        assert first >= cursor, (name, r)
        if first > cursor:
            entries.append((cursor, default))
        entries.append((first, value))
        cursor = last + 1
    if cursor <= 0x10FFFF:
        entries.append((cursor, default))
    merged = []
    for start, value in entries:
        if merged and merged[-1][1] == value:
            continue
        merged.append((start, value))
    if merged[0][0] != 0:
        merged.insert(0, (0, default))
    return [start << 8 | value for start, value in merged]


def toggles(name):
    """Set membership as boundaries: [first0, last0 + 1, first1, last1 + 1, ...]."""
    out = []
    for r in rows(name):
        first, last = int(r[0], 16), int(r[1], 16)
        if out and out[-1] == first:
            out[-1] = last + 1  # adjacent ranges (e.g. Mn next to Mc) join
        else:
            out += [first, last + 1]
    assert all(a < b for a, b in zip(out, out[1:]))
    return out


def swift_array(name, doc, values, per_line=10):
    lines = [f"    /// {d}" for d in doc]
    lines.append(f"    static let {name}: [UInt32] = [")
    for i in range(0, len(values), per_line):
        chunk = ", ".join(f"0x{v:X}" for v in values[i:i + per_line])
        lines.append(f"        {chunk},")
    lines.append("    ]")
    return "\n".join(lines)


def header(sources):
    return (f"// GENERATED by scripts/gen-idna-tables.py from {sources} (Unicode {VERSION}).\n"
            "// Do not edit: change the generator and run it again.\n\n")


def write(name, text):
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
        f.write(text)


def main():
    starts, infos, data = mapping_table()
    source = f"uts46-mapping-{VERSION}.tsv"
    write("IDNA+MappingTable.swift", header(source) + "extension IDNA {\n" + swift_array("mappingStarts", [
        "First code point of each range of the UTS #46 mapping table, ascending; a range ends",
        "where the next one starts (the last ends at U+10FFFF). Its status and mapping are in",
        "`mappingInfo` (IDNA+MappingInfo.swift) at the same index."], starts, per_line=12) + "\n\n"
        + swift_array("mappingData", [
            "The replacement code points of mapped ranges, back to back."], data, per_line=12) + "\n}\n")
    write("IDNA+MappingInfo.swift", header(source) + "extension IDNA {\n" + swift_array("mappingInfo", [
        "Per range of `mappingStarts`: status << 29 | mapping length << 24 | offset into `mappingData`",
        "(status codes: `IDNA.MappingStatus`)."], infos, per_line=8) + "\n}\n")

    bidi = packed_ranges(f"bidi-classes-{VERSION}.tsv", BIDI, 0)
    joining = packed_ranges(f"joining-types-{VERSION}.tsv", JOINING, 0)
    marks = toggles(f"general-category-marks-{VERSION}.tsv")
    virama = sorted(int(r[0], 16) for r in rows(f"virama-{VERSION}.tsv"))
    body = header(f"bidi-classes, general-category-marks, virama and joining-types-{VERSION}.tsv")
    body += "extension IDNA {\n"
    body += swift_array("bidiClassRanges", [
        "Bidi_Class as `start << 8 | IDNA.BidiClass.rawValue`, ascending by start; each range ends where",
        "the next starts."], bidi, per_line=8) + "\n\n"
    body += swift_array("markBoundaries", [
        "General_Category = Mark (Mn, Mc, Me) as boundaries `first, last + 1, first, last + 1, …`:",
        "a code point is a mark when the number of boundaries <= it is odd."], marks) + "\n\n"
    body += swift_array("viramas", [
        "Code points whose Canonical_Combining_Class is Virama (9), ascending."], virama) + "\n\n"
    body += swift_array("joiningTypeRanges", [
        "Joining_Type as `start << 8 | IDNA.JoiningType.rawValue`, ascending by start (U where unlisted)."],
        joining, per_line=8) + "\n}\n"
    write("IDNA+PropertyTables.swift", body)

    print(f"mapping: {len(starts)} ranges, {len(data)} data code points; bidi: {len(bidi)} ranges; "
          f"marks: {len(marks) // 2} ranges; viramas: {len(virama)}; joining: {len(joining)} ranges")


if __name__ == "__main__":
    main()
