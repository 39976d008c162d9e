import Foundation
import Testing
@testable import IndicatorKit

/// The C batch pass's structure (CHubSipHash `batch.c`): values go through in chunks of 64, an
/// address pass that lists the names, then a name pass; the addresses' bytes and results are
/// filed after the address loop, and the results' digests are left to `chub_batch_digest`. These
/// tests aim at what that structure could get wrong and `BatchScanTests` (batches of at most 40)
/// would not see: chunk boundaries, runs of one type, names and addresses interleaved with
/// declined values, stale results in a reused batch, and the IPv4 scanner's table-driven
/// leading-zero and digit checks.
@Suite("Batch scan passes")
struct BatchScanPassTests {
    static let key = FastBatchTests.key

    /// Runs `values` through the C pass and the Swift loop in batches of `size` with `types`
    /// (nil: all detected) and checks every value's answer; returns how many were accepted.
    static func compare(
        _ storage: [UnsafeBufferPointer<UInt8>], types: [IndicatorType?]?, size: Int,
        packed: FastDigestBatch, swift: FastDigestBatch, _ label: String
    ) -> Int {
        var accepted = 0
        var start = 0
        while start < storage.count {
            let end = min(start + size, storage.count)
            for batch in [packed, swift] {
                storage.withUnsafeBufferPointer { buffers in
                    if let types {
                        types.withUnsafeBufferPointer {
                            key.canonicalDigestFast(buffers, types: $0, range: start..<end, into: batch)
                        }
                    } else {
                        key.canonicalDigestFast(buffers, types: nil, range: start..<end, into: batch)
                    }
                }
            }
            for slot in 0..<(end - start) {
                let a = packed.results[slot]
                let b = swift.results[slot]
                let text = "\(label) [\(start + slot)] '\(String(decoding: storage[start + slot], as: UTF8.self))'"
                #expect(a.count == b.count, "\(text)")
                guard a.count == b.count, b.count > 0 else { continue }
                accepted += 1
                #expect(a.type == b.type, "\(text)")
                #expect(a.lo == b.lo && a.hi == b.hi, "\(text)")
                #expect(Array(packed.canonical(slot)) == Array(swift.canonical(slot)), "\(text)")
            }
            start = end
        }
        return accepted
    }

    /// Mixed values: addresses, names, detected shapes, declined values (bad bytes, too short,
    /// leading zeros, whitespace only), empty buffers and long names, in a seeded order.
    static func mixedValues(_ generator: inout IDNATestSupport.Generator, count: Int) -> [[UInt8]] {
        let fixed: [String] = [
            "1.2.3.4", "255.255.255.255", "0.0.0.0", "10.0.0.1", "01.2.3.4", "1.2.3.04", "1.2.3.256",
            "example.com", "a7f3kq.example-shop.co.uk", "EXAMPLE.ORG", "bad_name.com", "ab", "   ",
            " 192.168.1.1 ", "\t8.8.8.8\n", "00.example", "0x1f.example", "9.example", "1.2.3", "",
        ]
        var values: [[UInt8]] = []
        for _ in 0..<count {
            switch generator.next() % 4 {
            case 0: values.append(Array(fixed[Int(generator.next() % UInt64(fixed.count))].utf8))
            case 1:
                let octets = (0..<4).map { _ in String(generator.next() % 256) }
                values.append(Array(octets.joined(separator: ".").utf8))
            case 2:
                let label = String((0..<(1 + Int(generator.next() % 12))).map { _ in
                    Character(UnicodeScalar(Array("abcxyz0189-".utf8)[Int(generator.next() % 10)]))
                })
                values.append(Array("\(label).example-shop.com".utf8))
            default:
                var name = [UInt8](repeating: 0x61, count: 60 + Int(generator.next() % 40))
                name[name.count / 2] = 0x2E
                values.append(name)
            }
        }
        return values
    }

