// PLACEHOLDER — replaced by the IDNA work in this session.
enum DomainIndicator {
    /// Canonicalises a domain indicator (`*.` prefix = covers subdomains).
    static func canonicalize(_ input: UnsafeBufferPointer<UInt8>, into out: inout ByteWriter) throws(IndicatorError) -> CanonicalForm {
        throw .invalid(.domain, reason: "placeholder")
    }
    /// UTS #46 ToASCII (non-transitional) of a host name, appended to `out`: lower-case A-labels,
    /// one trailing dot stripped. Used by URL and email canonicalisation too.
    static func toASCII(_ input: UnsafeBufferPointer<UInt8>, into out: inout ByteWriter) throws(IndicatorError) {
        for byte in input {
            let lowered = (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
            do { try out.append(lowered) } catch { throw .tooLong(limit: Canonicalizer.maxInputBytes) }
        }
    }
}
