import Glibc
import Testing
@testable import IndicatorKit

/// The word-at-a-time scanners of the fast path (`Canonicalizer+SWAR.swift`) against the
/// general path, on thousands of generated, seeded cases per run: they may only accept what the
/// general path accepts (same type, form, bytes and digest), and must accept the plain shapes.
@Suite("Canonicalizer fast path, SWAR scanners")
struct FastPathSWARTests {
    typealias Generator = IDNATestSupport.Generator

    static let types: [IndicatorType?] = [nil, .ipv4, .domain]

    static func pick<T>(_ items: [T], _ generator: inout Generator) -> T {
        items[Int(generator.next() % UInt64(items.count))]
    }

    /// One octet: usually plain 0–255, often a leading zero, an overflow, too many or no digits.
    static func octet(_ generator: inout Generator) -> (text: String, plain: Bool) {
        let r = generator.next()
        switch r % 16 {
        case 0: return ("0\(r / 16 % 10)", false)           // leading zero
        case 1: return ("00\(r / 16 % 10)", false)
        case 2: return ("\(256 + r / 16 % 744)", false)      // 256…999
        case 3: return ("\(1000 + r / 16 % 9000)", false)    // four digits
        case 4: return ("", false)
        case 5: return ("0", true)
        case 6, 7, 8: return ("\(r / 16 % 10)", true)
        case 9, 10, 11: return ("\(10 + r / 16 % 90)", true)
        default: return ("\(100 + r / 16 % 156)", true)
        }
    }

