import Foundation
import Testing
@testable import IndicatorKit

/// RFC 3492 Punycode against the published vectors (punycode.js, via rust-url) and malformed input.
@Suite("IDNA Punycode")
struct IDNAPunycodeTests {
    struct Vector: Decodable {
        var description: String?
        var decoded: String
        var encoded: String?
    }

    static func vectors(_ name: String) throws -> [Vector] {
        try JSONDecoder().decode([Vector].self, from: IDNATestSupport.fixture(name))
    }

    static func decode(_ text: String) -> Result<[UInt32], Punycode.Failure> {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { buffer in
            do throws(Punycode.Failure) { return .success(try Punycode.decode(buffer)) } catch {
                return .failure(error)
            }
        }
    }

    static func encode(_ scalars: [UInt32]) -> Result<String, Punycode.Failure> {
        var output: [UInt8] = []
        do throws(Punycode.Failure) {
            try Punycode.encode(scalars, into: &output)
            return .success(String(decoding: output, as: UTF8.self))
        } catch {
            return .failure(error)
        }
    }

    @Test("rust-url / punycode.js vectors encode and decode")
    func publishedVectors() throws {
        let vectors = try Self.vectors("rust-url_punycode_tests.json")
        #expect(vectors.count == 25)
        for vector in vectors {
            let encoded = try #require(vector.encoded)
            let scalars = vector.decoded.unicodeScalars.map(\.value)
            #expect(Self.encode(scalars) == .success(encoded), "\(vector.description ?? vector.decoded)")
            #expect(Self.decode(encoded) == .success(scalars), "\(vector.description ?? encoded)")
        }
    }

    @Test("the rust-url overflow vector fails to encode instead of trapping")
    func overflowVector() throws {
        let vectors = try Self.vectors("rust-url_bad_punycode_tests.json")
        #expect(vectors.count == 1)
        for vector in vectors {
            #expect(Self.encode(vector.decoded.unicodeScalars.map(\.value)) == .failure(.overflow))
        }
    }

    @Test("malformed Punycode is refused with the reason")
    func malformed() {
        #expect(Self.decode("zz") == .failure(.truncated))
        #expect(Self.decode("b") == .failure(.truncated))
        #expect(Self.decode("a") == .success([0x80]))  // digit 0 below the threshold: U+0080
        #expect(Self.decode("ab_c") == .failure(.invalidDigit(at: 2)))
        #expect(Self.decode("-abc") == .failure(.invalidDigit(at: 0)))
        #expect(Self.decode("ü-a") == .failure(.nonBasic(at: 0)))
        // Huge variable-length integers overflow 32 bits.
        #expect(Self.decode("99999999999") == .failure(.overflow))
        // A delta that lands on a surrogate (U+D800) or past U+10FFFF is not a character.
        let surrogate = try? Self.encodeUnchecked(0xD800)
        if let surrogate { #expect(Self.decode(surrogate) == .failure(.invalidCodePoint(0xD800))) }
        let tooHigh = try? Self.encodeUnchecked(0x110000)
        if let tooHigh { #expect(Self.decode(tooHigh) == .failure(.invalidCodePoint(0x110000))) }
        #expect(surrogate != nil && tooHigh != nil)
    }

    /// The encoder does not check its input, which lets the test build inputs no valid label has.
    static func encodeUnchecked(_ cp: UInt32) throws -> String {
        try Self.encode([cp]).get()
    }

    @Test("random labels survive encode then decode")
    func roundTrip() {
        var generator = IDNATestSupport.Generator(seed: 3492)
        let pools: [ClosedRange<UInt32>] = [0x61...0x7A, 0x30...0x39, 0xE0...0x17F, 0x3B1...0x3C9, 0x5D0...0x5EA,
                                            0x4E00...0x9FFF, 0xAC00...0xD7A3, 0x1F600...0x1F64F, 0x20000...0x2A6DF]
        for _ in 0..<2000 {
            let length = Int(generator.next() % 30) + 1
            let scalars: [UInt32] = (0..<length).map { _ in
                let pool = pools[Int(generator.next() % UInt64(pools.count))]
                return pool.lowerBound + UInt32(generator.next() % UInt64(pool.count))
            }
            guard case .success(let encoded) = Self.encode(scalars) else {
                Issue.record("could not encode \(scalars)")
                continue
            }
            #expect(encoded.utf8.allSatisfy { $0 < 0x80 })
            #expect(Self.decode(encoded) == .success(scalars))
        }
    }
}
