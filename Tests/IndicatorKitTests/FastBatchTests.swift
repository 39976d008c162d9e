import Foundation
import Testing
@testable import IndicatorKit

/// The batch fast path (`DigestKey.canonicalDigestFast(_:types:range:into:)`, the matcher's
/// first stage) must answer every value exactly as the one-value fast path does — accept or
/// decline, type, canonical bytes and digest — for any mix of values, types and batch sizes.
@Suite("Fast path, batches")
struct FastBatchTests {
    /// Each value copied into its own allocation of exactly its length (one byte for an empty
    /// value), as a caller's separate strings would be; release them with `free`.
    static func separateBuffers(_ values: [[UInt8]]) -> [UnsafeBufferPointer<UInt8>] {
        values.map { bytes in
            let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(bytes.count, 1))
            _ = buffer.initialize(from: bytes)
            return UnsafeBufferPointer(rebasing: buffer[..<bytes.count])
        }
    }

    static func free(_ buffers: some Sequence<UnsafeBufferPointer<UInt8>>) {
        buffers.forEach { UnsafeMutableBufferPointer(mutating: $0).deallocate() }
    }

    static let key = DigestKey(bytes: (0..<16).map { UInt8(truncatingIfNeeded: $0 &* 29 &+ 3) })!

    /// Values of every kind the fast path sees: plain and odd quads, names of many lengths and
    /// cases, whitespace, refusals, other types, empty and too long ones, random bytes.
    static func values(_ generator: inout IDNATestSupport.Generator, count: Int) -> [[UInt8]] {
        let fixed = [
            "91.209.233.149", "1.2.3.4", "01.2.3.4", "256.1.1.1", "1.2.3", "1.2.3.4/24", " 10.0.0.1\t",
            "a7f3kq.example-shop.com", "WWW.Example.ORG", "xn--bcher-kva.example", "a..b", "-a.b", "a.b-",
            "example.com.", "*.example.com", "under_score.example", "0x1f.example", "00.12.34", "a.123",
            "user@example.com", "https://example.com/x", "", " ", "ab", "bücher.example", "192.168.000.1",
            String(repeating: "a", count: 63) + ".example", String(repeating: "a", count: 64) + ".example",
            (0..<4).map { _ in String(repeating: "b", count: 62) }.joined(separator: ".") + ".x",
        ].map { Array($0.utf8) }
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-.-".utf8)
        return (0..<count).map { _ in
            switch generator.next() % 4 {
            case 0: return fixed[Int(generator.next() % UInt64(fixed.count))]
            case 1:
                return Array((0..<4).map { _ in String(generator.next() % 300) }.joined(separator: ".").utf8)
            case 2:
                let length = Int(generator.next() % 260)
                return (0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }
            default:
                let length = Int(generator.next() % 40)
                return (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            }
        }
    }

    @Test("a batch answers each value as the one-value fast path does, typed and untyped, with either SipHash kernel",
          arguments: SipHashKernel.allCases)
    func batchEqualsOneByOne(kernel: SipHashKernel) {
        var generator = IDNATestSupport.Generator(seed: 0xFA57)
        let out = UnsafeMutablePointer<UInt8>.allocate(capacity: Canonicalizer.scratchBytes)
        defer { out.deallocate() }
        let typeChoices: [IndicatorType?] = [nil, .ipv4, .domain, .url]
        var accepted = 0
        for round in 0..<300 {
            let capacity = 1 + round % 40
            let batch = FastDigestBatch(capacity: capacity, kernel: kernel)
            #expect(batch.kernel == kernel)
            let values = Self.values(&generator, count: capacity + 5)
            let types = values.map { _ in typeChoices[Int(generator.next() % 4)] }
            let lower = Int(generator.next() % 5)
            let upper = lower + Int(generator.next() % UInt64(capacity + 1))
            let storage = FastBatchTests.separateBuffers(values)
            defer { FastBatchTests.free(storage) }
            let allDetected = round % 5 == 0
            storage.withUnsafeBufferPointer { buffers in
                types.withUnsafeBufferPointer { typeBuffer in
                    Self.key.canonicalDigestFast(
                        buffers, types: allDetected ? nil : typeBuffer, range: lower..<upper, into: batch)
                }
            }
            for index in lower..<upper {
                let type = allDetected ? nil : types[index]
                let single = Self.key.canonicalDigestFast(storage[index], as: type, into: out)
                let result = batch.results[index - lower]
                let text = String(decoding: values[index], as: UTF8.self)
                guard let single else {
                    #expect(result.count == 0, "'\(text)' as \(String(describing: type))")
                    continue
                }
                accepted += 1
                #expect(Int(result.count) == single.result.count, "'\(text)'")
                #expect(result.type == single.result.type, "'\(text)'")
                #expect(result.form == single.result.form, "'\(text)'")
                #expect(IndicatorDigest(lo: result.lo, hi: result.hi) == single.digest, "'\(text)'")
                #expect(Array(batch.canonical(index - lower)) == Array(UnsafeBufferPointer(start: out, count: single.result.count)),
                        "'\(text)'")
            }
        }
        #expect(accepted > 300)  // the sweep exercises the accepting path, not only refusals
    }

    /// Values from the fixtures (IPv4 edge cases, the UTS #46 test names, the naughty strings)
    /// and bench-like addresses and names.
    static func fixtureValues() throws -> [[UInt8]] {
        var values = [[UInt8]]()
        let ipv4 = String(decoding: try IDNATestSupport.fixture("ipv4_edge_vectors.tsv"), as: UTF8.self)
        for line in ipv4.split(separator: "\n") where !line.hasPrefix("#") {
            let literal = line.split(separator: "\t", omittingEmptySubsequences: false)[0]
            values.append(Array(literal.utf8.dropFirst().dropLast()))  // the repr() quotes
            for field in line.split(separator: "\t").dropFirst() { values.append(Array(field.utf8)) }
        }
        let idna = String(decoding: try IDNATestSupport.fixture("IdnaTestV2.txt"), as: UTF8.self)
        for line in idna.split(separator: "\n") where !line.hasPrefix("#") {
            for field in line.split(separator: ";").prefix(4) {
                values.append(Array(field.utf8.drop { $0 == 0x20 }))
            }
        }
        values += try IDNATestSupport.fixture("blns.txt").split(separator: 0x0A).map { Array($0) }
        var generator = IDNATestSupport.Generator(seed: 0xD16E)
        let seconds = ["example-shop", "bank-login", "a", "verify-account-now"]
        for _ in 0..<4000 {
            values.append(Array((0..<4).map { _ in String(generator.next() % 256) }.joined(separator: ".").utf8))
            let label = String((0..<(1 + Int(generator.next() % 12))).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement(using: &generator)! })
            values.append(Array("\(label).\(seconds[Int(generator.next() % 4)]).com".utf8))
        }
        return values
    }

    @Test("over the fixtures, both kernels give the stored digest (general path + libsodium) bit for bit")
    func fixtureDigestsAreIdentical() throws {
        let values = try Self.fixtureValues()
        let storage = FastBatchTests.separateBuffers(values)
        defer { FastBatchTests.free(storage) }
        let scratch = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: Canonicalizer.scratchBytes)
        defer { scratch.deallocate() }
        let batches = SipHashKernel.allCases.map { FastDigestBatch(capacity: 32, kernel: $0) }
        var accepted = 0
        for types in [nil, [IndicatorType?](repeating: .ipv4, count: values.count),
                      [IndicatorType?](repeating: .domain, count: values.count)] {
            for start in stride(from: 0, to: values.count, by: 32) {
                let range = start..<min(start + 32, values.count)
                for batch in batches {
                    storage.withUnsafeBufferPointer { buffers in
                        if let types {
                            types.withUnsafeBufferPointer {
                                Self.key.canonicalDigestFast(buffers, types: $0, range: range, into: batch)
                            }
                        } else {
                            Self.key.canonicalDigestFast(buffers, types: nil, range: range, into: batch)
                        }
                    }
                }
                for index in range {
                    let slot = index - start
                    let results = batches.map { $0.results[slot] }
                    #expect(Set(results.map { $0.count }).count == 1)
                    guard results[0].count > 0 else { continue }
                    accepted += 1
                    // What ingest stores: the general path's canonical form, digested by libsodium.
                    var writer = ByteWriter(scratch)
                    let form = try Canonicalizer.canonicalizeGeneral(storage[index], as: types?[index] ?? nil, into: &writer)
                    let stored = Self.key.digest(form, canonical: writer.written)
                    for (kernel, result) in zip(SipHashKernel.allCases, results) {
                        #expect(IndicatorDigest(lo: result.lo, hi: result.hi) == stored,
                                "\(kernel) '\(String(decoding: values[index], as: UTF8.self))'")
                        #expect(result.form == form)
                    }
                }
            }
        }
        #expect(accepted > 16000)
    }
}
