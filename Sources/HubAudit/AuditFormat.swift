/// Constants of the audit log format (docs/AUDIT-LOG.md); change both together.
package enum AuditFormat {
    /// Segment files are `NNNNNN.log` in `DATA_DIR/audit/`.
    package static let segmentSuffix = ".log"
    package static let segmentDigits = 6
    /// A writer starts a new segment past this size.
    package static let segmentLimit = 64 << 20
    /// Hex digits of `prev` / `hash` (BLAKE2b-256).
    package static let hashHexDigits = 64
    /// `prev` of the first record.
    package static let genesis = String(repeating: "0", count: 64)
    /// What follows a record's body, minus its final `}`: `,"hash":"` + 64 hex + `"}`.
    package static let hashPrefix = Array(#","hash":""#.utf8)
    /// Bytes a line has after its body's last byte before `}` is replaced: `,"hash":"` (9) + 64 + `"}` (2).
    package static var hashSuffixLength: Int { hashPrefix.count + hashHexDigits + 2 }

    /// `000042.log` for segment 42.
    package static func segmentName(_ number: Int) -> String {
        let digits = String(number)
        return String(repeating: "0", count: max(0, segmentDigits - digits.count)) + digits + segmentSuffix
    }

    /// The segment number of a file name, or nil when it is not a segment.
    package static func segmentNumber(_ name: String) -> Int? {
        guard name.hasSuffix(segmentSuffix) else { return nil }
        let stem = name.dropLast(segmentSuffix.count)
        guard stem.count == segmentDigits, stem.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(stem)
    }
}
