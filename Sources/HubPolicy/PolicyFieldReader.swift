/// Reads typed fields out of a parsed policy file, collecting every problem with its field path
/// (docs/POLICY.md, "Error messages") instead of stopping at the first.
struct PolicyFieldReader {
    let file: String
    private(set) var problems: [PolicyError] = []

    init(file: String) {
        self.file = file
    }

    mutating func problem(_ path: String, _ reason: String) {
        problems.append(.field(file: file, path: path, reason: reason))
    }

    /// The members of an object, first occurrence of each; refuses keys given twice and keys
    /// not in `known` (a typo must never silently loosen or tighten a policy).
    mutating func members(of value: PolicyJSON, at path: String?, known: [String]) -> [String: PolicyJSON]? {
        guard case .object(let members) = value else {
            if let path {
                problem(path, "must be an object, got \(value.shortDescription)")
            } else {
                problems.append(.file(file: file, reason: "a policy must be a JSON object, got \(value.shortDescription)"))
            }
            return nil
        }
        var result: [String: PolicyJSON] = [:]
        for member in members {
            let memberPath = path.map { "\($0).\(member.key)" } ?? member.key
            guard known.contains(member.key) else {
                var reason = "unknown field"
                if let guess = PolicyText.suggestion(for: member.key, among: known) {
                    reason += " (did you mean \"\(guess)\"?)"
                } else {
                    reason += " (known fields: \(known.joined(separator: ", ")))"
                }
                problem(memberPath, reason)
                continue
            }
            guard result[member.key] == nil else {
                problem(memberPath, "given twice")
                continue
            }
            result[member.key] = member.value
        }
        return result
    }

    /// A required field: reports it missing when absent.
    mutating func required(_ fields: [String: PolicyJSON], _ name: String, path: String) -> PolicyJSON? {
        guard let value = fields[name] else {
            problem(path, "required field is missing")
            return nil
        }
        return value
    }

    mutating func string(_ value: PolicyJSON, at path: String) -> String? {
        guard case .string(let text) = value else {
            problem(path, "must be a string, got \(value.shortDescription)")
            return nil
        }
        return text
    }

    /// One name turned into a value by `parse`; refuses a non-string and an unknown name
    /// (`unknown <item> 'x' (one of: …)`, listing `known`). `item` is the noun for messages.
    mutating func named<Value>(_ value: PolicyJSON, at path: String, item: String, parse: (String) -> Value?,
                               known: [String]) -> Value? {
        guard let name = string(value, at: path) else { return nil }
        guard let parsed = parse(name) else {
            problem(path, "unknown \(item) \(PolicyText.quoted(name)) (one of: \(known.joined(separator: ", ")))")
            return nil
        }
        return parsed
    }

    /// A positive integer no larger than `maximum`, written as plain digits.
    mutating func positiveInteger(_ value: PolicyJSON, at path: String, maximum: Int) -> Int? {
        guard case .number(let text) = value else {
            problem(path, "must be a positive integer, got \(value.shortDescription)")
            return nil
        }
        guard !text.hasPrefix("-"), text != "0", text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            problem(path, "must be a positive integer, got \(text)")
            return nil
        }
        var number = 0
        for digit in text.utf8 {
            let (times, overflow1) = number.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int(digit - 0x30))
            guard !overflow1, !overflow2, sum <= maximum else {
                problem(path, "must be at most \(maximum), got \(text)")
                return nil
            }
            number = sum
        }
        return number
    }

    /// An integer in `range`, written as plain digits (0 allowed when the range holds it).
    mutating func integer(_ value: PolicyJSON, at path: String, in range: ClosedRange<Int>) -> Int? {
        guard case .number(let text) = value, !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            problem(path, "must be an integer from \(range.lowerBound) to \(range.upperBound), got \(value.shortDescription)")
            return nil
        }
        var number = 0
        for digit in text.utf8 {
            let (times, overflow1) = number.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int(digit - 0x30))
            guard !overflow1, !overflow2, sum <= range.upperBound else {
                problem(path, "must be at most \(range.upperBound), got \(text)")
                return nil
            }
            number = sum
        }
        guard number >= range.lowerBound else {
            problem(path, "must be at least \(range.lowerBound), got \(text)")
            return nil
        }
        return number
    }

    /// `true` or `false` (not `1`, not `"true"`).
    mutating func bool(_ value: PolicyJSON, at path: String) -> Bool? {
        guard case .bool(let flag) = value else {
            problem(path, "must be true or false, got \(value.shortDescription)")
            return nil
        }
        return flag
    }

    /// A list of names, each turned into an element by `parse`; refuses non-strings, unknown
    /// names (with `invalid`'s reason, else the known names or a "did you mean") and names
    /// listed twice. `item` is the singular noun for messages: `indicator type`.
    mutating func list<Element: Hashable>(
        _ value: PolicyJSON, at path: String, item: String, allowEmpty: Bool = false,
        emptyReason: String = "must not be empty", parse: (String) -> Element?, known: [String] = [],
        invalid: ((String) -> String)? = nil
    ) -> [Element]? {
        guard case .array(let items) = value else {
            problem(path, "must be a list of \(item) names, got \(value.shortDescription)")
            return nil
        }
        if items.isEmpty && !allowEmpty {
            problem(path, emptyReason)
            return nil
        }
        var result: [Element] = []
        var seen: Set<Element> = []
        var failed = false
        for (index, entry) in items.enumerated() {
            let itemPath = "\(path)[\(index)]"
            guard let name = string(entry, at: itemPath) else {
                failed = true
                continue
            }
            guard let element = parse(name) else {
                failed = true
                if let invalid {
                    problem(itemPath, invalid(name))
                } else if let guess = PolicyText.suggestion(for: name, among: known) {
                    problem(itemPath, "unknown \(item) \(PolicyText.quoted(name)) (did you mean \"\(guess)\"?)")
                } else {
                    problem(itemPath, "unknown \(item) \(PolicyText.quoted(name)) (one of: \(known.joined(separator: ", ")))")
                }
                continue
            }
            guard seen.insert(element).inserted else {
                failed = true
                problem(itemPath, "\(PolicyText.quoted(name)) is listed twice")
                continue
            }
            result.append(element)
        }
        return failed ? nil : result
    }
}
