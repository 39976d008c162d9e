// PLACEHOLDER — replaced in this session.
enum HandleIndicator {
    static func canonicalize(_ input: UnsafeBufferPointer<UInt8>, into out: inout ByteWriter) throws(IndicatorError) -> CanonicalForm {
        throw .invalid(.handle, reason: "placeholder")
    }
}
