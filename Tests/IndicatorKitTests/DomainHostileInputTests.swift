import Foundation
import Testing
@testable import IndicatorKit

/// Hostile input never crashes the domain code, and whatever it accepts is a fixed point:
/// converting the output again gives the same output.
@Suite("Domain hostile input")
struct DomainHostileInputTests {
    typealias T = IDNATestSupport

    /// Checks one input: no crash, an accepted name is plain LDH ASCII, and stable.
    static func check(_ bytes: [UInt8], _ label: String) {
        switch T.toASCII(bytes: bytes) {
        case .success(let output):
            #expect(output.utf8.allSatisfy { IDNA.isLDH(UInt32($0)) || $0 == UInt8(ascii: ".") }, "\(label)")
            #expect(output.utf8.count <= 253, "\(label)")
            #expect((try? T.toASCII(output).get()) == output, "\(label)")
        case .failure(let error):
            guard case .invalid(.domain, let reason) = error else {
                Issue.record("\(label): unexpected error \(error)")
                return
            }
            #expect(!reason.isEmpty)
        }
        _ = T.canonical(String(decoding: bytes, as: UTF8.self))
    }

    @Test("every line of the Big List of Naughty Strings")
    func naughtyStrings() throws {
        let text = String(decoding: try T.fixture("blns.txt"), as: UTF8.self)
        var lines = 0
        var accepted = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) where !line.hasPrefix("#") {
            lines += 1
            Self.check(Array(line.utf8), "blns: \(line)")
            if case .success = T.toASCII(String(line)) { accepted += 1 }
        }
        #expect(lines > 500)
        #expect(accepted > 0 && accepted < lines)
    }

    /// The shared copy of Kuhn's file has had its ill-formed sequences replaced by U+FFFD, so its
    /// lines are all well-formed; they still exercise odd characters (U+FFFE, U+10FFFF, …).
    @Test("every line of UTF-8-test.txt, as raw bytes")
    func utf8StressTestLines() throws {
        let data = [UInt8](try T.fixture("UTF-8-test.txt"))
        var lines = 0
        for line in data.split(separator: 0x0A, omittingEmptySubsequences: false) {
            lines += 1
            Self.check(Array(line), "UTF-8-test line \(lines)")
        }
        #expect(lines > 200)
    }

    /// The ill-formed sequences of the stress test's sections 3–5, written out here, each inside
    /// a name: all are refused as invalid UTF-8, never decoded leniently.
    @Test("ill-formed UTF-8 (Kuhn sections 3-5) is refused", arguments: [
        [0x80], [0xBF], [0x80, 0xBF, 0x80],                          // 3.1 unexpected continuation bytes
        [0xC0, 0x20], [0xE0, 0x20], [0xF0, 0x20], [0xF8, 0x20], [0xFC, 0x20],  // 3.2 lonely start bytes
        [0xC0], [0xE0, 0x80], [0xF0, 0x80, 0x80], [0xDF], [0xEF, 0xBF], [0xF7, 0xBF, 0xBF],  // 3.3 last byte missing
        [0xFE], [0xFF], [0xFE, 0xFE, 0xFF, 0xFF],                    // 3.5 impossible bytes
        [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xF0, 0x80, 0x80, 0xAF],  // 4.1 overlong '/'
        [0xC1, 0xBF], [0xE0, 0x9F, 0xBF], [0xF0, 0x8F, 0xBF, 0xBF],  // 4.2 largest overlongs
        [0xC0, 0x80], [0xE0, 0x80, 0x80],                            // 4.3 overlong NUL
        [0xED, 0xA0, 0x80], [0xED, 0xAD, 0xBF], [0xED, 0xBF, 0xBF],  // 5.1 single surrogates
        [0xED, 0xA0, 0x80, 0xED, 0xB0, 0x80],                        // 5.2 paired surrogates
        [0xF4, 0x90, 0x80, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80],    // beyond U+10FFFF
    ] as [[UInt8]])
    func illFormedUTF8(_ sequence: [UInt8]) {
        let bytes = Array("ab".utf8) + sequence + Array("cd.com".utf8)
        let reason = T.reason(T.toASCII(bytes: bytes)) ?? "accepted"
        #expect(reason.hasPrefix("invalid UTF-8 at byte 3 "),
                "\(sequence): \(reason)")
        Self.check(bytes, "\(sequence)")
    }

    @Test("random bytes and random Unicode never crash")
    func randomInput() {
        var generator = T.Generator(seed: 1035)
        let interesting: [UInt32] = [0x2E, 0x2D, 0x61, 0x41, 0x30, 0x3002, 0xFF0E, 0x200C, 0x200D, 0x94D, 0x5D0,
                                     0x627, 0x660, 0x308, 0xDF, 0xAD, 0x2488, 0xFFFD, 0x10FFFF, 0x1F600, 0xFDFA]
        for round in 0..<3000 {
            let length = Int(generator.next() % 80)
            var bytes: [UInt8] = []
            if round % 2 == 0 {
                bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            } else {
                for _ in 0..<length {
                    let cp = generator.next() % 3 == 0
                        ? UInt32(generator.next() % 0x110000)
                        : interesting[Int(generator.next() % UInt64(interesting.count))]
                    if let scalar = Unicode.Scalar(cp) { bytes += Array(String(Character(scalar)).utf8) }
                }
            }
            Self.check(bytes, "round \(round)")
        }
        // Longest input the canonicaliser lets through, all non-ASCII.
        Self.check(Array(String(repeating: "ü", count: 2048).utf8), "2048 × ü")
        Self.check(Array(String(repeating: "\u{1F600}.", count: 800).utf8), "800 × emoji label")
    }
}
