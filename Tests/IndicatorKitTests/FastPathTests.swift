import Testing
@testable import IndicatorKit

/// The lookup fast path (`Canonicalizer.canonicalizeFast`) may only accept what the general
/// path accepts, with the same type, form and bytes; everything else it must hand on (nil).
@Suite("Canonicalizer fast path")
struct FastPathTests {
    /// The fast path's answer for `text` as `type`: type, form and canonical bytes, or nil.
    static func fast(_ text: String, as type: IndicatorType?) -> (CanonicalForm, [UInt8])? {
        fast(Array(text.utf8), as: type)
    }

    /// The fast path's answer for `bytes` as `type`: type, form and canonical bytes, or nil.
    static func fast(_ bytes: [UInt8], as type: IndicatorType?) -> (CanonicalForm, [UInt8])? {
        let out = UnsafeMutablePointer<UInt8>.allocate(capacity: Canonicalizer.scratchBytes)
        defer { out.deallocate() }
        let result = bytes.withUnsafeBufferPointer { Canonicalizer.canonicalizeFast($0, as: type, into: out) }
        guard let result else { return nil }
        return (result.form, Array(UnsafeBufferPointer(start: out, count: result.count)))
    }

    /// The general path alone (no fast path): form and bytes, or the error.
    static func general(_ bytes: [UInt8], as type: IndicatorType?) -> Result<(CanonicalForm, [UInt8]), IndicatorError> {
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: Canonicalizer.scratchBytes)
        defer { buffer.deallocate() }
        var writer = ByteWriter(buffer)
        return bytes.withUnsafeBufferPointer { input in
            do throws(IndicatorError) {
                let form = try Canonicalizer.canonicalizeGeneral(input, as: type, into: &writer)
                return .success((form, Array(writer.written)))
            } catch {
                return .failure(error)
            }
        }
    }

    /// Checks the fast path against the general one for `text`; returns whether it accepted.
    @discardableResult
    static func agree(_ text: String, as type: IndicatorType?) -> Bool {
        agree(Array(text.utf8), as: type)
    }

    /// Checks the fast path against the general one for `bytes`; returns whether it accepted.
    @discardableResult
    static func agree(_ bytes: [UInt8], as type: IndicatorType?) -> Bool {
        checkFusedDigest(bytes, as: type)
        let text = String(decoding: bytes, as: UTF8.self)
        guard let (form, canonical) = fast(bytes, as: type) else { return false }
        switch general(bytes, as: type) {
        case .success(let (expectedForm, expectedBytes)):
            #expect(form == expectedForm, "'\(text)' \(bytes) as \(String(describing: type))")
            #expect(canonical == expectedBytes, "'\(text)' \(bytes) as \(String(describing: type))")
        case .failure(let error):
            Issue.record("fast path accepted '\(text)' \(bytes) as \(String(describing: type)); general path: \(error)")
        }
        return true
    }

    static let key = DigestKey(bytes: (0..<16).map { UInt8($0 &* 13 &+ 5) })!

    /// `DigestKey.canonicalDigestFast` (fast path + digest in one pass) agrees with the fast
    /// path alone and with the digest of its canonical bytes (libsodium's SipHash).
    static func checkFusedDigest(_ text: String, as type: IndicatorType?) {
        checkFusedDigest(Array(text.utf8), as: type)
    }

    static func checkFusedDigest(_ bytes: [UInt8], as type: IndicatorType?) {
        let text = String(decoding: bytes, as: UTF8.self)
        let out = UnsafeMutablePointer<UInt8>.allocate(capacity: Canonicalizer.scratchBytes)
        defer { out.deallocate() }
        let fused = bytes.withUnsafeBufferPointer { key.canonicalDigestFast($0, as: type, into: out) }
        let alone = fast(bytes, as: type)
        #expect((fused == nil) == (alone == nil), "'\(text)'")
        guard let fused, let (form, canonical) = alone else { return }
        #expect(fused.result.form == form)
        #expect(Array(UnsafeBufferPointer(start: out, count: fused.result.count)) == canonical)
        let expected = canonical.withUnsafeBufferPointer { key.digest(form, canonical: $0) }
        #expect(fused.digest == expected, "'\(text)' as \(String(describing: type))")
    }

    @Test("fused digest for names of every length 3…253")
    func fusedDigestEveryLength() {
        for length in 3...253 {
            var name = Array(repeating: UInt8(ascii: "K"), count: length)
            name[length - 2] = UInt8(ascii: ".")
            if length > 60 { for k in stride(from: 40, to: length - 3, by: 40) { name[k] = UInt8(ascii: ".") } }
            let text = String(decoding: name, as: UTF8.self)
            #expect(Self.fast(text, as: .domain) != nil, "length \(length): \(text)")
            Self.checkFusedDigest(text, as: .domain)
            Self.checkFusedDigest(text, as: nil)
        }
    }

    @Test("common shapes take the fast path, typed and untyped")
    func commonShapesAccepted() {
        for type: IndicatorType? in [nil, .ipv4] {
            #expect(Self.agree("91.209.233.149", as: type))
            #expect(Self.agree("0.0.0.0", as: type))
            #expect(Self.agree("255.255.255.255", as: type))
            #expect(Self.agree(" 10.0.0.1\n", as: type))
        }
        for type: IndicatorType? in [nil, .domain] {
            #expect(Self.agree("a7f3kq.example-shop.com", as: type))
            #expect(Self.agree("WWW.Example.CO.UK", as: type))
            #expect(Self.agree("1.2.3.com", as: type))
            #expect(Self.agree("a-b.c", as: type))
            #expect(Self.agree("0.0.0.0.x", as: type))
        }
        #expect(Self.fast("Example.COM", as: .domain)?.1 == Array("example.com".utf8))
        #expect(Self.fast("10.1.2.3", as: nil)?.1 == [10, 1, 2, 3])
    }

    @Test("what the fast path hands to the general path")
    func declined() {
        let cases: [(String, IndicatorType?)] = [
            ("01.2.3.4", .ipv4), ("1.2.3.256", .ipv4), ("1.2.3", .ipv4), ("1.2.3.4.5", nil), ("1.2.3.4/24", .ipv4),
            ("1.2.3.4", .domain), ("1.2.3.4.", nil), ("example.com.", .domain), ("*.example.com", .domain),
            ("xn--nxasmq6b.com", .domain), ("ab--c.com", .domain), ("-a.com", .domain), ("a-.com", .domain),
            ("a.b-", .domain), ("a..b", .domain), (".a.b", .domain), ("a_b.com", .domain), ("localhost", .domain),
            ("a.123", .domain), (String(repeating: "a", count: 64) + ".com", .domain), ("ü.com", .domain),
            ("00.1-2", nil), ("1.0x1f", nil), ("1.2.3.4", .url), ("example.com", .url), ("ab", nil),
            ("example.com", .email),
        ]
        for (text, type) in cases {
            #expect(Self.fast(text, as: type) == nil, "'\(text)' as \(String(describing: type))")
        }
        // The two detector shapes are still domains when typed.
        #expect(Self.agree("00.1-2", as: .domain))
        #expect(Self.agree("1.0x1f", as: .domain))
        // Long inputs, whitespace included, go to the general path with its own length checks.
        let padded = String(repeating: " ", count: Canonicalizer.maxInputBytes) + "a.com"
        #expect(Self.fast(padded, as: .domain) == nil)
    }

    @Test("random inputs: whenever the fast path accepts, the general path agrees")
    func randomAgreement() {
        var generator = IDNATestSupport.Generator(seed: 2024)
        let pieces = ["a", "Z", "x", "X", "0", "00", "1", "9", "25", "255", "256", "0x", "-", "--", ".", "..", "_",
                      " ", "*.", "/", ":", "@", "+", "xn--", "com", "1f", "ü"]
        let types: [IndicatorType?] = [nil, .ipv4, .domain, .ipv6, .url]
        var accepted = 0
        for round in 0..<20_000 {
            let count = round % 50 == 0 ? Int(generator.next() % 90) + 30 : Int(generator.next() % 9) + 1
            var text = ""
            for _ in 0..<count { text += pieces[Int(generator.next() % UInt64(pieces.count))] }
            for type in types where Self.agree(text, as: type) { accepted += 1 }
        }
        // Random dotted quads, so the IPv4 branch is exercised as much as the domain one.
        for _ in 0..<5000 {
            let octets = (0..<4).map { _ in
                let r = generator.next()
                return r % 7 == 0 ? "0\(r % 10)" : String(r % 300)
            }
            let text = octets.joined(separator: ".")
            for type in types where Self.agree(text, as: type) { accepted += 1 }
        }
        #expect(accepted > 2000, "the fast path should accept a fair share (\(accepted))")
    }
}
