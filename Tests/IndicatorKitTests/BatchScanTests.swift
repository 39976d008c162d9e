import Foundation
import Testing
@testable import IndicatorKit

/// The `.avx2` kernel's first pass in C (`DigestKey.canonicalDigestPacked`, CHubSipHash
/// `batch.c`) must give exactly what the Swift loop it replaces gives (`packedScan: false`):
/// accept or decline, type, canonical bytes and digest of every value, for every type,
/// whitespace, names over 64 bytes (the Swift scanner's, filed by the C pass), empty buffers
/// without a base address and inputs over the size limit. (Not the offsets in the scratch: the
/// C pass reserves room for a long name before the Swift scanner decides, so a declined one
/// leaves a gap the Swift loop does not.)
@Suite("Batch scan in C")
struct BatchScanTests {
    static let key = FastBatchTests.key

    @Test("the layouts the C pass relies on hold in this build (else it would silently not be used)")
    func layoutHolds() throws {
        let codes = try #require(PackedBatchLayout.codes)
        #expect(codes.ipv4 != codes.none && codes.domain != codes.none && codes.ipv4 != codes.domain)
        guard SipHashLanes.avx2Available else { return }
        #expect(FastDigestBatch(capacity: 4, kernel: .avx2).packedScan)
        #expect(!FastDigestBatch(capacity: 4, kernel: .avx2, packedScan: false).packedScan)
        #expect(!FastDigestBatch(capacity: 4, kernel: .scalar).packedScan)
    }

    /// Fixed values aimed at the C pass's branches, then the random and fixture values.
    static func values(_ generator: inout IDNATestSupport.Generator) throws -> [[UInt8]] {
        var values: [[UInt8]] = [
            "1.2.3.4", " 1.2.3.4", "1.2.3.4 ", "\t\n1.2.3.4\r\u{0B}\u{0C}", "\u{1F}1.2.3.4", "1.2.3.4\u{1F}",
            "   ", " a ", "1.2.3.4.5", "123.123.123.1234", "0x1f.example", "00.example", "1e.example",
            "9.example", "12345678.example", "a.b", "ab", "example.com", "EXAMPLE.COM", " example.com ",
        ].map { Array($0.utf8) }
        for length in [63, 64, 65, 66, 100, 200, 250, 251, 252, 253, 254, 255, 300, 4095, 4096, 4097, 5000] {
            var name = [UInt8]()
            while name.count < length {
                let label = 1 + Int(generator.next() % 63)
                if !name.isEmpty { name.append(0x2E) }
                name += (0..<label).map { _ in Array("abcXYZ019-".utf8)[Int(generator.next() % 9)] }
            }
            name = Array(name.prefix(length))
            if name.last == 0x2E || name.last == 0x2D { name[name.count - 1] = 0x7A }
            values.append(name)
            values.append([0x20] + name)
            var upper = name
            upper[length / 2] = 0x41  // still accepted
            values.append(upper)
            var bad = name
            bad[length / 3] = 0x5F  // '_': the Swift scanner declines a long name
            values.append(bad)
            values.append(Array(name.prefix(length - 1)) + [0x2E])  // trailing dot
        }
        values += FastBatchTests.values(&generator, count: 3000)
        values += try FastBatchTests.fixtureValues()
        return values
    }

    @Test("C pass == Swift loop for every value, type and batch boundary")
    func packedEqualsSwiftLoop() throws {
        guard SipHashLanes.avx2Available, PackedBatchLayout.codes != nil else { return }
        var generator = IDNATestSupport.Generator(seed: 0xBA7C)
        let values = try Self.values(&generator)
        var storage = FastBatchTests.separateBuffers(values)
        defer { FastBatchTests.free(storage.dropLast(2)) }
        storage += [UnsafeBufferPointer(start: nil, count: 0), UnsafeBufferPointer(start: nil, count: 0)]
        let typeChoices: [IndicatorType?] = [nil] + IndicatorType.allCases.map { $0 }
        let packed = FastDigestBatch(capacity: 40, kernel: .avx2)
        let swift = FastDigestBatch(capacity: 40, kernel: .avx2, packedScan: false)
        #expect(packed.packedScan && !swift.packedScan)
        var accepted = 0
        var longAccepted = 0
        var compared = 0
        for round in 0..<3 {
            let types = storage.map { _ in typeChoices[Int(generator.next() % UInt64(typeChoices.count))] }
            let named = storage.map { _ in generator.next() % 2 == 0 ? IndicatorType?.some(.domain) : .some(.ipv4) }
            var start = 0
            while start < storage.count {
                let end = min(start + 1 + Int(generator.next() % 40), storage.count)
                for batch in [packed, swift] {
                    storage.withUnsafeBufferPointer { buffers in
                        switch round {
                        case 0: Self.key.canonicalDigestFast(buffers, types: nil, range: start..<end, into: batch)
                        case 1:
                            types.withUnsafeBufferPointer {
                                Self.key.canonicalDigestFast(buffers, types: $0, range: start..<end, into: batch)
                            }
                        default:
                            named.withUnsafeBufferPointer {
                                Self.key.canonicalDigestFast(buffers, types: $0, range: start..<end, into: batch)
                            }
                        }
                    }
                }
                for slot in 0..<(end - start) {
                    let a = packed.results[slot]
                    let b = swift.results[slot]
                    let text = String(decoding: storage[start + slot], as: UTF8.self)
                    compared += 1
                    #expect(a.count == b.count, "'\(text)' round \(round)")
                    guard a.count == b.count, b.count > 0 else { continue }
                    accepted += 1
                    if b.count > 64 { longAccepted += 1 }
                    #expect(a.type == b.type, "'\(text)'")
                    #expect(a.lo == b.lo && a.hi == b.hi, "'\(text)'")
                    #expect(Array(packed.canonical(slot)) == Array(swift.canonical(slot)), "'\(text)'")
                }
                start = end
            }
        }
        #expect(compared == 3 * storage.count)
        #expect(accepted > 3000)
        #expect(longAccepted > 20)  // names over 64 bytes went through the deferred list
    }

    @Test("an empty range touches nothing and does not need a base address")
    func emptyRange() {
        let batch = FastDigestBatch(capacity: 2, kernel: .avx2)
        let empty = UnsafeBufferPointer<UnsafeBufferPointer<UInt8>>(start: nil, count: 0)
        Self.key.canonicalDigestFast(empty, types: nil, range: 0..<0, into: batch)
        #expect(batch.results[0].count == 0)
    }
}
