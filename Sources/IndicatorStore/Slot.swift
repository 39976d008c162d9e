package import IndicatorKit

/// The encoding of one entry: its digest as stored (`lo` in a bucket's fingerprint slot, `hi`
/// in its cold record) and the two metadata words of the cold record (docs/STORE-FORMAT.md,
/// "Cold records"). Pure functions on integers.
package enum Slot {
    /// The digest as stored and probed: a digest whose `lo` half is zero is stored with
    /// `lo = 1` (format version 1 marked empty slots with a zero `lo`; kept so that stored
    /// digests, and the digests audit trails record, are unchanged). Two values then share a
    /// digest only if their other 64 bits agree as well: probability 2⁻⁶⁴ per pair.
    @inline(__always)
    package static func stored(_ digest: IndicatorDigest) -> IndicatorDigest {
        digest.lo == 0 ? IndicatorDigest(lo: 1, hi: digest.hi) : digest
    }

    /// The two metadata words of a cold record (bytes 8..<16 and 16..<24, as little-endian
    /// u64s; the top three bytes of the second are reserved, zero).
    @inline(__always)
    package static func encode(_ metadata: EntryMetadata) -> (UInt64, UInt64) {
        let word2 = UInt64(metadata.expires)
            | UInt64(metadata.firstSeenDay) << 32
            | UInt64(metadata.lastSeenDay) << 48
        let flags = UInt64(metadata.tlp.rawValue & 0x07)
            | UInt64(metadata.action.rawValue & 0x03) << 3
            | (metadata.coversSubdomains ? 1 << 5 : 0)
        let word3 = UInt64(metadata.sourceID)
            | UInt64(metadata.category.rawValue) << 16
            | UInt64(metadata.confidence) << 24
            | flags << 32
        return (word2, word3)
    }

    /// Decodes the metadata words. Values a writer never produces (possible only in a
    /// corrupted file opened without `.full` verification) decode conservatively: unknown
    /// category → unspecified, unknown TLP → red, unknown action → block, confidence ≤ 100.
    @inline(__always)
    package static func decode(_ word2: UInt64, _ word3: UInt64) -> EntryMetadata {
        let flags = UInt8(truncatingIfNeeded: word3 >> 32)
        return EntryMetadata(
            category: ThreatCategory(rawValue: UInt8(truncatingIfNeeded: word3 >> 16)) ?? .unspecified,
            confidence: UInt8(truncatingIfNeeded: word3 >> 24),
            tlp: TLP(rawValue: flags & 0x07) ?? .red,
            action: ActionHint(rawValue: (flags >> 3) & 0x03) ?? .block,
            sourceID: UInt16(truncatingIfNeeded: word3),
            firstSeenDay: UInt16(truncatingIfNeeded: word2 >> 32),
            lastSeenDay: UInt16(truncatingIfNeeded: word2 >> 48),
            expires: UInt32(truncatingIfNeeded: word2),
            coversSubdomains: flags & (1 << 5) != 0)
    }

    /// The covers-subdomains flag (bit 5 of the flags byte) of a metadata `word3`.
    @inline(__always)
    package static func coversSubdomains(_ word3: UInt64) -> Bool {
        (word3 >> 32) & (1 << 5) != 0
    }

    /// Whether metadata words are exactly what a writer produces (`.full` verification):
    /// known category, TLP and action, confidence ≤ 100, zero reserved bits. A version 2 file
    /// (`formatVersion` 2) must also have a zero upload number and multi bit (they were
    /// reserved there); version 3 uses them.
    package static func isWellFormed(_ word2: UInt64, _ word3: UInt64, formatVersion: UInt32 = StoreFormat.version) -> Bool {
        _ = word2
        let flags = UInt8(truncatingIfNeeded: word3 >> 32)
        let reservedFlags: UInt8 = formatVersion >= 3 ? 0x80 : 0xC0
        return ThreatCategory(rawValue: UInt8(truncatingIfNeeded: word3 >> 16)) != nil
            && UInt8(truncatingIfNeeded: word3 >> 24) <= 100
            && TLP(rawValue: flags & 0x07) != nil
            && ActionHint(rawValue: (flags >> 3) & 0x03) != nil
            && flags & reservedFlags == 0
            && (formatVersion >= 3 || word3 >> 40 == 0)
    }

    /// Bit 6 of the flags byte (format version 3): more than one report, see the reports table.
    package static let multiBit: UInt64 = 1 << (32 + 6)

    /// The 24-bit upload number of a metadata `word3` (format version 3: cold record bytes
    /// 21–23; 0 = unknown, as in every version 2 file).
    @inline(__always)
    package static func uploadNumber(_ word3: UInt64) -> UInt32 {
        UInt32(truncatingIfNeeded: word3 >> 40)
    }

    /// Whether a metadata `word3` has the multi bit (more than one report).
    @inline(__always)
    package static func isMulti(_ word3: UInt64) -> Bool { word3 & multiBit != 0 }

    /// `word3` with the report fields of format version 3: upload number (< 2²⁴) and multi bit.
    @inline(__always)
    package static func withReport(_ word3: UInt64, upload: UInt32, multi: Bool) -> UInt64 {
        precondition(upload < 1 << 24, "upload numbers are 24 bits")
        return (word3 & 0x0000_00BF_FFFF_FFFF) | UInt64(upload) << 40 | (multi ? multiBit : 0)
    }
}

/// The home-bucket function and the table size (docs/STORE-FORMAT.md, "Placement").
package enum Bucket {
    /// The home bucket of a stored digest's `lo` in a table of `homeBuckets` home buckets:
    /// `floor(lo × homeBuckets / 2⁶⁴)`, the high half of a 64×64→128-bit product, so it is
    /// non-decreasing in `lo`.
    @inline(__always)
    package static func home(_ lo: UInt64, homeBuckets: UInt64) -> Int {
        Int(truncatingIfNeeded: lo.multipliedFullWidth(by: homeBuckets).high)
    }

    /// Number of home buckets for `entryCount` entries: `ceil(n × 5 / 21)`, at least 1
    /// (0.6 of the 7 slots occupied on average).
    package static func homeBuckets(forEntries entryCount: Int) -> Int {
        let scaled = entryCount.multipliedReportingOverflow(by: StoreFormat.homeBucketsNumerator)
        precondition(!scaled.overflow, "entry count \(entryCount) is too large")
        let buckets = (scaled.partialValue + StoreFormat.homeBucketsDenominator - 1)
            / StoreFormat.homeBucketsDenominator
        return max(1, buckets)
    }
}
