// PLACEHOLDER — replaced by the URL/email work in this session.
enum EmailIndicator {
    static func canonicalize(_ input: UnsafeBufferPointer<UInt8>, into out: inout ByteWriter) throws(IndicatorError) -> CanonicalForm {
        throw .invalid(.email, reason: "placeholder")
    }
}
