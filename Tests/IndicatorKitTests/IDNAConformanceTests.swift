import Foundation
import Testing
@testable import IndicatorKit

/// Unicode's UTS #46 conformance file (IdnaTestV2.txt, Unicode 17.0.0) run through
/// `DomainIndicator.toASCII`, compared with the toAsciiN / toAsciiNStatus columns.
///
/// How expectations are derived (see the file's header):
/// - blank columns inherit (toUnicode ← source, toAsciiN ← toUnicode, toAsciiNStatus ←
///   toUnicodeStatus); `""` is the empty string; `\uXXXX` and `\x{XXXX}` are escapes.
/// - The file uses the same flags as the hub (all checks on), so every status code counts,
///   except the DNS length codes A4_1 / A4_2: the file treats a trailing dot as an empty root
///   label (A4_2) and counts it in the name length, while the hub strips one trailing dot first.
///   For lines whose only codes are A4_1 / A4_2 the test re-derives the outcome by applying the
///   hub's rule to the expected toAsciiN string ("reinterpreted" lines, counted).
/// - Lines with unpaired surrogates (ill-formed, no UTF-8 form) are skipped and counted.
/// - Lines whose outcome differs and that involve a code point whose IDNA status changed
///   between Unicode 17 (the file) and 18 (our tables) are skipped and counted; the changed
///   code points are in `unicode18Changes`.
@Suite("IDNA conformance (IdnaTestV2)")
struct IDNAConformanceTests {
    /// One test line, with its inherited columns resolved.
    struct Line {
        var number: Int
        var source: String
        var toAsciiN: String
        var status: Set<String>
        /// Source and toUnicode code points, for the version check.
        var scalars: [UInt32]
    }

    /// Code points whose UTS #46 status changed from Unicode 17.0 to 18.0, so the file's
    /// expectation for them is out of date: U+3D000..U+3FC3F (plane 3 ideographs) were unassigned,
    /// hence disallowed (V7), in 17.0 and are valid in the 18.0 mapping table. A line whose
    /// outcome differs is skipped (not failed) when its source or toUnicode form has one of
    /// them. The test fails if more than `maxVersionSkips` lines are skipped this way.
    static let unicode18Changes: [ClosedRange<UInt32>] = [0x3D000...0x3FC3F]
    static let maxVersionSkips = 10

    /// When every expected code is of one kind, the words our reason must contain: the test then
    /// checks that the line is refused for the right reason, not just refused.
    static func family(of codes: Set<String>) -> (name: String, words: [String])? {
        let families: [(prefix: String, name: String, words: [String])] = [
            ("B", "Bidi", ["Bidi rule"]),
            ("C", "CONTEXTJ", ["JOINER"]),
            ("V6", "combining mark", ["combining mark"]),
            ("V3", "hyphen", ["hyphen"]),
            ("V2", "hyphen", ["hyphens in the third and fourth"]),
            ("U1", "STD3", ["is not allowed in label"]),
            ("V7", "disallowed", ["disallowed character", "Punycode", "not allowed in label"]),
            ("P4", "A-label", ["Punycode", "A-label", "xn--"]),
        ]
        for family in families where !codes.isEmpty && codes.allSatisfy({ $0.hasPrefix(family.prefix) }) {
            return (family.name, family.words)
        }
        return nil
    }

    static func unescape(_ text: String) -> [UInt32] {
        let scalars = Array(text.unicodeScalars)
        var result: [UInt32] = []
        var index = 0
        func hexValue(_ slice: ArraySlice<Unicode.Scalar>) -> UInt32? {
            UInt32(String(String.UnicodeScalarView(slice)), radix: 16)
        }
        while index < scalars.count {
            if scalars[index] == "\\", index + 1 < scalars.count {
                if scalars[index + 1] == "u", index + 6 <= scalars.count,
                    let value = hexValue(scalars[(index + 2)..<(index + 6)])
                {
                    result.append(value)
                    index += 6
                    continue
                }
                if scalars[index + 1] == "x", index + 2 < scalars.count, scalars[index + 2] == "{",
                    let close = scalars[(index + 3)...].firstIndex(of: "}"),
                    let value = hexValue(scalars[(index + 3)..<close])
                {
                    result.append(value)
                    index = close + 1
                    continue
                }
            }
            result.append(scalars[index].value)
            index += 1
        }
        return result
    }

    static func column(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
        if trimmed.isEmpty { return nil }
        return trimmed == "\"\"" ? "" : trimmed
    }

