/// The constants of the snapshot file format, in one place. The format itself — every field,
/// its offset, width and byte order, the home-slot function, the probing rule and what a
/// reader must refuse — is specified in docs/STORE-FORMAT.md; change both together.
package enum StoreFormat {
    /// The first 8 bytes of every snapshot: ASCII `IHUBSNAP`.
    package static let magic: [UInt8] = Array("IHUBSNAP".utf8)
    /// Version of the snapshot layout (not of the canonicaliser, which is a separate field).
    package static let version: UInt32 = 1
    /// Size of the fixed header; the slot array starts right after it, page-aligned.
    package static let headerSize = 4096
    /// Size of one slot: 16 digest bytes + 16 metadata bytes; two slots per cache line.
    package static let slotSize = 32
    /// Slots per 64-byte cache line. A digest's home is the first slot of its home line.
    package static let slotsPerLine = 2
    /// Bytes covered by the header checksum (`0..<headerChecksumOffset`).
    package static let headerChecksumOffset = headerSize - checksumSize
    /// BLAKE2b-256.
    package static let checksumSize = 32

    /// Capacity = `ceil(n * capacityNumerator / capacityDenominator)`, rounded up to even:
    /// load factor 0.82, so slots + header + tail stay within 40 bytes per entry for n ≥ 10,000.
    package static let capacityNumerator = 61
    package static let capacityDenominator = 50

    /// Header field offsets (all integers little-endian).
    package enum Offset {
        package static let magic = 0            // 8 bytes
        package static let version = 8          // u32
        package static let headerSize = 12      // u32
        package static let slotSize = 16        // u32
        package static let canonicalizerVersion = 20  // u8
        package static let flags = 21           // u8
        package static let reserved = 22        // 2 bytes, zero
        package static let keyID = 24           // u64
        package static let entryCount = 32      // u64
        package static let capacity = 40        // u64
        package static let tailSlots = 48       // u64
        package static let maxDisplacement = 56 // u64
        package static let createdAt = 64       // u64, Unix seconds
        package static let ipv4Prefixes = 72    // u64 bitmap, bits 0...31 (bits 32...63 zero)
        package static let ipv6Prefixes = 80    // 2 × u64 bitmap, bits 0...127
        package static let bodyChecksum = 96    // 32 bytes, BLAKE2b-256 of the slot array
        /// First byte of the zero padding that runs up to `headerChecksumOffset`.
        package static let padding = 128
    }

    /// Header flag bits.
    package enum Flag {
        /// At least one domain entry covers its subdomains: lookups probe parent domains.
        package static let subdomainEntries: UInt8 = 1 << 0
        package static let all: UInt8 = subdomainEntries
    }

    /// Slot field offsets (all integers little-endian).
    package enum SlotOffset {
        package static let digestLo = 0       // u64
        package static let digestHi = 8       // u64
        package static let expires = 16       // u32
        package static let firstSeenDay = 20  // u16
        package static let lastSeenDay = 22   // u16
        package static let sourceID = 24      // u16
        package static let category = 26      // u8
        package static let confidence = 27    // u8
        package static let flags = 28         // u8: tlp bits 0-2, action bits 3-4, covers-subdomains bit 5
        package static let reserved = 29      // 3 bytes, zero
    }
}
