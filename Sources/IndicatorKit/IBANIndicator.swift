// PLACEHOLDER — replaced in this session.
enum IBANIndicator {
    static func canonicalize(_ input: UnsafeBufferPointer<UInt8>, into out: inout ByteWriter) throws(IndicatorError) -> CanonicalForm {
        throw .invalid(.iban, reason: "placeholder")
    }
}
