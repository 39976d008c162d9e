// PLACEHOLDER — replaced in this session.
enum HashIndicator {
    static func canonicalize(_ input: UnsafeBufferPointer<UInt8>, as type: IndicatorType, into out: inout ByteWriter) throws(IndicatorError) -> CanonicalForm {
        throw .invalid(type, reason: "placeholder")
    }
}
