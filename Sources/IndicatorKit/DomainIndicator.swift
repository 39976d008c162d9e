// PLACEHOLDER — replaced by the IDNA work in this session.
enum DomainIndicator {
    static func canonicalize(_ input: UnsafeBufferPointer<UInt8>, into out: inout ByteWriter) throws(IndicatorError) -> CanonicalForm {
        throw .invalid(.domain, reason: "placeholder")
    }
}
