import Foundation
@testable import IndicatorKit

/// Helpers shared by the URL and e-mail tests.
enum URLTestSupport {
    /// The bytes of a fixture file in `Fixtures/`.
    static func fixture(_ name: String) throws -> Data {
        let url = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/\(name)")
        return try Data(contentsOf: url)
    }

    /// The raw lines of a fixture (split on LF only; bytes, not necessarily UTF-8).
    static func rawLines(_ name: String) throws -> [[UInt8]] {
        try fixture(name).split(separator: 0x0A, omittingEmptySubsequences: false).map { Array($0) }
    }

    /// Canonicalises `bytes` as `type` through the public entry point, returning the
    /// canonical text or the error.
    static func canonical(_ bytes: [UInt8], as type: IndicatorType) -> Result<String, IndicatorError> {
        do throws(IndicatorError) {
            let text = try Canonicalizer.withScratch { (out: inout ByteWriter) throws(IndicatorError) in
                _ = try bytes.withUnsafeBufferPointer { (input) throws(IndicatorError) in
                    try Canonicalizer.canonicalize(input, as: type, into: &out)
                }
                return String(decoding: out.written, as: UTF8.self)
            }
            return .success(text)
        } catch {
            return .failure(error)
        }
    }

    static func url(_ text: String) -> Result<String, IndicatorError> {
        canonical(Array(text.utf8), as: .url)
    }

    static func email(_ text: String) -> Result<String, IndicatorError> {
        canonical(Array(text.utf8), as: .email)
    }

    /// The canonical URL, or nil when refused (for `#expect(... == "...")`).
    static func urlOrNil(_ text: String) -> String? { try? url(text).get() }

    static func emailOrNil(_ text: String) -> String? { try? email(text).get() }

    /// The refusal reason for a URL, or nil when accepted.
    static func urlReason(_ text: String) -> String? {
        if case .failure(.invalid(.url, let reason)) = url(text) { return reason }
        return nil
    }

    static func emailReason(_ text: String) -> String? {
        if case .failure(.invalid(.email, let reason)) = email(text) { return reason }
        return nil
    }

    /// The lookup expressions of a URL (canonicalised first), in the order they are produced.
    static func expressions(_ text: String) throws -> [String] {
        let canonical = Array(try url(text).get().utf8)
        var result: [String] = []
        canonical.withUnsafeBufferPointer { buffer in
            URLIndicator.forEachLookupExpression(buffer) { result.append(String(decoding: $0, as: UTF8.self)) }
        }
        return result
    }

    /// Whether `DomainIndicator.toASCII` does UTS #46 yet (in the `url` branch it is a
    /// placeholder that only lower-cases; the IDNA work lands in parallel). IDN cases are
    /// checked only when it does.
    static let idnaAvailable: Bool = {
        var input = Array("ü".utf8)
        let output = try? Canonicalizer.withScratch { (out: inout ByteWriter) throws(IndicatorError) in
            try input.withUnsafeMutableBufferPointer { (raw) throws(IndicatorError) in
                try DomainIndicator.toASCII(UnsafeBufferPointer(raw), into: &out)
            }
            return String(decoding: out.written, as: UTF8.self)
        }
        return output == "xn--tda"
    }()
}