    @Test("random dotted quads: leading zeros, overflow, short and long forms, odd bytes")
    func randomDottedQuads() {
        var generator = Generator(seed: 0x1B4D)
        var accepted = 0
        for round in 0..<12_000 {
            let octets = round % 10 == 0 ? Int(generator.next() % 3) + 3 : 4
            var parts: [String] = []
            var plain = octets == 4
            for _ in 0..<octets {
                let (text, isPlain) = Self.octet(&generator)
                parts.append(text)
                plain = plain && isPlain
            }
            var bytes = Array(parts.joined(separator: ".").utf8)
            if round % 7 == 0, !bytes.isEmpty {  // one byte replaced by any value
                bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: generator.next())
                plain = false
            }
            if round % 13 == 0 { bytes = Array(" \t".utf8) + bytes + Array("\n".utf8) }
            for type in Self.types where FastPathTests.agree(bytes, as: type) { accepted += 1 }
            if plain {
                #expect(FastPathTests.fast(bytes, as: .ipv4) != nil, "\(String(decoding: bytes, as: UTF8.self))")
                #expect(FastPathTests.fast(bytes, as: nil)?.0.type == .ipv4)
            }
        }
        #expect(accepted > 3000, "the IPv4 scanner should accept the plain quads (\(accepted))")
    }

    @Test("every dotted quad shape of 7–15 bytes with octets of 1–3 digits")
    func everyQuadShape() {
        var generator = Generator(seed: 0x0C7E7)
        for shape in 0..<81 {
            let lengths = [shape % 3 + 1, shape / 3 % 3 + 1, shape / 9 % 3 + 1, shape / 27 % 3 + 1]
            for _ in 0..<20 {
                let parts = lengths.map { length in
                    let low = [0, 10, 100][length - 1]
                    let high = [9, 99, 255][length - 1]
                    return String(low + Int(generator.next() % UInt64(high - low + 1)))
                }
                let text = parts.joined(separator: ".")
                #expect(FastPathTests.agree(text, as: .ipv4), "\(text)")
                #expect(FastPathTests.agree(text, as: nil), "\(text)")
            }
        }
    }

    static let labelLengths = [1, 2, 3, 6, 7, 8, 9, 15, 16, 17, 31, 62, 63, 64]
    static let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
    static let digits = Array("0123456789".utf8)

    /// A label of `length` letters, digits and (inside, not doubled) hyphens, mixed case.
    static func label(_ length: Int, _ generator: inout Generator, digitsOnly: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        for index in 0..<length {
            let r = generator.next()
            if digitsOnly {
                out.append(digits[Int(r % 10)])
            } else if r % 9 == 0, index > 0, index < length - 1, out.last != UInt8(ascii: "-") {
                out.append(UInt8(ascii: "-"))
            } else if r % 4 == 0 {
                out.append(digits[Int(r / 4 % 10)])
            } else {
                out.append(letters[Int(r / 4 % UInt64(letters.count))])
            }
        }
        return out
    }

    @Test("random LDH names: label lengths 1/7/8/15/16/17/63/64, mixed case, 253/254 bytes")
    func randomNames() {
        var generator = Generator(seed: 0xD0_4A1)
        var accepted = 0
        for round in 0..<6000 {
            let labels = Int(generator.next() % 4) + 1
            var parts: [[UInt8]] = []
            for index in 0..<labels {
                let length = Self.pick(Self.labelLengths, &generator)
                let numeric = index == labels - 1 && round % 11 == 0
                parts.append(Self.label(length, &generator, digitsOnly: numeric))
            }
            var name = Array(parts.joined(separator: [UInt8(ascii: ".")]))
            let valid = labels >= 2 && name.count <= 253 && parts.allSatisfy { $0.count <= 63 }
                && parts.last!.contains { !Self.digits.contains($0) }
            var mutated = false
            switch round % 9 {
            case 0:  // one byte replaced by any value
                name[Int(generator.next() % UInt64(name.count))] = UInt8(truncatingIfNeeded: generator.next())
                mutated = true
            case 1:  // a separator doubled or moved to an edge
                let separator = Self.pick(Array("-.".utf8), &generator)
                let at = Int(generator.next() % UInt64(name.count + 1))
                name.insert(contentsOf: [separator, separator], at: at)
                mutated = true
            default: break
            }
            for type in Self.types where FastPathTests.agree(name, as: type) { accepted += 1 }
            if valid && !mutated {
                #expect(FastPathTests.fast(name, as: .domain) != nil, "\(String(decoding: name, as: UTF8.self))")
            }
        }
        #expect(accepted > 3000, "the name scanner should accept the plain names (\(accepted))")
    }

    @Test("names of 253 and 254 bytes, every length of the last word")
    func longNames() {
        var generator = Generator(seed: 253)
        for total in [63, 64, 65, 127, 128, 129, 247, 248, 249, 250, 251, 252, 253, 254, 255] {
            for lastLabel in 1...9 {
                // Labels of 63 and a last label of `lastLabel` letters, padded to `total` bytes.
                var name = Self.label(lastLabel, &generator)
                name[0] = UInt8(ascii: "q")
                while name.count < total {
                    let length = min(62, total - name.count - 1)
                    guard length > 0 else { name.insert(UInt8(ascii: "z"), at: 0); continue }
                    var label = Self.label(length, &generator)
                    label[0] = UInt8(ascii: "a")
                    label[label.count - 1] = UInt8(ascii: "b")
                    name = label + [UInt8(ascii: ".")] + name
                }
                for type in Self.types { FastPathTests.agree(name, as: type) }
                #expect((FastPathTests.fast(name, as: .domain) != nil) == (total <= 253), "\(total)")
            }
        }
        // One label of 64 inside a short enough name is declined; of 63, accepted.
        let long = Array(String(repeating: "a", count: 64).utf8) + Array(".com".utf8)
        #expect(FastPathTests.fast(long, as: .domain) == nil)
        #expect(FastPathTests.fast(Array(long.dropFirst()), as: .domain) != nil)
        #expect(FastPathTests.fast(Array("com.".utf8) + long.dropLast(4), as: .domain) == nil)
    }

    @Test("every byte value at every position of plain names and quads")
    func everyByteEverywhere() {
        let bases = [
            "a7f3kq.example-shop.com", "91.209.233.149", "1.2.3.4", "ab.cd", "Abcdefgh.ijklmnop.X",
            "0.0.0.0", "abcdefg.hi", "a-b.c-d.e",
        ]
        var accepted = 0
        for base in bases {
            let bytes = Array(base.utf8)
            for position in 0..<bytes.count {
                for value in 0...255 {
                    var changed = bytes
                    changed[position] = UInt8(value)
                    for type in Self.types where FastPathTests.agree(changed, as: type) { accepted += 1 }
                }
            }
            // Every byte appended (the tail word) and prepended.
            for value in 0...255 {
                for type in Self.types {
                    FastPathTests.agree(bytes + [UInt8(value)], as: type)
                    FastPathTests.agree([UInt8(value)] + bytes, as: type)
                }
            }
        }
        #expect(accepted > 5000, "\(accepted)")
    }

    /// Two pages, the second inaccessible: `body` gets the first page's last `count` bytes.
    static func atPageEnd(_ bytes: [UInt8], _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let region = mmap(nil, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)!
        defer { munmap(region, 2 * page) }
        #expect(mprotect(region + page, page, PROT_NONE) == 0)
        let start = region.assumingMemoryBound(to: UInt8.self) + page - bytes.count
        for (index, byte) in bytes.enumerated() { start[index] = byte }
        body(UnsafeBufferPointer(start: start, count: bytes.count))
    }

    @Test("inputs and outputs that end at a page end, or start at a page start")
    func pageBoundaries() {
        var generator = Generator(seed: 0x9A6E)
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        // The output: `count` bytes (at least 4) ending at a guard page.
        let outRegion = mmap(nil, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)!
        defer { munmap(outRegion, 2 * page) }
        #expect(mprotect(outRegion + page, page, PROT_NONE) == 0)
        let outEnd = outRegion.assumingMemoryBound(to: UInt8.self) + page
        // The input at the start of a page after a guard page.
        let before = mmap(nil, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)!
        defer { munmap(before, 2 * page) }
        #expect(mprotect(before, page, PROT_NONE) == 0)
        let pageStart = before.assumingMemoryBound(to: UInt8.self) + page
        var accepted = 0
        for length in 1...260 {
            for variant in 0..<4 {
                var bytes: [UInt8]
                if variant == 0, length >= 7, length <= 15 {
                    // A dotted quad of this length when there is one.
                    bytes = Array("1.1.1.1".utf8)
                    while bytes.count < length {
                        let dots = bytes.indices.filter { bytes[$0] == UInt8(ascii: ".") } + [bytes.count]
                        let end = dots.first { end in
                            let start = (bytes[..<end].lastIndex(of: UInt8(ascii: ".")) ?? -1) + 1
                            return end - start < 3
                        }!
                        bytes.insert(UInt8(ascii: "2"), at: end)
                    }
                } else {
                    bytes = Self.label(length, &generator)
                    if length >= 3 {
                        bytes[length - 3] = UInt8(ascii: ".")
                        bytes[length - 1] = UInt8(ascii: "x")
                    }
                    for k in stride(from: 50, to: length - 4, by: 50) where length >= 70 { bytes[k] = UInt8(ascii: ".") }
                    if variant == 3 { bytes = bytes.map { $0 | 0x80 } }  // every byte refused
                }
                let input = bytes
                for type in Self.types {
                    let capacity = max(min(input.count, 253), 4)
                    Self.atPageEnd(input) { value in
                        if Canonicalizer.canonicalizeFast(value, as: type, into: outEnd - capacity) != nil {
                            accepted += 1
                        }
                        _ = FastPathTests.key.canonicalDigestFast(value, as: type, into: outEnd - capacity)
                    }
                    for (index, byte) in input.enumerated() { pageStart[index] = byte }
                    let value = UnsafeBufferPointer(start: UnsafePointer(pageStart), count: input.count)
                    _ = FastPathTests.key.canonicalDigestFast(value, as: type, into: outEnd - capacity)
                    FastPathTests.agree(input, as: type)
                }
            }
        }
        #expect(accepted > 500, "\(accepted)")
    }
}
