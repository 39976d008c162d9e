import Testing
@testable import IndicatorKit

/// The vector name scanner (`SipHashLanes.scanName`, CHubSipHash `scanners.h`) at every rule
/// edge at every position of names of 3–65 bytes: hyphens at a label's start or end, empty
/// labels (leading, trailing, doubled dots), upper case, `_` and the other non-LDH bytes,
/// bytes ≥ 0x80, labels of 62–64 bytes, all-digit and `0x` last labels, a leading `00`.
/// Each input is checked three ways: the vector scanner answers exactly as the Swift scanner
/// (`VectorScannerTests.checkName`: accept/decline, canonical bytes, message words; an
/// accepted name is the general path's form and bytes), both answer as the plain rule model
/// below, and whatever the model accepts the general canonicaliser accepts as the same
/// lower-cased `.domain` (typed and detected).
@Suite("Vector name scanner: every rule edge at every position")
struct NameScannerEdgeTests {
    /// What the fast name scanners accept, written out plainly (a byte at a time, by labels):
    /// 3–253 bytes of letters, digits, `.` and `-`; at least two labels; every label 1–63
    /// bytes, not starting or ending with `-`, without `--`; a last label that is not all
    /// digits; and, when detecting, no leading `00` and no last label of 3+ bytes starting
    /// `0x`/`0X`.
    static func modelAccepts(_ bytes: [UInt8], detecting: Bool) -> Bool {
        guard bytes.count >= 3, bytes.count <= 253 else { return false }
        for byte in bytes {
            let lower = byte | 0x20
            let ldh = (lower >= 0x61 && lower <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D || byte == 0x2E
            if !ldh { return false }
        }
        let labels = bytes.split(separator: 0x2E, omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        for label in labels {
            guard !label.isEmpty, label.count <= 63, label.first != 0x2D, label.last != 0x2D else { return false }
            if zip(label, label.dropFirst()).contains(where: { $0 == 0x2D && $1 == 0x2D }) { return false }
        }
        let last = labels.last!
        if last.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) { return false }
        if detecting {
            if bytes[0] == 0x30 && bytes[1] == 0x30 { return false }
            if last.count >= 3 && last[last.startIndex] == 0x30 && last[last.startIndex + 1] | 0x20 == 0x78 { return false }
        }
        return true
    }

    /// Checks `bytes` against both scanners, the model and the general path
    /// (`VectorScannerTests.checkName` compares the scanners with each other and an accepted
    /// name with the general path; here both are compared with the model, typed and detected).
    /// Returns whether the model accepts it typed.
    @discardableResult
    static func check(_ bytes: [UInt8], _ label: @autoclosure () -> String = "") -> Bool {
        guard bytes.count >= 3 else { return false }
        let text = "\(label()) '\(String(decoding: bytes, as: UTF8.self))' \(bytes)"
        let accepted = VectorScannerTests.checkName(bytes, label())
        let expected = modelAccepts(bytes, detecting: false)
        if bytes.count <= 253 { #expect(accepted == expected, "\(text)") }
        guard bytes.count <= 64, VectorScannerTests.vector else { return expected }
        for detecting in [false, true] {
            let model = modelAccepts(bytes, detecting: detecting)
            let scan = bytes.withUnsafeBufferPointer {
                VectorScannerTests.scanName($0, detecting: detecting, vector: true)
            }
            #expect((scan.answer > 0) == model, "\(text) detecting \(detecting): \(scan.answer)")
            if model {
                #expect(scan.answer == (bytes.count + 2) / 8 + 1, "\(text) detecting \(detecting)")
                #expect(scan.canonical == bytes.map { $0 | 0x20 }, "\(text) detecting \(detecting)")
            }
        }
        return expected
    }

    /// A plain name of `count` bytes with dots at `dots` (letters cycling a–z, a digit now
    /// and then, so that no label is all digits by accident: the last byte is a letter).
    static func name(_ count: Int, dots: [Int]) -> [UInt8] {
        var bytes = (0..<count).map { UInt8(ascii: "a") &+ UInt8($0 % 26) }
        for index in stride(from: 1, to: count - 1, by: 5) { bytes[index] = UInt8(ascii: "0") &+ UInt8(index % 10) }
        for dot in dots where dot >= 0 && dot < count { bytes[dot] = UInt8(ascii: ".") }
        bytes[count - 1] = UInt8(ascii: "z")
        return bytes
    }

    /// Dot layouts for a name of `count` bytes: one dot near the end, one near the start, a
    /// dot every fourth byte.
    static func layouts(_ count: Int) -> [[Int]] {
        let layouts = count <= 4 ? [[1], [count - 2]] : [[count - 4], [1], Array(stride(from: 3, to: count - 1, by: 4))]
        return layouts.map { $0.filter { $0 > 0 && $0 < count - 1 } }.filter { !$0.isEmpty }
    }

    /// Bytes put at each position: the separators, letters of both cases at the class edges,
    /// digits, `_` and the bytes either side of every class, NUL, DEL and bytes ≥ 0x80
    /// (including those that become letters or separators with bit 7 or bit 5 ignored).
    static let bytes: [UInt8] = [
        0x2D, 0x2E, 0x41, 0x5A, 0x7A, 0x30, 0x39, 0x5F, 0x00, 0x2C, 0x2F, 0x3A, 0x40, 0x5B, 0x60, 0x7B, 0x80, 0xAD,
        0xAE, 0xB0, 0xC1, 0xE1, 0xFA, 0xFF,
    ]

    @Test("one byte of every class at every position 1–65 of names of 3–65 bytes, several dot layouts")
    func everyByteEveryPosition() {
        var accepted = 0
        for count in 3...65 {
            for dots in Self.layouts(count) {
                let base = Self.name(count, dots: dots)
                #expect(Self.check(base, "base"), "\(count) \(dots)")
                for position in 0..<count {
                    for byte in Self.bytes {
                        var mutated = base
                        mutated[position] = byte
                        if Self.check(mutated, "\(count) \(dots) @\(position)") { accepted += 1 }
                    }
                }
            }
        }
        #expect(accepted > 10_000, "\(accepted)")
    }

    @Test("two separators (`..`, `.-`, `-.`, `--`) and hyphens beside every dot, at every position")
    func separatorPairsEveryPosition() {
        let pairs: [[UInt8]] = [[0x2E, 0x2E], [0x2E, 0x2D], [0x2D, 0x2E], [0x2D, 0x2D], [0x2D, 0x61], [0x61, 0x2D]]
        for count in 3...65 {
            for dots in Self.layouts(count) {
                let base = Self.name(count, dots: dots)
                for position in 0..<(count - 1) {
                    for pair in pairs {
                        var mutated = base
                        mutated[position] = pair[0]
                        mutated[position + 1] = pair[1]
                        Self.check(mutated, "\(count) \(dots) @\(position)")
                    }
                }
                // A hyphen on either side of each dot: a label ending or starting with '-'.
                for dot in dots {
                    for side in [dot - 1, dot + 1] where side >= 0 && side < count {
                        var mutated = base
                        mutated[side] = 0x2D
                        #expect(!Self.check(mutated, "\(count) hyphen beside dot \(dot)"))
                    }
                }
            }
        }
    }

    @Test("labels of 1, 62, 63 and 64 bytes in names of up to 66 bytes; trailing, leading and only dots")
    func labelLengths() {
        let letters = { (count: Int) in (0..<count).map { UInt8(ascii: "a") &+ UInt8($0 % 26) } }
        for long in [1, 2, 30, 31, 32, 33, 61, 62, 63, 64] {
            for short in [1, 2, 3] {
                let a = letters(long), b = letters(short)
                Self.check(a + [0x2E] + b, "long first \(long).\(short)")
                Self.check(b + [0x2E] + a, "long last \(short).\(long)")
                Self.check(a + [0x2E], "trailing dot \(long)")
                Self.check([0x2E] + a, "leading dot \(long)")
                Self.check(b + [0x2E] + a + [0x2E], "trailing dot \(short).\(long).")
                Self.check(b + [0x2E, 0x2E] + a, "empty label \(short)..\(long)")
            }
        }
        // Names of exactly 3, 63, 64 and 65 bytes, plain and with a trailing dot.
        for count in [3, 4, 31, 32, 33, 63, 64, 65] {
            let base = Self.name(count, dots: [count / 3])
            #expect(Self.check(base, "plain \(count)"))
            Self.check(Array(base.dropLast()) + [0x2E], "trailing dot \(count)")
            let upper = Self.name(count, dots: [1]).map { $0 >= 0x61 && $0 <= 0x7A ? $0 & 0xDF : $0 }
            #expect(Self.check(upper, "upper \(count)"))
        }
        for count in 3...66 { Self.check([UInt8](repeating: 0x2E, count: count), "dots \(count)") }
    }

    @Test("all-digit and `0x` last labels, leading `00`, typed and detected, for every length 3–65")
    func lastLabelsAndDetection() {
        for count in 3...65 {
            for lastLength in [1, 2, 3, 4, 7, 8, 9, 16, 17, 31, 32, 33, 62] where lastLength <= count - 2 {
                var bytes = Self.name(count, dots: [count - lastLength - 1])
                for index in (count - lastLength)..<count { bytes[index] = UInt8(ascii: "0") &+ UInt8(index % 10) }
                Self.check(bytes, "digits \(count) last \(lastLength)")  // all digits: declined
                var hex = bytes
                hex[count - lastLength] = 0x30
                if lastLength >= 2 {
                    hex[count - lastLength + 1] = 0x78
                    Self.check(hex, "0x \(count) last \(lastLength)")
                    hex[count - lastLength + 1] = 0x58
                    Self.check(hex, "0X \(count) last \(lastLength)")
                }
                bytes[count - 1] = UInt8(ascii: "k")  // now not all digits
                Self.check(bytes, "digits+letter \(count) last \(lastLength)")
                bytes[count - lastLength] = UInt8(ascii: "-")
                Self.check(bytes, "hyphen-led \(count) last \(lastLength)")
            }
            var zeros = Self.name(count, dots: [count - 2 > 2 ? count - 3 : 1])
            zeros[0] = 0x30
            if count > 3 { zeros[1] = 0x30 }
            Self.check(zeros, "00 \(count)")
            zeros[1] = 0x31
            Self.check(zeros, "01 \(count)")
        }
    }
}