    @Test("batches over one chunk (64 values): mixed types, detected, declined between accepted")
    func acrossChunks() {
        guard SipHashLanes.avx2Available, PackedBatchLayout.codes != nil else { return }
        var generator = IDNATestSupport.Generator(seed: 0x5CA9)
        let values = Self.mixedValues(&generator, count: 1500)
        let owned = FastBatchTests.separateBuffers(values)
        defer { FastBatchTests.free(owned) }
        var storage = owned
        // Empty buffers without a base address, here and there.
        for index in stride(from: 7, to: storage.count, by: 97) { storage[index] = UnsafeBufferPointer(start: nil, count: 0) }
        let packed = FastDigestBatch(capacity: 200, kernel: .avx2)
        let swift = FastDigestBatch(capacity: 200, kernel: .avx2, packedScan: false)
        #expect(packed.packedScan && !swift.packedScan)
        let typeChoices: [IndicatorType?] = [nil] + IndicatorType.allCases.map { $0 }
        let anyTypes = values.map { _ in typeChoices[Int(generator.next() % UInt64(typeChoices.count))] }
        let named = values.map { $0.first.map { (0x30...0x39).contains($0) } == true ? IndicatorType?.some(.ipv4) : .domain }
        let detected = values.map { _ in IndicatorType?.none }
        var accepted = 0
        for size in [63, 64, 65, 128, 129, 200] {
            accepted += Self.compare(storage, types: nil, size: size, packed: packed, swift: swift, "detect \(size)")
            accepted += Self.compare(storage, types: detected, size: size, packed: packed, swift: swift, "nil \(size)")
            accepted += Self.compare(storage, types: anyTypes, size: size, packed: packed, swift: swift, "any \(size)")
            accepted += Self.compare(storage, types: named, size: size, packed: packed, swift: swift, "named \(size)")
        }
        #expect(accepted > 6 * 4 * 600, "\(accepted)")
    }

    @Test("runs of one type: all addresses, all names, all declined, in one batch of 200")
    func runsOfOneType() {
        guard SipHashLanes.avx2Available, PackedBatchLayout.codes != nil else { return }
        var generator = IDNATestSupport.Generator(seed: 0x0E1F)
        let addresses = (0..<200).map { _ in Array((0..<4).map { _ in String(generator.next() % 256) }.joined(separator: ".").utf8) }
        let names = (0..<200).map { index in Array("n\(index).example-shop.com".utf8) }
        let declined = (0..<200).map { index in Array("bad_\(index)".utf8) }
        let packed = FastDigestBatch(capacity: 200, kernel: .avx2)
        let swift = FastDigestBatch(capacity: 200, kernel: .avx2, packedScan: false)
        for (values, type, expected) in [(addresses, IndicatorType.ipv4, 200), (names, .domain, 200), (declined, .domain, 0)] {
            let storage = FastBatchTests.separateBuffers(values)
            defer { FastBatchTests.free(storage) }
            let types = values.map { _ in IndicatorType?.some(type) }
            #expect(Self.compare(storage, types: types, size: 200, packed: packed, swift: swift, "\(type)") == expected)
            #expect(Self.compare(storage, types: nil, size: 200, packed: packed, swift: swift, "\(type) detected") == expected)
        }
    }

