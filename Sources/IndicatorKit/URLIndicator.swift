// PLACEHOLDER — replaced by the URL work in this session.
enum URLIndicator {
    static func canonicalize(_ input: UnsafeBufferPointer<UInt8>, into out: inout ByteWriter) throws(IndicatorError) -> CanonicalForm {
        throw .invalid(.url, reason: "placeholder")
    }
    static func expressionBody(_ canonical: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> { canonical }
}
