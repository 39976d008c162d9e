import Foundation
import Testing
@testable import IndicatorKit

/// The generated tables (scripts/gen-idna-tables.py) against the TSVs they were made from,
/// code point by code point, so a generator or look-up bug cannot hide.
@Suite("IDNA tables")
struct IDNATableTests {
    /// Data rows of a fixture TSV (comments and the header row skipped).
    static func rows(_ name: String) throws -> [[Substring]] {
        let text = String(decoding: try IDNATestSupport.fixture(name), as: UTF8.self)
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.dropFirst()
            .map { $0.split(separator: "\t", omittingEmptySubsequences: false) }
    }

    @Test("every code point's UTS #46 status and mapping matches uts46-mapping-18.0.0.tsv")
    func mappingSweep() throws {
        let rows = try Self.rows("uts46-mapping-18.0.0.tsv")
        #expect(rows.count > 8000)
        var mismatches: [String] = []
        var mapped: [UInt32] = []
        for (index, row) in rows.enumerated() {
            let start = try #require(UInt32(row[0], radix: 16))
            let end = index + 1 < rows.count ? try #require(UInt32(rows[index + 1][0], radix: 16)) : 0x110000
            let expectedMapping = row[2].split(separator: " ").compactMap { UInt32($0, radix: 16) }
            for cp in start..<end {
                let status = IDNA.status(of: cp)
                mapped.removeAll(keepingCapacity: true)
                IDNA.appendMapping(of: cp, to: &mapped)
                let ok: Bool
                switch row[1] {
                case "V": ok = status == .valid && mapped == [cp]
                case "D": ok = status == .deviation && mapped == [cp]  // non-transitional keeps it
                case "X": ok = status == .disallowed && mapped == [cp]
                case "I": ok = status == .ignored && mapped.isEmpty
                case "M": ok = status == .mapped && mapped == expectedMapping
                default: ok = false
                }
                if !ok, mismatches.count < 20 {
                    mismatches.append("U+\(IDNA.hex(cp)): table \(row[1]) \(row[2]), got \(status) \(mapped)")
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
    }

    @Test("every code point's Bidi_Class matches bidi-classes-18.0.0.tsv")
    func bidiSweep() throws {
        var expected = [String](repeating: "", count: 0x110000)
        for row in try Self.rows("bidi-classes-18.0.0.tsv") {
            let first = try #require(Int(row[0], radix: 16))
            let last = try #require(Int(row[1], radix: 16))
            for cp in first...last { expected[cp] = String(row[2]) }
        }
        var mismatches: [String] = []
        for cp in 0..<0x110000 {
            let bidi = IDNA.bidiClass(of: UInt32(cp))
            let name = bidi == .unassigned ? "" : "\(bidi)"
            if name != expected[cp], mismatches.count < 20 {
                mismatches.append("U+\(IDNA.hex(UInt32(cp))): table '\(expected[cp])', got '\(name)'")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
        #expect(IDNA.bidiClass(of: 0x05D0) == .R)
        #expect(IDNA.bidiClass(of: 0x0627) == .AL)
        #expect(IDNA.bidiClass(of: 0x0660) == .AN)
    }

    @Test("marks, viramas and joining types at their edges")
    func properties() {
        // General_Category M*: the combining diacritics block and its neighbours.
        #expect(!IDNA.isMark(0x2FF))
        #expect(IDNA.isMark(0x300))
        #expect(IDNA.isMark(0x36F))
        #expect(!IDNA.isMark(0x370))
        #expect(IDNA.isMark(0x903))  // Mc
        #expect(IDNA.isMark(0x488))  // Me
        #expect(!IDNA.isMark(0x61))
        #expect(!IDNA.isMark(0x10FFFF))
        // Viramas (Canonical_Combining_Class 9).
        #expect(IDNA.isVirama(0x94D))
        #expect(IDNA.isVirama(0x9CD))
        #expect(!IDNA.isVirama(0x94C))
        #expect(!IDNA.isVirama(0))
        // Joining types.
        #expect(IDNA.joiningType(of: 0x628) == .D)  // BEH
        #expect(IDNA.joiningType(of: 0x627) == .R)  // ALEF
        #expect(IDNA.joiningType(of: 0x640) == .C)  // TATWEEL
        #expect(IDNA.joiningType(of: 0x308) == .T)
        #expect(IDNA.joiningType(of: 0x61) == .U)
        #expect(IDNA.joiningType(of: 0x10FFFF) == .U)
    }
}
