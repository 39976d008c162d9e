import Testing
@testable import IndicatorKit

@Suite("IBANIndicator")
struct IBANIndicatorTests {
    typealias S = TypeTestSupport

    /// (country, length, format, example) from the fixture the registry was generated from.
    static func registryRows() throws -> [(code: String, length: Int, format: String, example: String)] {
        try S.tsvRows("iban-structure.tsv").filter { $0[0] != "country_code" }.map {
            ($0[0], Int($0[1])!, $0[2], $0[4])
        }
    }

    @Test("the generated registry matches the table it was generated from")
    func registryMatchesTable() throws {
        let rows = try Self.registryRows()
        #expect(rows.count == 116)
        #expect(IBANRegistry.countries.count == rows.count)
        for row in rows {
            let country = try #require(IBANCountry.lookup(row.code.utf8.first!, row.code.utf8.last!), "\(row.code)")
            #expect(country.code.description == row.code)
            #expect(country.length == row.length)
            #expect(row.code + "2!n" + country.format.description == row.format)
            #expect(country.example.description == row.example)
        }
        #expect(IBANCountry.lookup(0x58, 0x58) == nil)  // XX
        // The three rows the generator found self-contradictory have the format check off.
        #expect(IBANRegistry.countries.filter { !$0.checksFormat }.map(\.code.description) == ["AA", "DJ", "KM"])
    }

    @Test("every registry example IBAN is accepted, in electronic and paper form")
    func registryExamples() throws {
        for row in try Self.registryRows() {
            #expect(S.accepted(row.example, as: .iban) == row.example)
            var paper = ""
            for (k, c) in row.example.enumerated() {
                if k > 0 && k % 4 == 0 { paper += " " }
                paper.append(c)
            }
            #expect(S.accepted("IBAN " + paper.lowercased(), as: .iban) == row.example)
            #expect(S.accepted(paper, as: nil) == row.example, "auto-detected \(paper)")
        }
    }

    @Test("single-character changes of every registry example are refused")
    func substitutions() throws {
        let digits = Array("0123456789")
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        var tried = 0
        for row in try Self.registryRows() {
            let chars = Array(row.example)
            for k in chars.indices {
                // Same-class substitutions: ISO 7064 MOD 97-10 catches every one of them.
                for replacement in (chars[k].isNumber ? digits : letters) where replacement != chars[k] {
                    var changed = chars
                    changed[k] = replacement
                    #expect(S.accepted(String(changed), as: .iban) == nil, "\(String(changed))")
                    tried += 1
                }
            }
        }
        #expect(tried > 30_000)
    }

    @Test("adjacent transpositions of every registry example are refused")
    func transpositions() throws {
        var tried = 0
        for row in try Self.registryRows() {
            let chars = Array(row.example)
            // Country code, check digits, and each pair inside the BBAN (same class, different).
            let pairs = [0, 2] + Array(4..<(chars.count - 1))
            for k in pairs where chars[k] != chars[k + 1] && chars[k].isNumber == chars[k + 1].isNumber {
                var changed = chars
                changed.swapAt(k, k + 1)
                #expect(S.accepted(String(changed), as: .iban) == nil, "\(String(changed))")
                tried += 1
            }
        }
        #expect(tried > 1_000)
    }

    @Test("accepted spellings", arguments: [
        ("DE89370400440532013000", "DE89370400440532013000"),
        ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("de89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("IBAN DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("iban: DE89370400440532013000", "DE89370400440532013000"),
        ("IBAN:DE89370400440532013000", "DE89370400440532013000"),
        ("  GB29 NWBK 6016 1331 9268 19  ", "GB29NWBK60161331926819"),
        ("NO93 8601 1117 947", "NO9386011117947"),
    ])
    func accepted(input: String, canonical: String) {
        #expect(S.accepted(input, as: .iban) == canonical)
    }

    @Test("refusals carry precise reasons", arguments: [
        ("DE8937040044053201300", "IBAN for DE must be 22 characters, got 21"),
        ("DE893704004405320130000", "IBAN for DE must be 22 characters, got 23"),
        ("DE89370400440532013001", "check digits do not verify (mod 97 = 28, expected 1)"),
        ("DE98370400440532013000", "check digits do not verify (mod 97 = 10, expected 1)"),
        ("XX89370400440532013000", "unknown country code 'XX' (not in the IBAN registry)"),
        ("D189370400440532013000", "country code 'D1' must be two letters"),
        ("DE8X370400440532013000", "check digits '8X' must be two digits"),
        ("DE01370400440532013000", "check digits '01' are out of range 02–98 (ISO 7064 never produces them)"),
        ("DE99370400440532013000", "check digits '99' are out of range 02–98 (ISO 7064 never produces them)"),
        ("DE89A70400440532013000", "BBAN for DE must be 8!n10!n: position 5 ('A') must be a digit"),
        ("GB29N1BK60161331926819", "BBAN for GB must be 4!a6!n8!n: position 6 ('1') must be a letter"),
        ("DE89-3704-0044-0532-0130-00", "'-' at position 5: only letters, digits and spaces are allowed"),
        ("DE89\t3704", "control byte 0x09 at position 5: only letters, digits and spaces are allowed"),
        ("DE89 ３７04", "'３' (U+FF13) at position 6: only letters, digits and spaces are allowed"),
        ("DE89 3704 0044 0532 0130 0000 0000 0000 000", "35 characters: no IBAN is longer than 34"),
        ("DE8", "only 3 characters: an IBAN starts with a country code and two check digits"),
        ("IBAN ", "unknown country code 'IB' (not in the IBAN registry)"),
        ("IBANDE89370400440532013000", "unknown country code 'IB' (not in the IBAN registry)"),
    ])
    func refused(input: String, reason: String) {
        #expect(S.reason(input, as: .iban) == reason)
    }

    @Test("GB example with wrong check digits: mod 97 names the remainder")
    func gbCheckDigits() {
        #expect(S.reason("GB28NWBK60161331926819", as: .iban) == "check digits do not verify (mod 97 = 0, expected 1)")
    }
}
