import HubJSON
import IndicatorKit
/// Small text helpers for policy messages: quoting, UTF-8 validation and "did you mean".
package enum PolicyText {
    /// `"text"`, escaped and cut short for messages (HubJSON's quoting, shared with the feeds).
    package static func quoted(_ text: String) -> String { JSONText.quoted(text) }

    /// The offset of the first byte that breaks well-formed UTF-8 (Unicode Table 3-7), or nil.
    package static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
        UTF8Check.firstInvalid(bytes)
    }

    /// The candidate closest to `word` if it is a likely typo (edit distance at most 2).
    package static func suggestion(for word: String, among candidates: [String]) -> String? {
        let target = Array(word.lowercased().unicodeScalars)
        guard target.count <= 64 else { return nil }
        var best: (name: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(target, Array(candidate.unicodeScalars))
            if distance <= 2, distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
        }
        return best?.name
    }

    private static func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: b.count)
            for (j, y) in b.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
