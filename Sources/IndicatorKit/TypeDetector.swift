// PLACEHOLDER — replaced in this session.
enum TypeDetector {
    static func detect(_ input: UnsafeBufferPointer<UInt8>) -> IndicatorType? { nil }
}