    static func statusSet(_ text: String?) -> Set<String>? {
        guard let text else { return nil }
        let inner = text.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return Set(inner.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty })
    }

    /// The lines of the file; `nil` source scalars mean "not representable" (surrogates).
    static func load() throws -> [(line: Line?, number: Int, raw: String)] {
        let text = String(decoding: try IDNATestSupport.fixture("IdnaTestV2.txt"), as: UTF8.self)
        var lines: [(Line?, Int, String)] = []
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
            let columns = content.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
            guard columns.count >= 6 else { continue }
            let number = offset + 1
            let sourceScalars = unescape(column(columns[0]) ?? "")
            let toUnicode = column(columns[1]).map(unescape) ?? sourceScalars
            let unicodeStatus = statusSet(column(columns[2])) ?? []
            let asciiScalars = column(columns[3]).map(unescape) ?? toUnicode
            let status = statusSet(column(columns[4])) ?? unicodeStatus
            let all = sourceScalars + toUnicode + asciiScalars
            guard all.allSatisfy({ Unicode.Scalar($0) != nil }) else {
                lines.append((nil, number, String(rawLine)))
                continue
            }
            let line = Line(number: number, source: IDNA.string(sourceScalars),
                            toAsciiN: IDNA.string(asciiScalars), status: status,
                            scalars: sourceScalars + toUnicode)
            lines.append((line, number, String(rawLine)))
        }
        return lines
    }

    /// The hub's DNS length rule applied to an expected ASCII result: one trailing dot
    /// stripped, labels 1–63 bytes, name at most 253 bytes. Returns the stripped name, or nil.
    static func hubLengthRule(_ name: String) -> String? {
        var text = name
        if text.hasSuffix(".") { text.removeLast() }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.allSatisfy({ (1...63).contains($0.utf8.count) }), text.utf8.count <= 253 else {
            return nil
        }
        return text
    }

    @Test("every line of IdnaTestV2.txt, toASCII non-transitional")
    func conformance() throws {
        let lines = try Self.load()
        var passed = 0
        var illFormed = 0
        var versionSkipped = 0
        var reinterpreted = 0
        var expectedNames = 0
        var reasonChecked = 0
        var failures: [String] = []
        let lengthCodes: Set = ["A4_1", "A4_2"]
        for (line, number, raw) in lines {
            guard let line else { illFormed += 1; continue }
            let changedInUnicode18 = line.scalars.contains { cp in
                Self.unicode18Changes.contains { $0.contains(cp) }
            }
            func fail(_ message: String) {
                if changedInUnicode18 { versionSkipped += 1 } else { failures.append(message) }
            }
            let expected: String?
            if !line.status.subtracting(lengthCodes).isEmpty {
                expected = nil
            } else {
                expected = Self.hubLengthRule(line.toAsciiN)
                if !line.status.isEmpty, expected != nil { reinterpreted += 1 }
            }
            if expected != nil { expectedNames += 1 }
            let actual = IDNATestSupport.toASCII(line.source)
            switch (expected, actual) {
            case (nil, .failure(let error)):
                let family = line.status.isDisjoint(with: lengthCodes) ? Self.family(of: line.status) : nil
                if let family, !family.words.contains(where: { "\(error)".contains($0) }) {
                    fail("line \(number): expected a \(family.name) error \(line.status.sorted()), got \(error): \(raw)")
                } else {
                    if family != nil { reasonChecked += 1 }
                    passed += 1
                }
            case (nil, .success(let output)):
                fail("line \(number): expected \(line.status.sorted()), got '\(output)': \(raw)")
            case (let want?, .success(let output)):
                if output == want {
                    passed += 1
                } else {
                    fail("line \(number): expected '\(want)', got '\(output)': \(raw)")
                }
            case (let want?, .failure(let error)):
                fail("line \(number): expected '\(want)', got error \(error): \(raw)")
            }
        }
        let total = lines.count
        print("IdnaTestV2: \(total) lines, \(passed) passed (\(expectedNames) expected a name, the rest an error, "
            + "\(reasonChecked) of them checked for the kind of reason; "
            + "\(reinterpreted) with length codes re-derived "
            + "for the stripped trailing dot), \(illFormed) skipped as ill-formed (surrogates), "
            + "\(versionSkipped) skipped for Unicode 17→18 changes, \(failures.count) failed")
        for failure in failures.prefix(30) { print(failure) }
        #expect(total > 6000, "the fixture should hold over 6,000 test lines")
        #expect(failures.isEmpty, "\(failures.count) lines differ; first: \(failures.first ?? "")")
        #expect(passed + illFormed + versionSkipped + failures.count == total)
        #expect(reasonChecked > 1000, "reason kinds checked: \(reasonChecked)")
        #expect(illFormed <= 10, "surrogate lines: \(illFormed)")
        #expect(versionSkipped <= Self.maxVersionSkips, "version skips: \(versionSkipped)")
    }
}
