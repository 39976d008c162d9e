import Glibc
import Testing
@testable import IndicatorKit

/// The batch digest's vector scanners in C (`SipHashLanes.scanIPv4`, `.scanName`; CHubSipHash
/// `ipv4.c`, `name.c`) against the Swift scanners they stand in for (`Canonicalizer.fastIPv4`,
/// `.fastNameWords`) and against the full validating canonicaliser: on the IPv4 edge table,
/// random dotted strings and names, every shape, every byte at every position, and the hostile
/// fixtures (naughty strings, UTF-8 stress test), they must accept exactly the same inputs with
/// the same address, canonical bytes and message words; and the matcher's first stage with them
/// (batch + general-path fallback) must give exactly the full canonicaliser's answer — form,
/// bytes and digest, or the same `IndicatorError`.
@Suite("Vector scanners vs Swift scanners vs general path")
struct VectorScannerTests {
    typealias Generator = IDNATestSupport.Generator

    /// Whether this machine runs the vector scanner (the batch uses it only then).
    static let vector = SipHashLanes.avx2Available

    /// The Swift scanner's answer for `bytes` (nil when it declines), as the batch sees it.
    static func swiftScan(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32? {
        let out = UnsafeMutablePointer<UInt8>.allocate(capacity: 8)
        defer { out.deallocate() }
        guard let base = bytes.baseAddress else { return nil }
        return Canonicalizer.fastIPv4(base, bytes.count, out)
    }

    /// The vector scanner's answer, through the batch's entry (which also stores the bytes).
    static func vectorScan(_ bytes: UnsafeBufferPointer<UInt8>) -> (UInt32, [UInt8])? {
        let out = UnsafeMutablePointer<UInt8>.allocate(capacity: 8)
        defer { out.deallocate() }
        guard let base = bytes.baseAddress,
              let address = Canonicalizer.fastIPv4(base, bytes.count, out, vector: true)
        else { return nil }
        return (address, Array(UnsafeBufferPointer(start: out, count: 4)))
    }

    /// Checks one input: same answer from both scanners; an accepted one is the general path's
    /// canonical form. Returns whether it was accepted.
    @discardableResult
    static func check(_ bytes: [UInt8], _ label: @autoclosure () -> String = "") -> Bool {
        bytes.withUnsafeBufferPointer { check($0, label()) }
    }

    @discardableResult
    static func check(_ buffer: UnsafeBufferPointer<UInt8>, _ label: @autoclosure () -> String = "") -> Bool {
        let swift = swiftScan(buffer)
        guard vector else { return swift != nil }
        let simd = vectorScan(buffer)
        let text = "\(label()) '\(String(decoding: buffer, as: UTF8.self))' \(Array(buffer))"
        #expect(simd?.0 == swift, "\(text)")
        guard let (address, canonical) = simd else { return false }
        #expect(canonical == [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: address >> $0) }, "\(text)")
        switch FastPathTests.general(Array(buffer), as: .ipv4) {
        case .success(let (form, bytes)):
            #expect(form == CanonicalForm(type: .ipv4, prefixLength: 32), "\(text)")
            #expect(bytes == canonical, "\(text)")
        case .failure(let error):
            Issue.record("vector scanner accepted \(text); general path: \(error)")
        }
        return true
    }

    @Test("the edge table: every input and every column")
    func edgeTable() throws {
        let table = String(decoding: try IDNATestSupport.fixture("ipv4_edge_vectors.tsv"), as: UTF8.self)
        var accepted = 0
        var lines = 0
        for line in table.split(separator: "\n") where !line.hasPrefix("#") {
            lines += 1
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            if Self.check(Array(fields[0].utf8.dropFirst().dropLast()), "edge input") { accepted += 1 }
            for field in fields.dropFirst() { Self.check(Array(field.utf8), "edge column") }
        }
        #expect(lines > 10)
        if Self.vector { #expect(accepted >= 2, "\(accepted)") }
    }

    @Test("random dotted strings: 1–6 parts of 0–5 digits, odd separators, stray bytes")
    func randomDottedStrings() {
        var generator = Generator(seed: 0x1F4_DA7A)
        let alphabet = Array("0123456789....x+- ".utf8)
        var accepted = 0
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 4 == 0 {
                // Bytes from a small alphabet of digits, dots and a few others, 0–18 of them.
                bytes = (0..<Int(generator.next() % 19)).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }
            } else {
                let parts = round % 5 == 0 ? Int(generator.next() % 6) + 1 : 4
                bytes = Array((0..<parts).map { _ -> String in
                    let r = generator.next()
                    switch r % 8 {
                    case 0: return String(repeating: "0", count: Int(r / 8 % 3)) + String(r / 64 % 1000)
                    case 1: return String(r / 8 % 100_000)
                    case 2: return String(r / 8 % 10)
                    case 3: return String(10 + r / 8 % 90)
                    default: return String(r / 8 % 256)
                    }
                }.joined(separator: ".").utf8)
                if round % 7 == 0, !bytes.isEmpty {
                    bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next())
                }
            }
            if Self.check(bytes) { accepted += 1 }
        }
        if Self.vector { #expect(accepted > 2000, "\(accepted)") }
    }

