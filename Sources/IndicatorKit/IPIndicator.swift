// PLACEHOLDER — replaced by the IP/IBAN/... work in this session.
enum IPIndicator {
    static func canonicalizeV4(_ input: UnsafeBufferPointer<UInt8>, into out: inout ByteWriter) throws(IndicatorError) -> CanonicalForm {
        throw .invalid(.ipv4, reason: "placeholder")
    }
    static func canonicalizeV6(_ input: UnsafeBufferPointer<UInt8>, into out: inout ByteWriter) throws(IndicatorError) -> CanonicalForm {
        throw .invalid(.ipv6, reason: "placeholder")
    }
    static func display(_ form: CanonicalForm, bytes: [UInt8]) -> String { "" }
}