    @Test("detected digit-led values the IPv4 scanner declines become names: every slot finds its own bytes and digest")
    func declinedAddressesBecomeNames() {
        guard SipHashLanes.avx2Available, PackedBatchLayout.codes != nil else { return }
        // Digit-led detected values of at most 15 bytes try the IPv4 scanner first; the names
        // among them are listed for the name pass, between plain, long (deferred) and declined
        // values, and each name is filed as it is scanned.
        let shapes = [
            "1password.com", "9.example", "123.example.org", "1.2.3.4", "example.com", "8.8.8.8", "7zip.org",
            "1.2.3.04", "00.example", "0x1f.example", String(repeating: "a", count: 40) + "." + String(repeating: "b", count: 30),
            "3com.com", "bad_name.com", "10.0.0.1", "4chan.org", "255.255.255.255", "2.example-shop.co",
        ]
        var generator = IDNATestSupport.Generator(seed: 0xD15C)
        let values = (0..<700).map { _ in Array(shapes[Int(generator.next() % UInt64(shapes.count))].utf8) }
        let storage = FastBatchTests.separateBuffers(values)
        defer { FastBatchTests.free(storage) }
        let packed = FastDigestBatch(capacity: 200, kernel: .avx2)
        let swift = FastDigestBatch(capacity: 200, kernel: .avx2, packedScan: false)
        var accepted = 0
        for size in [1, 17, 64, 65, 200] {
            accepted += Self.compare(storage, types: nil, size: size, packed: packed, swift: swift, "detect \(size)")
        }
        #expect(accepted > 5 * 400, "\(accepted)")
        // One batch: the accepted values' canonical bytes never overlap in the scratch.
        storage.withUnsafeBufferPointer { Self.key.canonicalDigestFast($0, types: nil, range: 0..<200, into: packed) }
        var spans: [(Int, Int)] = []
        for slot in 0..<200 where packed.results[slot].count > 0 {
            let result = packed.results[slot]
            spans.append((Int(result.offset), Int(result.offset) + Int(result.count)))
        }
        spans.sort { $0.0 < $1.0 }
        for (a, b) in zip(spans, spans.dropFirst()) { #expect(a.1 <= b.0, "\(a) overlaps \(b)") }
    }

    @Test("a reused batch: a value declined now does not keep the digest it had in the batch before")
    func reusedBatch() {
        guard SipHashLanes.avx2Available, PackedBatchLayout.codes != nil else { return }
        let first = FastBatchTests.separateBuffers(["1.2.3.4", "example.com", "5.6.7.8"].map { Array($0.utf8) })
        let second = FastBatchTests.separateBuffers(["1.2.3.04", "bad_name.com", "5.6.7.8"].map { Array($0.utf8) })
        defer { FastBatchTests.free(first); FastBatchTests.free(second) }
        let packed = FastDigestBatch(capacity: 4, kernel: .avx2)
        first.withUnsafeBufferPointer { Self.key.canonicalDigestFast($0, types: nil, range: 0..<3, into: packed) }
        let before = (0..<3).map { packed.results[$0] }
        #expect(before.allSatisfy { $0.count > 0 })
        second.withUnsafeBufferPointer { Self.key.canonicalDigestFast($0, types: nil, range: 0..<3, into: packed) }
        for slot in 0..<2 {
            let result = packed.results[slot]
            #expect(result.count == 0 && result.lo == 0 && result.hi == 0, "slot \(slot)")
        }
        // The address in slot 2 moved to the first place in the scratch; same digest as before.
        #expect(packed.results[2].lo == before[2].lo && packed.results[2].hi == before[2].hi)
        #expect(Array(packed.canonical(2)) == [5, 6, 7, 8])
    }

    @Test("IPv4 scanner: a leading '0' and a non-digit in every octet of every shape")
    func leadingZerosAndDigitsEveryShape() {
        var accepted = 0
        var checked = 0
        let least = ["0", "10", "100"]
        for a in 0..<3 { for b in 0..<3 { for c in 0..<3 { for d in 0..<3 {
            let lengths = [a, b, c, d]
            let base = lengths.map { least[$0] }
            if VectorScannerTests.check(Array(base.joined(separator: ".").utf8), "least") { accepted += 1 }
            for position in 0..<4 {
                let length = lengths[position] + 1
                // A '0' first, then the octet's largest digits ("0", "09", "099"), and all zeros.
                for octet in [String("0" + String(repeating: "9", count: length - 1)), String(repeating: "0", count: length)] {
                    var parts = base
                    parts[position] = octet
                    if VectorScannerTests.check(Array(parts.joined(separator: ".").utf8), "zero") { accepted += 1 }
                    checked += 1
                }
                // A non-digit in each place of the octet (':' and '/' border the digits).
                for place in 0..<length {
                    for stray in [UInt8(ascii: ":"), UInt8(ascii: "/"), 0x00, UInt8(ascii: "a")] {
                        var octet = Array(String(repeating: "1", count: length).utf8)
                        octet[place] = stray
                        var parts = base.map { Array($0.utf8) }
                        parts[position] = octet
                        let bytes = Array(parts.joined(separator: [UInt8(ascii: ".")]))
                        #expect(!VectorScannerTests.check(bytes, "stray"), "\(bytes)")
                        checked += 1
                    }
                }
            }
        } } } }
        #expect(checked > 81 * 4 * 5)
        // The least values (81 shapes) and every lone "0" octet are accepted.
        if VectorScannerTests.vector { #expect(accepted >= 81, "\(accepted)") }
    }
}
