/// The constants of the snapshot file format, in one place. The format itself — every field,
/// its offset, width and byte order, the home-bucket function, the placement and lookup rules
/// and what a reader must refuse — is specified in docs/STORE-FORMAT.md; change both together.
package enum StoreFormat {
    /// The first 8 bytes of every snapshot: ASCII `IHUBSNAP`.
    package static let magic: [UInt8] = Array("IHUBSNAP".utf8)
    /// Version of the snapshot layout (not of the canonicaliser, which is a separate field)
    /// that writers produce. Version 3 is version 2 plus the journal sequence in the header
    /// and the per-report fields (upload number, multi bit) in the cold record's formerly
    /// reserved bits; a version 2 file is read as a version 3 file with those zero.
    /// Version 1 (32-byte slots, ordered linear probing) is refused: re-ingest.
    package static let version: UInt32 = 3
    /// The oldest layout a reader accepts.
    package static let oldestReadableVersion: UInt32 = 2
    /// Size of the fixed header; the bucket array starts right after it, page-aligned.
    package static let headerSize = 4096
    /// Size of one bucket of the hot array: one cache line.
    package static let bucketSize = 64
    /// Fingerprint slots per bucket, after the 8-byte bucket header.
    package static let slotsPerBucket = 7
    /// Size of one cold record: digest `hi` + 16 bytes of metadata.
    package static let recordSize = 24
    /// Bytes covered by the header checksum (`0..<headerChecksumOffset`).
    package static let headerChecksumOffset = headerSize - checksumSize
    /// BLAKE2b-256.
    package static let checksumSize = 32

    /// Home buckets = `ceil(n × homeBucketsNumerator / homeBucketsDenominator)`, at least 1:
    /// 0.6 of the 7 slots occupied on average, so header + buckets + cold records stay within
    /// 40 bytes per entry for n ≥ 10,000 (64 × 5/21 + 24 ≈ 39.24, plus 4096 / n).
    package static let homeBucketsNumerator = 5
    package static let homeBucketsDenominator = 21

    /// Header field offsets (all integers little-endian).
    package enum Offset {
        package static let magic = 0            // 8 bytes
        package static let version = 8          // u32
        package static let headerSize = 12      // u32
        package static let bucketSize = 16      // u32
        package static let canonicalizerVersion = 20  // u8
        package static let flags = 21           // u8
        package static let recordSize = 22      // u16
        package static let keyID = 24           // u64
        package static let entryCount = 32      // u64
        package static let homeBuckets = 40     // u64
        package static let bucketCount = 48     // u64, home buckets + tail buckets
        package static let maxSpill = 56        // u64, largest bucket − home of any entry
        package static let createdAt = 64       // u64, Unix seconds
        package static let ipv4Prefixes = 72    // u64 bitmap, bits 0...31 (bits 32...63 zero)
        package static let ipv6Prefixes = 80    // 2 × u64 bitmap, bits 0...127
        package static let bodyChecksum = 96    // 32 bytes, BLAKE2b-256 of buckets + records
        /// u64, version 3: the last journal sequence number the snapshot includes (padding,
        /// zero, in version 2).
        package static let sequence = 128
        /// First byte of the zero padding that runs up to `headerChecksumOffset` (version 3;
        /// version 2's padding starts at `sequence`).
        package static let padding = 136
    }

    /// Header flag bits.
    package enum Flag {
        /// At least one domain entry covers its subdomains: lookups probe parent domains.
        package static let subdomainEntries: UInt8 = 1 << 0
        package static let all: UInt8 = subdomainEntries
    }

    /// Bucket field offsets (all integers little-endian).
    package enum BucketOffset {
        package static let base = 0           // u32: cold index of the bucket's first entry
        package static let count = 4          // u8: occupied slots, 0...7
        package static let reserved = 5       // 3 bytes, zero
        package static let fingerprints = 8   // 7 × u64: digest lo, ascending; unused ones zero
    }

    /// Cold record field offsets (all integers little-endian). Bytes 8..<24 are the two
    /// metadata words (`Slot.encode`); the last three bytes are the upload number (version 3).
    package enum RecordOffset {
        package static let digestHi = 0       // u64
        package static let expires = 8        // u32
        package static let firstSeenDay = 12  // u16
        package static let lastSeenDay = 14   // u16
        package static let sourceID = 16      // u16
        package static let category = 18      // u8
        package static let confidence = 19    // u8
        package static let flags = 20         // u8: tlp bits 0-2, action bits 3-4, covers-subdomains bit 5, multi bit 6 (v3)
        package static let uploadNumber = 21  // 3 bytes, u24 (v3; reserved, zero, in v2)
    }
}