    @Test("every shape of 1–3 digits per octet, at the octet limits 0, 9, 10, 99, 100, 255, 256, 999")
    func everyShapeAtTheLimits() {
        let values = [["0", "9", "5"], ["10", "99", "01", "00", "42"], ["100", "255", "256", "999", "010", "001", "000", "199"]]
        var accepted = 0
        for a in 0..<3 { for b in 0..<3 { for c in 0..<3 { for d in 0..<3 {
            for pick in 0..<8 {
                let parts = [a, b, c, d].enumerated().map { position, length in
                    values[length][(pick + position * 3) % values[length].count]
                }
                if Self.check(Array(parts.joined(separator: ".").utf8)) { accepted += 1 }
            }
        } } } }
        if Self.vector { #expect(accepted > 100, "\(accepted)") }
    }

    /// Byte values at the edges of every class the scanners test (digits, dots, hyphens,
    /// letters after lower-casing, ASCII whitespace, the top bit), and a few others.
    static let edgeBytes: [UInt8] = [
        0x00, 0x01, 0x09, 0x0A, 0x0D, 0x0E, 0x10, 0x1F, 0x20, 0x21, 0x2C, 0x2D, 0x2E, 0x2F, 0x30, 0x31, 0x38, 0x39,
        0x3A, 0x40, 0x41, 0x4D, 0x5A, 0x5B, 0x5F, 0x60, 0x61, 0x78, 0x7A, 0x7B, 0x7F, 0x80, 0x8D, 0xA0, 0xAD, 0xAE,
        0xB0, 0xB9, 0xC0, 0xC1, 0xC3, 0xDA, 0xE1, 0xEF, 0xFA, 0xFE, 0xFF,
    ]

    @Test("every byte value at every position of plain quads of 7, 11 and 15 bytes")
    func everyByteEverywhere() {
        for base in ["1.2.3.4", "10.20.30.40", "255.255.255.255", "192.168.100.1"] {
            let bytes = Array(base.utf8)
            for position in 0..<bytes.count {
                for byte in 0...255 where byte < 0x40 || Self.edgeBytes.contains(UInt8(byte)) {
                    var mutated = bytes
                    mutated[position] = UInt8(byte)
                    Self.check(mutated)
                }
            }
            for byte in 0...255 {
                Self.check(bytes + [UInt8(byte)])
                Self.check([UInt8(byte)] + bytes)
            }
        }
    }

    @Test("hostile fixtures: every line of the naughty strings and the UTF-8 stress test")
    func hostileFixtures() throws {
        for name in ["blns.txt", "UTF-8-test.txt"] {
            let data = [UInt8](try IDNATestSupport.fixture(name))
            var lines = 0
            for line in data.split(separator: 0x0A, omittingEmptySubsequences: false) {
                lines += 1
                Self.check(Array(line), name)
                // And every 7–15-byte window of the line: the scanner's own length range.
                if line.count > 7 {
                    let bytes = Array(line)
                    for start in stride(from: 0, to: bytes.count - 7, by: 3) {
                        Self.check(Array(bytes[start..<min(start + 7 + start % 9, bytes.count)]), name)
                    }
                }
            }
            #expect(lines > 100)
        }
    }

    /// Calls `check` with `bytes` placed right after an inaccessible page ("page start") and
    /// right before one ("page end"): a scanner reading outside its input faults.
    static func atPageEdges(_ bytes: [UInt8], _ check: (UnsafeBufferPointer<UInt8>, String) -> Void) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let region = mmap(nil, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)!
        defer { munmap(region, 3 * page) }
        #expect(mprotect(region, page, PROT_NONE) == 0)
        #expect(mprotect(region + 2 * page, page, PROT_NONE) == 0)
        let start = region.assumingMemoryBound(to: UInt8.self) + page
        let end = start + page
        for (index, byte) in bytes.enumerated() { start[index] = byte; (end - bytes.count)[index] = byte }
        check(UnsafeBufferPointer(start: start, count: bytes.count), "page start")
        check(UnsafeBufferPointer(start: end - bytes.count, count: bytes.count), "page end")
    }

