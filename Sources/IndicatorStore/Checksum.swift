internal import CSodium

/// BLAKE2b-256 (libsodium `crypto_generichash`, unkeyed) for the snapshot's header and body
/// checksums. The only file in IndicatorStore that touches libsodium.
final class Checksum {
    private let state: UnsafeMutableRawPointer

    init() {
        precondition(sodium_init() >= 0, "sodium_init() failed: libsodium cannot be used")
        state = UnsafeMutableRawPointer.allocate(
            byteCount: crypto_generichash_statebytes(), alignment: 64)
        _ = crypto_generichash_init(typedState, nil, 0, StoreFormat.checksumSize)
    }

    deinit { state.deallocate() }

    /// libsodium's state type is 64-byte aligned and imported opaquely.
    private var typedState: OpaquePointer { OpaquePointer(state) }

    /// Feeds `bytes` (any length; split into chunks the C API's `unsigned long long` takes).
    func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let chunk = min(bytes.count - offset, 1 << 30)
            _ = crypto_generichash_update(
                typedState, (base + offset).assumingMemoryBound(to: UInt8.self), UInt64(chunk))
            offset += chunk
        }
    }

    /// The 32-byte digest; the checksum cannot be used afterwards.
    func finish() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: StoreFormat.checksumSize)
        out.withUnsafeMutableBufferPointer { buffer in
            _ = crypto_generichash_final(typedState, buffer.baseAddress!, StoreFormat.checksumSize)
        }
        return out
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
