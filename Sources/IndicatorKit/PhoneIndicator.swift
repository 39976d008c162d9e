// PLACEHOLDER — replaced in this session.
enum PhoneIndicator {
    static func canonicalize(_ input: UnsafeBufferPointer<UInt8>, into out: inout ByteWriter) throws(IndicatorError) -> CanonicalForm {
        throw .invalid(.phone, reason: "placeholder")
    }
}
