/// The Bidi Rule of RFC 5893 §2 (UTS #46 CheckBidi): in a name that contains right-to-left
/// text, every label must read unambiguously in one direction, so that the displayed name cannot
/// be reordered into a different one.
extension IDNA {
    /// RFC 5893 §1.4: a Bidi domain name has a label with a code point of Bidi class R, AL or AN.
    static func isBidiDomainName(_ labels: [[UInt32]]) -> Bool {
        for label in labels {
            for cp in label {
                switch bidiClass(of: cp) {
                case .R, .AL, .AN: return true
                default: continue
                }
            }
        }
        return false
    }

    /// Checks the six conditions of RFC 5893 §2 on `label` (label number `number`, 1-based).
    static func checkBidiRule(_ label: [UInt32], number: Int) throws(IndicatorError) {
        guard let first = label.first else { return }
        func failure(_ rule: Int, _ why: String) -> IndicatorError {
            domainError("label \(number) (\(quote(label))) breaks the Bidi rule (RFC 5893 rule \(rule)) "
                + "of a name with right-to-left text: \(why)")
        }
        func describe(_ cp: UInt32, _ bidi: BidiClass) -> String { "U+\(hex(cp)) (Bidi class \(bidi))" }

        let firstClass = bidiClass(of: first)
        let rightToLeft: Bool
        switch firstClass {
        case .R, .AL: rightToLeft = true
        case .L: rightToLeft = false
        default: throw failure(1, "it must start with a letter, not \(describe(first, firstClass))")
        }
        // Rules 3 and 6 look at the last code point that is not a non-spacing mark.
        var last: (cp: UInt32, bidi: BidiClass)? = nil
        var hasEN = false
        var hasAN = false
        for cp in label {
            let bidi = bidiClass(of: cp)
            if bidi != .NSM { last = (cp, bidi) }
            if rightToLeft {
                switch bidi {
                case .R, .AL, .ES, .CS, .ET, .ON, .BN, .NSM: break
                case .EN: hasEN = true
                case .AN: hasAN = true
                default: throw failure(2, "a right-to-left label may not contain \(describe(cp, bidi))")
                }
            } else {
                switch bidi {
                case .L, .EN, .ES, .CS, .ET, .ON, .BN, .NSM: break
                default: throw failure(5, "a left-to-right label may not contain \(describe(cp, bidi))")
                }
            }
        }
        let end = last ?? (first, firstClass)
        if rightToLeft {
            switch end.bidi {
            case .R, .AL, .EN, .AN: break
            default:
                throw failure(3, "a right-to-left label must end with a right-to-left letter or a digit, "
                    + "not \(describe(end.cp, end.bidi))")
            }
            if hasEN && hasAN {
                throw failure(4, "a right-to-left label may not mix European (EN) and Arabic-Indic (AN) digits")
            }
        } else {
            switch end.bidi {
            case .L, .EN: break
            default:
                throw failure(6, "a left-to-right label must end with a letter or a digit, "
                    + "not \(describe(end.cp, end.bidi))")
            }
        }
    }
}