    @Test("inputs ending at a guard page or starting right after one are read in bounds")
    func pageBoundaries() {
        for text in ["1.2.3.4", "1.2.3.45", "1.2.3.456", "10.20.30.40", "255.255.255.255", "1.2.3", "1.1.1.1.1",
                     "99.99.99.99", "9.9.9.9.", "100.100.100.1"] {
            Self.atPageEdges(Array(text.utf8)) { Self.check($0, $1) }
        }
    }

    /// What a name scanner produced: its answer (words > 0, 0 declined, -1 not handled), the
    /// message words and the canonical bytes.
    struct NameScan: Equatable {
        var answer: Int
        var words: [UInt64]
        var canonical: [UInt8]
    }

    static let sentinel: UInt8 = 0xA5
    nonisolated(unsafe) static let sentinels: UnsafeMutableBufferPointer<UInt8> = {
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 512)
        buffer.initialize(repeating: sentinel)
        return buffer
    }()

    /// Runs the Swift (`vector` false) or the vector name scanner on `buffer` (3–253 bytes),
    /// and checks that the vector one writes nowhere past what its interface allows.
    static func scanName(_ buffer: UnsafeBufferPointer<UInt8>, detecting: Bool, vector: Bool) -> NameScan {
        let count = buffer.count
        let out = UnsafeMutablePointer<UInt8>.allocate(capacity: 512)
        defer { out.deallocate() }
        let words = UnsafeMutablePointer<UInt64>.allocate(capacity: 64)
        defer { words.deallocate() }
        out.initialize(repeating: sentinel, count: 512)
        UnsafeMutableRawPointer(words).initializeMemory(as: UInt8.self, repeating: sentinel, count: 512)
        let answer: Int
        if vector {
            answer = SipHashLanes.scanName(
                buffer.baseAddress!, count, detecting: detecting, prefix: Canonicalizer.digestPrefix(.domain),
                out: out, words: words)
            let untouched = sentinels.baseAddress!
            if answer < 0 {
                #expect(memcmp(out, untouched, 512) == 0 && memcmp(words, untouched, 512) == 0, "wrote for -1")
            } else {
                #expect(memcmp(out + count + 16, untouched, 512 - count - 16) == 0, "wrote past out + count + 16")
                #expect(memcmp(UnsafeRawPointer(words) + 98, untouched, 512 - 98) == 0, "wrote past 98 bytes of words")
            }
        } else {
            answer = Canonicalizer.fastNameWords(buffer.baseAddress!, count, out, detecting: detecting, words: words) ?? 0
        }
        guard answer > 0 else { return NameScan(answer: answer, words: [], canonical: []) }
        return NameScan(answer: answer, words: Array(UnsafeBufferPointer(start: words, count: answer)),
                        canonical: Array(UnsafeBufferPointer(start: out, count: count)))
    }

    /// Checks one name (3–253 bytes), typed and detecting: the vector scanner answers as the
    /// Swift one (for 3–64 bytes; -1 beyond), and an accepted name is the general path's.
    /// Returns whether it was accepted (typed).
    @discardableResult
    static func checkName(_ bytes: [UInt8], _ label: @autoclosure () -> String = "") -> Bool {
        guard bytes.count >= 3, bytes.count <= 253 else { return false }
        return bytes.withUnsafeBufferPointer { checkName($0, label()) }
    }

    @discardableResult
    static func checkName(_ buffer: UnsafeBufferPointer<UInt8>, _ label: @autoclosure () -> String = "") -> Bool {
        var accepted = false
        for detecting in [false, true] {
            let swift = scanName(buffer, detecting: detecting, vector: false)
            if !detecting { accepted = swift.answer > 0 }
            guard vector else { continue }
            let simd = scanName(buffer, detecting: detecting, vector: true)
            let text = "\(label()) '\(String(decoding: buffer, as: UTF8.self))' \(Array(buffer)) detecting \(detecting)"
            guard buffer.count <= 64 else {
                #expect(simd.answer == -1, "\(text)")
                continue
            }
            #expect(simd == swift, "\(text)")
            guard simd.answer > 0 else { continue }
            switch FastPathTests.general(Array(buffer), as: detecting ? nil : .domain) {
            case .success(let (form, bytes)):
                #expect(form == CanonicalForm(type: .domain, prefixLength: 0), "\(text)")
                #expect(bytes == simd.canonical, "\(text)")
                let message = [Canonicalizer.version, UInt8(IndicatorType.domain.rawValue)] + bytes
                #expect(message.withUnsafeBytes { SipHash.words($0.baseAddress, count: $0.count) } == simd.words,
                        "\(text)")
            case .failure(let error):
                Issue.record("vector name scanner accepted \(text); general path: \(error)")
            }
        }
        return accepted
    }

    @Test("random names: labels of 1–20 bytes, mixed case, digits, hyphens, odd separators and bytes, 3–70 bytes")
    func randomNames() {
        var generator = Generator(seed: 0x9A3E5)
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)
        var accepted = 0
        for round in 0..<12_000 {
            var bytes: [UInt8] = []
            let labels = 1 + Int(generator.next() % 5)
            for label in 0..<labels {
                if label > 0 { bytes.append(UInt8(ascii: ".")) }
                let length = 1 + Int(generator.next() % 20)
                for position in 0..<length {
                    let r = generator.next()
                    let hyphen = position > 0 && position < length - 1 && r % 9 == 0
                    bytes.append(hyphen ? UInt8(ascii: "-") : letters[Int(r / 9 % UInt64(letters.count))])
                }
            }
            switch round % 23 {
            case 0: bytes.insert(UInt8(ascii: "."), at: Int(generator.next() % UInt64(bytes.count + 1)))
            case 1: bytes.insert(UInt8(ascii: "-"), at: Int(generator.next() % UInt64(bytes.count + 1)))
            case 2: bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next())
            case 3: bytes += Array(".123".utf8)
            case 4: bytes += Array(".0x1f".utf8)
            case 5: bytes = Array("00".utf8) + bytes
            case 6: bytes = Array("xn--".utf8) + bytes
            case 7: bytes.append(UInt8(ascii: "."))
            default: break
            }
            if Self.checkName(bytes) { accepted += 1 }
        }
        #expect(accepted > 4000, "\(accepted)")
    }

    @Test("edge byte values at every position of names of 3–65 bytes")
    func everyByteInNames() {
        for length in [3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65] {
            var bytes = (0..<length).map { UInt8(ascii: "a") &+ UInt8($0 % 26) }
            bytes[length == 3 ? 1 : length - 3] = UInt8(ascii: ".")
            #expect(Self.checkName(bytes), "\(length)")
            for position in 0..<length {
                for byte in Self.edgeBytes {
                    var mutated = bytes
                    mutated[position] = UInt8(byte)
                    Self.checkName(mutated)
                }
            }
        }
    }

    @Test("hostile fixtures as names: every line and windows of the naughty strings and the UTF-8 stress test")
    func hostileNames() throws {
        for name in ["blns.txt", "UTF-8-test.txt"] {
            let data = [UInt8](try IDNATestSupport.fixture(name))
            for line in data.split(separator: 0x0A, omittingEmptySubsequences: false) {
                let bytes = Array(line)
                Self.checkName(bytes, name)
                for start in stride(from: 0, to: max(bytes.count - 3, 0), by: 5) {
                    Self.checkName(Array(bytes[start..<min(start + 3 + start % 62, bytes.count)]), name)
                }
            }
        }
    }

    @Test("names ending at a guard page or starting right after one, 3–64 bytes")
    func namePageBoundaries() {
        for length in 3...70 {
            var bytes = (0..<length).map { UInt8(ascii: "A") &+ UInt8($0 % 26) }
            bytes[length - 3] = UInt8(ascii: ".")
            Self.atPageEdges(bytes) { Self.checkName($0, $1) }
        }
    }

    /// Inputs for the end-to-end comparison: the edge table, random quads (plain and not),
    /// names, the naughty strings, whitespace around quads.
    static func mixedValues() throws -> [[UInt8]] {
        var values = try FastBatchTests.fixtureValues()
        values += try IDNATestSupport.fixture("UTF-8-test.txt").split(separator: 0x0A).map { Array($0) }
        var generator = Generator(seed: 0xE2E4)
        for round in 0..<6000 {
            let parts = (0..<4).map { _ -> String in
                let r = generator.next()
                return r % 9 == 0 ? "0\(r / 9 % 100)" : r % 11 == 0 ? String(r / 11 % 2000) : String(r / 8 % 256)
            }
            var text = parts.joined(separator: ".")
            if round % 17 == 0 { text = " \(text)\t" }
            if round % 19 == 0 { text += "/24" }
            values.append(Array(text.utf8))
        }
        return values
    }

    @Test("the batch (vector scanner) plus the general-path fallback answers as the full canonicaliser, value for value",
          arguments: [nil, IndicatorType.ipv4, .domain])
    func batchEqualsFullCanonicaliser(type: IndicatorType?) throws {
        let values = try Self.mixedValues()
        let storage = FastBatchTests.separateBuffers(values)
        defer { FastBatchTests.free(storage) }
        let scratch = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: Canonicalizer.scratchBytes)
        defer { scratch.deallocate() }
        let key = FastBatchTests.key
        let batch = FastDigestBatch(capacity: 32, kernel: .avx2)
        #expect(batch.vectorScanners == Self.vector)
        let types = [IndicatorType?](repeating: type, count: values.count)
        var accepted = 0
        var refused = 0
        for first in stride(from: 0, to: values.count, by: 32) {
            let range = first..<min(first + 32, values.count)
            storage.withUnsafeBufferPointer { buffers in
                types.withUnsafeBufferPointer { key.canonicalDigestFast(buffers, types: $0, range: range, into: batch) }
            }
            for index in range {
                let result = batch.results[index - first]
                let label = "'\(String(decoding: values[index], as: UTF8.self))' as \(String(describing: type))"
                // The full validating canonicaliser, as ingest runs it.
                var expected = ByteWriter(scratch)
                let full: Result<CanonicalForm, IndicatorError>
                do throws(IndicatorError) {
                    full = .success(try Canonicalizer.canonicalizeGeneral(storage[index], as: type, into: &expected))
                } catch {
                    full = .failure(error)
                }
                // The matcher's answer: the batch's, or for a declined value the public entry.
                if result.count > 0 {
                    accepted += 1
                    guard case .success(let form) = full else {
                        Issue.record("batch accepted \(label); general path: \(full)")
                        continue
                    }
                    #expect(result.form == form, "\(label)")
                    #expect(Array(batch.canonical(index - first)) == Array(expected.written), "\(label)")
                    #expect(IndicatorDigest(lo: result.lo, hi: result.hi) == key.digest(form, canonical: expected.written),
                            "\(label)")
                    continue
                }
                let fallback = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: Canonicalizer.scratchBytes)
                defer { fallback.deallocate() }
                var writer = ByteWriter(fallback)
                do throws(IndicatorError) {
                    let form = try Canonicalizer.canonicalize(storage[index], as: type, into: &writer)
                    guard case .success(let expectedForm) = full else {
                        Issue.record("fallback accepted \(label); general path: \(full)")
                        continue
                    }
                    #expect(form == expectedForm, "\(label)")
                    #expect(Array(writer.written) == Array(expected.written), "\(label)")
                } catch {
                    refused += 1
                    #expect(full == .failure(error), "\(label)")
                }
            }
        }
        #expect(accepted > 1000, "\(accepted)")
        #expect(refused > 1000, "\(refused)")
    }
}
