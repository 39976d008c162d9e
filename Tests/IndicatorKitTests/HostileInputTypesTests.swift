import Foundation
import Testing
@testable import IndicatorKit

/// Hostile input through auto-detection and through each of the ip / iban / phone / wallet /
/// hash / handle canonicalisers: nothing may crash, every accepted value must be a fixed point
/// (canonicalising its canonical text gives the same bytes), and no refusal reason may carry
/// raw control or invisible characters to a terminal or log.
@Suite("HostileInputTypes")
struct HostileInputTypesTests {
    typealias S = TypeTestSupport

    static let ownTypes: [IndicatorType] = [
        .ipv4, .ipv6, .iban, .phone, .wallet, .md5, .sha1, .sha256, .sha512, .handle,
    ]

    /// The lines of a fixture as raw bytes (split at LF, CR dropped; not decoded as UTF-8).
    static func rawLines(_ name: String) throws -> [[UInt8]] {
        let data = try S.fixture(name)
        return [UInt8](data).split(separator: 0x0A, omittingEmptySubsequences: false).map {
            Array($0.last == 0x0D ? $0.dropLast() : $0[...])
        }
    }

    /// Runs `bytes` through auto-detection and every own type; returns how many were accepted.
    @discardableResult
    static func check(_ bytes: [UInt8]) -> Int {
        var accepted = 0
        for type in [nil] + ownTypes.map(Optional.some) {
            switch S.canonicalBytes(bytes, as: type) {
            case .success(let (form, canonical)):
                guard ownTypes.contains(form.type) else { continue }  // url/email/domain: other owners
                accepted += 1
                if let type, type != .ipv6 || form.type == .ipv6 {
                    #expect(form.type == type, "\(bytes) as \(type)")
                }
                let text = Canonicalizer.display(form, bytes: canonical)
                let again = S.canonicalBytes(Array(text.utf8), as: form.type)
                #expect((try? again.get().bytes) == canonical, "not a fixed point: \(bytes) → \(text)")
                #expect((try? again.get().form) == form, "form changed: \(bytes) → \(text)")
            case .failure(.invalid(let refusedAs, let reason)):
                if let type { #expect(refusedAs == type || (type == .ipv6 && refusedAs == .ipv4)) }
                #expect(!reason.isEmpty)
                let leaked = reason.unicodeScalars.first { $0 != " " && ByteText.isInvisible($0.value) }
                #expect(leaked == nil, "raw \(String(describing: leaked)) in reason for \(bytes): \(reason)")
            case .failure(.empty), .failure(.unrecognised), .failure(.tooLong):
                break
            }
        }
        return accepted
    }

    @Test("every line of blns.txt")
    func bigListOfNaughtyStrings() throws {
        let lines = try Self.rawLines("blns.txt")
        #expect(lines.count > 500)
        for line in lines { Self.check(line) }
    }

    @Test("every raw line of UTF-8-test.txt")
    func utf8StressTest() throws {
        let lines = try Self.rawLines("UTF-8-test.txt")
        #expect(lines.count > 200)
        // Note: this copy of Kuhn's file has its malformed sequences replaced by U+FFFD (it is
        // valid UTF-8), so `malformedUTF8` below generates those sequences itself.
        #expect(lines.contains { $0.starts(with: Array("3.1.1".utf8)) })
        for line in lines {
            Self.check(line)
            Self.check(Array("telegram:".utf8) + line)  // reach the handle's UTF-8 validation
        }
    }

    /// The malformed sequences of Kuhn's stress test (sections 3–5), generated: lone and
    /// runs of continuation bytes, lone start bytes, truncated sequences, impossible bytes,
    /// overlong forms, surrogates — alone, after a valid prefix of each type, and before one.
    @Test("malformed UTF-8 sequences, alone and inside otherwise valid values")
    func malformedUTF8() {
        var sequences: [[UInt8]] = [[0x80], [0xBF], [0x80, 0xBF], Array(0x80...0xBF), [0xFE], [0xFF],
                                    [0xFE, 0xFE, 0xFF, 0xFF]]
        sequences += (0xC0...0xFD).map { [UInt8($0), 0x20] }  // lone start bytes
        sequences += [[0xC0], [0xE0, 0x80], [0xF0, 0x80, 0x80], [0xDF], [0xEF, 0xBF], [0xF7, 0xBF, 0xBF]]
        sequences += [[0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xF0, 0x80, 0x80, 0xAF], [0xC1, 0xBF],
                      [0xE0, 0x9F, 0xBF], [0xF0, 0x8F, 0xBF, 0xBF], [0xC0, 0x80], [0xE0, 0x80, 0x80]]
        sequences += [[0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF], [0xED, 0xA0, 0x80, 0xED, 0xB0, 0x80],
                      [0xF4, 0x90, 0x80, 0x80], [0xEF, 0xBF, 0xBE], [0xEF, 0xBF, 0xBF]]
        let prefixes = ["", "1.2.3.", "::ffff:", "DE89 ", "+49 ", "0x", "bc1q", "1A1zP1", "telegram:", "d41d8"]
        for sequence in sequences {
            for prefix in prefixes {
                Self.check(Array(prefix.utf8) + sequence)
                Self.check(sequence + Array(prefix.utf8))
            }
            // Inside a handle every malformed sequence must be refused, never copied.
            let result = S.canonicalBytes(Array("telegram:a".utf8) + sequence, as: .handle)
            if case .success(let (_, canonical)) = result {
                #expect(String(validating: canonical, as: UTF8.self) != nil, "\(sequence) accepted")
                #expect(sequence == [0xEF, 0xBF, 0xBE] || sequence == [0xEF, 0xBF, 0xBF],
                        "\(sequence) accepted in a handle")
            }
        }
    }

    @Test("pseudo-random strings over an alphabet that hits every parser branch")
    func randomStrings() {
        let alphabet: [[UInt8]] = [
            "0", "1", "2", "5", "9", "a", "f", "x", "X", "g", "z", "A", "F", "Q", "q", "p", ".", ":", "::",
            "/", "[", "]", "%", "+", "-", "(", ")", " ", "@", "00", "bc1", "0x", "1.2.3.4", "::ffff:",
            "/32", "/128", "DE89", "IBAN ", "telegram:", "\u{FF11}", "\u{200B}", "\u{0}",
        ].map { Array($0.utf8) } + [[0xFF], [0xC0], [0xED, 0xA0, 0x80], [0xEF, 0xBC]]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        var accepted = 0
        for _ in 0..<20_000 {
            var bytes: [UInt8] = []
            for _ in 0..<(1 + next(12)) { bytes += alphabet[next(alphabet.count)] }
            accepted += Self.check(bytes)
        }
        #expect(accepted > 100)  // the alphabet does produce valid values, so round trips are tested
    }

    @Test("over-long and boundary-length input")
    func lengths() {
        for count in [1, 15, 34, 35, 90, 91, 128, 129, 4095, 4096, 4097] {
            for byte: UInt8 in [0x31, 0x61, 0x3A, 0x2E, 0xFF] {
                Self.check([UInt8](repeating: byte, count: count))
            }
        }
    }
}
