import Testing
@testable import IndicatorKit

/// The Swift SipHash-2-4-128 (`SipHash.hash128`, the matcher's digest) must equal libsodium's
/// `crypto_shorthash_siphashx24` bit for bit: every stored digest was made by one of them.
@Suite("SipHash")
struct SipHashTests {
    static func sodium(_ key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        message.withUnsafeBufferPointer { m in
            key.withUnsafeBufferPointer { k in
                out.withUnsafeMutableBufferPointer { o in
                    Sodium.siphashx24(o.baseAddress!, m.baseAddress ?? k.baseAddress!, m.count, key: k.baseAddress!)
                }
            }
        }
        return out
    }

    static func swift(_ key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        let k0 = key.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        let k1 = key.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) }
        let (lo, hi) = message.withUnsafeBytes { raw in
            SipHash.hash128(k0: k0, k1: k1, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!, count: raw.count)
        }
        return IndicatorDigest(lo: lo, hi: hi).bytes
    }

    @Test("equals libsodium for every length 0…300, fixed and random keys")
    func matchesLibsodium() {
        var generator = IDNATestSupport.Generator(seed: 0x5195)
        let sequentialKey: [UInt8] = Array(0..<16)
        for length in 0...300 {
            let sequential = (0..<length).map { UInt8(truncatingIfNeeded: $0) }
            #expect(Self.swift(sequentialKey, sequential) == Self.sodium(sequentialKey, sequential), "length \(length)")
            for _ in 0..<4 {
                let key = (0..<16).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                let message = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                #expect(Self.swift(key, message) == Self.sodium(key, message), "length \(length)")
            }
        }
    }

    @Test("DigestKey: the headroom digest (Swift SipHash) equals the body digest (libsodium)")
    func headroomDigestMatchesBodyDigest() {
        let key = DigestKey(bytes: (0..<16).map { UInt8($0 &* 7) })!
        var generator = IDNATestSupport.Generator(seed: 77)
        for length in 0..<80 {
            let body = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            var buffer = [0, 0] + body
            let viaHeadroom = buffer.withUnsafeMutableBufferPointer { key.digest(.domain, headroom: $0) }
            let viaBody = body.withUnsafeBufferPointer { key.digest(.domain, body: $0) }
            #expect(viaHeadroom == viaBody, "length \(length)")
        }
    }
}
