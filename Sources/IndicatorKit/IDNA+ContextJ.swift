/// The CONTEXTJ rules of RFC 5892 Appendix A.1 and A.2 (UTS #46 CheckJoiners): a ZERO WIDTH
/// NON-JOINER or ZERO WIDTH JOINER is allowed only where it changes how a script is rendered,
/// otherwise it would make two visually identical names different.
extension IDNA {
    static let zeroWidthNonJoiner: UInt32 = 0x200C
    static let zeroWidthJoiner: UInt32 = 0x200D

    /// Checks every ZWNJ / ZWJ of `label` (label number `number`, 1-based).
    static func checkJoiners(_ label: [UInt32], number: Int) throws(IndicatorError) {
        for (index, cp) in label.enumerated() where cp == zeroWidthNonJoiner || cp == zeroWidthJoiner {
            // A.1 / A.2: allowed right after a virama.
            if index > 0, isVirama(label[index - 1]) { continue }
            if cp == zeroWidthNonJoiner, joinsOnBothSides(label, at: index) { continue }
            let name = cp == zeroWidthNonJoiner ? "ZERO WIDTH NON-JOINER" : "ZERO WIDTH JOINER"
            let rule = cp == zeroWidthNonJoiner
                ? "it must follow a virama or sit between joining letters"
                : "it must follow a virama"
            throw domainError(
                "\(name) (U+\(hex(cp))) in label \(number) (\(quote(label))) is not allowed there: "
                    + "\(rule) (RFC 5892 CONTEXTJ)")
        }
    }

    /// RFC 5892 A.1 second clause: `(Joining_Type:{L,D})(Joining_Type:T)* ZWNJ
    /// (Joining_Type:T)*(Joining_Type:{R,D})`.
    static func joinsOnBothSides(_ label: [UInt32], at index: Int) -> Bool {
        var left = index - 1
        while left >= 0, joiningType(of: label[left]) == .T { left -= 1 }
        guard left >= 0 else { return false }
        let before = joiningType(of: label[left])
        guard before == .L || before == .D else { return false }
        var right = index + 1
        while right < label.count, joiningType(of: label[right]) == .T { right += 1 }
        guard right < label.count else { return false }
        let after = joiningType(of: label[right])
        return after == .R || after == .D
    }
}
