internal import CSodium

/// The one place IndicatorKit touches libsodium.
enum Sodium {
    /// `sodium_init()`, run once. libsodium's own functions are thread-safe after it.
    static let initialised: Bool = {
        sodium_init() >= 0
    }()

    static func ensureInitialised() {
        precondition(initialised, "sodium_init() failed: libsodium cannot be used")
    }

    /// `crypto_shorthash_siphashx24`: SipHash-2-4 with a 128-bit output.
    @inline(__always)
    static func siphashx24(
        _ out: UnsafeMutablePointer<UInt8>, _ input: UnsafePointer<UInt8>, _ count: Int,
        key: UnsafePointer<UInt8>
    ) {
        _ = crypto_shorthash_siphashx24(out, input, UInt64(count), key)
    }

    /// `crypto_hash_sha256`: SHA-256 of the `count` bytes at `input` into the 32 bytes at `out`
    /// (Bitcoin's base58check checksum is its first four bytes, applied twice).
    @inline(__always)
    static func sha256(_ out: UnsafeMutablePointer<UInt8>, _ input: UnsafePointer<UInt8>, _ count: Int) {
        ensureInitialised()
        _ = crypto_hash_sha256(out, input, UInt64(count))
    }

    /// `randombytes_buf`.
    static func randomBytes(_ buffer: UnsafeMutableRawBufferPointer) {
        ensureInitialised()
        if let base = buffer.baseAddress { randombytes_buf(base, buffer.count) }
    }

    /// Keyed BLAKE2b (`crypto_generichash`) of `message` under `key`, `outputBytes` long.
    static func blake2b(_ message: [UInt8], key: UnsafeRawBufferPointer, outputBytes: Int) -> [UInt8] {
        ensureInitialised()
        var out = [UInt8](repeating: 0, count: outputBytes)
        out.withUnsafeMutableBufferPointer { o in
            message.withUnsafeBufferPointer { m in
                _ = crypto_generichash(
                    o.baseAddress!, outputBytes, m.baseAddress, UInt64(m.count),
                    key.baseAddress?.assumingMemoryBound(to: UInt8.self), key.count)
            }
        }
        return out
    }

    /// `sodium_memcmp`: constant-time equality.
    static func constantTimeEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        guard let pa = a.baseAddress, let pb = b.baseAddress else { return true }
        return sodium_memcmp(pa, pb, a.count) == 0
    }

    static func secureAllocate(_ count: Int) -> UnsafeMutableRawPointer {
        ensureInitialised()
        guard let pointer = sodium_malloc(count) else {
            preconditionFailure("sodium_malloc(\(count)) failed: out of memory")
        }
        return pointer
    }

    /// Wipes and frees memory from `secureAllocate`.
    static func secureFree(_ pointer: UnsafeMutableRawPointer) {
        sodium_free(pointer)
    }
}
