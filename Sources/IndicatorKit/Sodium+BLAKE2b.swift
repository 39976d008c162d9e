internal import CSodium

/// Streaming BLAKE2b (libsodium `crypto_generichash`, unkeyed) with a 16–64-byte output: the
/// snapshot checksums (IndicatorStore) and the audit hash chain (HubAudit) use it. Part of
/// IndicatorKit so that libsodium stays behind this one module.
package final class BLAKE2b {
    private let state: UnsafeMutableRawPointer
    private let outputBytes: Int
    private var finished = false

    package init(outputBytes: Int = 32) {
        precondition(outputBytes >= 16 && outputBytes <= 64, "BLAKE2b output is 16 to 64 bytes")
        Sodium.ensureInitialised()
        self.outputBytes = outputBytes
        state = UnsafeMutableRawPointer.allocate(byteCount: crypto_generichash_statebytes(), alignment: 64)
        _ = crypto_generichash_init(OpaquePointer(state), nil, 0, outputBytes)
    }

    deinit { state.deallocate() }

    /// Feeds `bytes` (any length; split into chunks the C API's length type takes).
    package func update(_ bytes: UnsafeRawBufferPointer) {
        precondition(!finished, "BLAKE2b used after finish()")
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let chunk = min(bytes.count - offset, 1 << 30)
            _ = crypto_generichash_update(
                OpaquePointer(state), (base + offset).assumingMemoryBound(to: UInt8.self), UInt64(chunk))
            offset += chunk
        }
    }

    package func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest; the hasher cannot be used afterwards.
    package func finish() -> [UInt8] {
        precondition(!finished, "BLAKE2b finished twice")
        finished = true
        var out = [UInt8](repeating: 0, count: outputBytes)
        out.withUnsafeMutableBufferPointer { buffer in
            _ = crypto_generichash_final(OpaquePointer(state), buffer.baseAddress!, outputBytes)
        }
        return out
    }

    /// One-shot digest of `bytes`.
    package static func hash(_ bytes: UnsafeRawBufferPointer, outputBytes: Int = 32) -> [UInt8] {
        let hasher = BLAKE2b(outputBytes: outputBytes)
        hasher.update(bytes)
        return hasher.finish()
    }
}
