import Foundation
@testable import IndicatorKit

/// Helpers shared by the ip / iban / phone / wallet / hash / handle / detector tests.
enum TypeTestSupport {
    /// The display text of `value`'s canonical form, or the refusal.
    static func canonical(_ value: String, as type: IndicatorType?) -> Result<String, IndicatorError> {
        do {
            let (form, bytes) = try Canonicalizer.canonical(value, as: type)
            return .success(Canonicalizer.display(form, bytes: bytes))
        } catch {
            return .failure(error)
        }
    }

    /// The canonical text, or nil when refused.
    static func accepted(_ value: String, as type: IndicatorType?) -> String? {
        try? canonical(value, as: type).get()
    }

    /// The refusal reason (`IndicatorError.invalid`'s reason, or the description of another
    /// error), or nil when the value was accepted.
    static func reason(_ value: String, as type: IndicatorType?) -> String? {
        switch canonical(value, as: type) {
        case .success: nil
        case .failure(.invalid(_, let reason)): reason
        case .failure(let other): other.description
        }
    }

    /// The type the refusal was reported under, or nil when accepted / not `.invalid`.
    static func refusedAs(_ value: String, as type: IndicatorType?) -> IndicatorType? {
        if case .failure(.invalid(let t, _)) = canonical(value, as: type) { return t }
        return nil
    }

    /// Raw bytes through `Canonicalizer.canonicalize` (for inputs that are not valid UTF-8).
    static func canonicalize(bytes: [UInt8], as type: IndicatorType?) -> Result<CanonicalForm, IndicatorError> {
        var copy = bytes
        return Canonicalizer.withScratchResult { out in
            copy.withUnsafeMutableBufferPointer { raw in
                Result { () throws(IndicatorError) in
                    try Canonicalizer.canonicalize(UnsafeBufferPointer(raw), as: type, into: &out)
                }
            }
        }
    }

    static func fixture(_ name: String) throws -> Data {
        let url = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/\(name)")
        return try Data(contentsOf: url)
    }

    /// Non-comment lines of a TSV fixture, split at tabs.
    static func tsvRows(_ name: String) throws -> [[String]] {
        let text = String(decoding: try fixture(name), as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: true)
            .filter { !$0.hasPrefix("#") }
            .map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }
}

extension Canonicalizer {
    /// `withScratch` for a body that returns a `Result` instead of throwing.
    static func withScratchResult<R>(_ body: (inout ByteWriter) -> R) -> R {
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: scratchBytes)
        defer { buffer.deallocate() }
        var writer = ByteWriter(buffer)
        return body(&writer)
    }
}

extension TypeTestSupport {
    /// Raw bytes through `Canonicalizer.canonicalize`: the form and canonical bytes, or the refusal.
    static func canonicalBytes(_ bytes: [UInt8], as type: IndicatorType?)
        -> Result<(form: CanonicalForm, bytes: [UInt8]), IndicatorError>
    {
        var copy = bytes
        return Canonicalizer.withScratchResult { out in
            copy.withUnsafeMutableBufferPointer { raw in
                Result { () throws(IndicatorError) in
                    let form = try Canonicalizer.canonicalize(UnsafeBufferPointer(raw), as: type, into: &out)
                    return (form, Array(out.written))
                }
            }
        }
    }
}
