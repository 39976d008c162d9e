import IndicatorKit

/// BLAKE2b-256 (IndicatorKit's `BLAKE2b`, libsodium `crypto_generichash`, unkeyed) for the
/// snapshot's header and body checksums.
final class Checksum {
    private let hasher = BLAKE2b(outputBytes: StoreFormat.checksumSize)

    /// Feeds `bytes`.
    func update(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bytes)
    }

    /// The 32-byte digest; the checksum cannot be used afterwards.
    func finish() -> [UInt8] {
        hasher.finish()
    }

    /// One-shot checksum of `bytes`.
    static func of(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        let checksum = Checksum()
        checksum.update(bytes)
        return checksum.finish()
    }

    /// Constant-time comparison is not needed (checksums are public); plain equality of the
    /// stored and computed bytes.
    static func matches(_ stored: UnsafeRawBufferPointer, _ computed: [UInt8]) -> Bool {
        stored.count == computed.count && zip(stored, computed).allSatisfy { $0 == $1 }
    }
}
