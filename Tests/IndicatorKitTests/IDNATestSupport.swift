import Foundation
@testable import IndicatorKit

/// Helpers shared by the IDNA and domain suites.
enum IDNATestSupport {
    /// The bytes of a fixture file.
    static func fixture(_ name: String) throws -> Data {
        let url = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/\(name)")
        return try Data(contentsOf: url)
    }

    /// `DomainIndicator.toASCII` on raw bytes: the output text, or the error.
    static func toASCII(bytes: [UInt8]) -> Result<String, IndicatorError> {
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: Canonicalizer.scratchBytes)
        defer { buffer.deallocate() }
        var writer = ByteWriter(buffer)
        var input = bytes
        return input.withUnsafeMutableBufferPointer { raw in
            do throws(IndicatorError) {
                try DomainIndicator.toASCII(UnsafeBufferPointer(raw), into: &writer)
                return .success(String(decoding: writer.written, as: UTF8.self))
            } catch {
                return .failure(error)
            }
        }
    }

    static func toASCII(_ text: String) -> Result<String, IndicatorError> {
        toASCII(bytes: Array(text.utf8))
    }

    /// `DomainIndicator.canonicalize` on a string: form and canonical text, or the error.
    static func canonical(_ text: String) -> Result<(CanonicalForm, String), IndicatorError> {
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: Canonicalizer.scratchBytes)
        defer { buffer.deallocate() }
        var writer = ByteWriter(buffer)
        var input = Array(text.utf8)
        return input.withUnsafeMutableBufferPointer { raw in
            do throws(IndicatorError) {
                let form = try DomainIndicator.canonicalize(UnsafeBufferPointer(raw), into: &writer)
                return .success((form, String(decoding: writer.written, as: UTF8.self)))
            } catch {
                return .failure(error)
            }
        }
    }

    /// The reason of a failed result, or nil.
    static func reason<T>(_ result: Result<T, IndicatorError>) -> String? {
        guard case .failure(.invalid(.domain, let reason)) = result else { return nil }
        return reason
    }

    /// The deterministic generator random tests use (IndicatorKit's SplitMix64).
    typealias Generator = SplitMix64
}
