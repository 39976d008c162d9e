/// File hashes: md5, sha1, sha256, sha512 as hex.
///
/// Accepted: exactly 32 / 40 / 64 / 128 hex digits, any letter case. No `0x` prefix, no
/// separators, no base64: feeds (STIX, MISP, CSV) carry plain hex.
///
/// Canonical form: lower-case hex.
enum HashIndicator {
    /// The number of hex digits of a hash type, or nil for a type that is not a hash.
    static func hexDigits(of type: IndicatorType) -> Int? {
        switch type {
        case .md5: 32
        case .sha1: 40
        case .sha256: 64
        case .sha512: 128
        default: nil
        }
    }

    static func canonicalize(
        _ input: UnsafeBufferPointer<UInt8>, as type: IndicatorType, into out: inout ByteWriter
    ) throws(IndicatorError) -> CanonicalForm {
        guard let expected = hexDigits(of: type) else {
            throw .invalid(type, reason: "\(type.name) is not a hash type")
        }
        for i in 0..<input.count {
            let c = input[i]
            guard ByteText.hexValue(c) != nil else {
                throw .invalid(type, reason: "\(ByteText.character(input, at: i)) at position \(i + 1): "
                    + "only hex digits 0–9, a–f are allowed")
            }
            try ByteText.write(ByteText.lower(c), to: &out)
        }
        guard input.count == expected else {
            var reason = "\(type.name) must be \(expected) hex digits, got \(input.count)"
            if let other = [IndicatorType.md5, .sha1, .sha256, .sha512].first(where: {
                hexDigits(of: $0) == input.count
            }) {
                reason += " (the length of a \(other.name))"
            }
            throw .invalid(type, reason: reason)
        }
        return CanonicalForm(type: type)
    }
}
