/// Look-ups in the generated Unicode tables (IDNA+MappingTable.swift, IDNA+MappingInfo.swift,
/// IDNA+PropertyTables.swift, written by scripts/gen-idna-tables.py). Every table is a sorted
/// `[UInt32]` searched by binary search; the encodings below must match the generator's.
extension IDNA {
    /// The UTS #46 status of a code point, as used by non-transitional processing.
    enum Status: Equatable {
        /// Kept as is.
        case valid
        /// Kept as is by non-transitional processing (ß, ς, ZWJ, ZWNJ).
        case deviation
        /// Removed by the mapping step (soft hyphen, variation selectors, …).
        case ignored
        /// Never allowed in a label.
        case disallowed
        /// Replaced by one or more code points by the mapping step.
        case mapped
    }

    /// Raw status codes of `mappingInfo` (bits 29–31); see the generator.
    enum MappingCode: UInt32 {
        case valid = 0, deviation, ignored, disallowed, mapped
        /// Consecutive code points mapped to consecutive single code points (A–Z → a–z):
        /// `mappingData[offset] + (cp - start)`.
        case mappedRun
        /// Alternating case pairs: at an even distance from the range start a code point maps to
        /// `cp + 1`, at an odd distance it is valid.
        case casePairs
    }

    /// Bidi_Class values (raw values as in the generator's `BIDI` list).
    enum BidiClass: UInt8 {
        case unassigned = 0
        case L, R, AL, EN, ES, ET, AN, CS, NSM, BN, B, S, WS, ON
        case LRE, LRO, RLE, RLO, PDF, LRI, RLI, FSI, PDI
    }

    /// Joining_Type values (raw values as in the generator's `JOINING` list).
    enum JoiningType: UInt8 {
        case U = 0, D, R, L, T, C
    }

    /// The number of elements of the ascending `table` that are `<= key`.
    @inline(__always)
    static func countNotAbove(_ table: [UInt32], _ key: UInt32) -> Int {
        var low = 0
        var high = table.count
        while low < high {
            let mid = low + (high - low) / 2
            if table[mid] <= key { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// Index of the mapping range holding `cp` (the table starts at U+0000, so there is one).
    @inline(__always)
    static func mappingRange(_ cp: UInt32) -> (index: Int, info: UInt32) {
        let index = max(countNotAbove(mappingStarts, cp) - 1, 0)
        return (index, mappingInfo[index])
    }

    /// The UTS #46 status of `cp`.
    static func status(of cp: UInt32) -> Status {
        guard cp <= 0x10FFFF else { return .disallowed }
        let (index, info) = mappingRange(cp)
        switch MappingCode(rawValue: info >> 29) ?? .disallowed {
        case .valid: return .valid
        case .deviation: return .deviation
        case .ignored: return .ignored
        case .disallowed: return .disallowed
        case .mapped, .mappedRun: return .mapped
        case .casePairs: return (cp - mappingStarts[index]) & 1 == 0 ? .mapped : .valid
        }
    }

    /// The mapping step of UTS #46 processing (non-transitional) for one code point: appends
    /// what `cp` becomes. Valid, deviation and disallowed code points are kept (disallowed ones
    /// are reported by the validity check, which knows the label), ignored ones are dropped.
    static func appendMapping(of cp: UInt32, to output: inout [UInt32]) {
        guard cp <= 0x10FFFF else { output.append(cp); return }
        let (index, info) = mappingRange(cp)
        let length = Int((info >> 24) & 0x1F)
        let offset = Int(info & 0xFF_FFFF)
        switch MappingCode(rawValue: info >> 29) ?? .disallowed {
        case .valid, .deviation, .disallowed:
            output.append(cp)
        case .ignored:
            break
        case .mapped:
            for k in offset..<(offset + length) { output.append(mappingData[k]) }
        case .mappedRun:
            output.append(mappingData[offset] + (cp - mappingStarts[index]))
        case .casePairs:
            output.append((cp - mappingStarts[index]) & 1 == 0 ? cp + 1 : cp)
        }
    }

    /// Bidi_Class of `cp` (`.unassigned` for unassigned code points).
    static func bidiClass(of cp: UInt32) -> BidiClass {
        guard cp <= 0x10FFFF else { return .unassigned }
        let index = countNotAbove(bidiClassRanges, cp << 8 | 0xFF) - 1
        guard index >= 0 else { return .unassigned }
        return BidiClass(rawValue: UInt8(bidiClassRanges[index] & 0xFF)) ?? .unassigned
    }

    /// Joining_Type of `cp` (U, non-joining, when unlisted).
    static func joiningType(of cp: UInt32) -> JoiningType {
        guard cp <= 0x10FFFF else { return .U }
        let index = countNotAbove(joiningTypeRanges, cp << 8 | 0xFF) - 1
        guard index >= 0 else { return .U }
        return JoiningType(rawValue: UInt8(joiningTypeRanges[index] & 0xFF)) ?? .U
    }

    /// Whether `cp` has General_Category Mark (Mn, Mc or Me).
    static func isMark(_ cp: UInt32) -> Bool {
        countNotAbove(markBoundaries, cp) & 1 == 1
    }

    /// Whether `cp` has Canonical_Combining_Class Virama (9).
    static func isVirama(_ cp: UInt32) -> Bool {
        let count = countNotAbove(viramas, cp)
        return count > 0 && viramas[count - 1] == cp
    }
}
