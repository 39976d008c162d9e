// PLACEHOLDER — replaced in this session.
enum WalletIndicator {
    static func canonicalize(_ input: UnsafeBufferPointer<UInt8>, into out: inout ByteWriter) throws(IndicatorError) -> CanonicalForm {
        throw .invalid(.wallet, reason: "placeholder")
    }
}
