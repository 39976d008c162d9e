import IndicatorKit
import HubJSON

/// STIX 2.1 feeds (docs/FEEDS.md): a bundle (`{"type": "bundle", "objects": [...]}`) or a bare
/// indicator object. The bundle's objects are read one at a time (a million-indicator bundle is
/// never one tree). Every `indicator` becomes one record per value its pattern names
/// (`STIXPattern`); other object types carry no indicator and are ignored. An indicator the hub
/// cannot use is refused with its JSON path and the reason.
public enum STIXReader {
    /// Calls `body` for each value, `problem` for each refused indicator or value, `skipped`
    /// for each indicator deliberately left out (with the reason). Throws when the file is not
    /// JSON or not a STIX bundle / indicator.
    public static func read(
        _ bytes: UnsafeBufferPointer<UInt8>, file: String,
        _ body: (FeedRecord) -> Void, problem: (FeedProblem) -> Void, skipped: (String) -> Void
    ) throws(FeedError) {
        var topType: JSONValue?
        var topMembers: [JSONValue.Member] = []
        var sawObjects = false
        try JSONFeed.reading(file) {
            var parser = try JSONParser(bytes, maxDepth: JSONFeed.maxDepth)
            guard parser.nextByte == UInt8(ascii: "{") else {
                throw FeedError.notFeed(file: file, format: .stix, reason: "the top level is not a JSON object")
            }
            try parser.beginObject()
            while let key = try parser.nextKey() {
                if key == "objects" {
                    sawObjects = true
                    guard parser.nextByte == UInt8(ascii: "[") else {
                        throw FeedError.notFeed(file: file, format: .stix, reason: "'objects' is not an array")
                    }
                    try parser.beginArray()
                    var index = 0
                    while try parser.nextItem() {
                        let line = parser.line
                        let object = try readUsedMembers(&parser)
                        readObject(object, path: "$.objects[\(index)]", line: line, file: file,
                                   body, problem: problem, skipped: skipped)
                        index += 1
                    }
                } else {
                    let value = try parser.value()
                    if key == "type" { topType = value }
                    topMembers.append(JSONValue.Member(key: key, value: value))
                }
            }
            try parser.finish()
        }
        switch topType {
        case .string("bundle"):
            return
        case .string("indicator") where !sawObjects:
            readObject(.object(topMembers), path: "$", line: 1, file: file, body, problem: problem, skipped: skipped)
        default:
            let found = topType.map { $0.string.map(JSONText.quoted) ?? $0.kindName } ?? "missing"
            throw FeedError.notFeed(file: file, format: .stix,
                                    reason: "top-level \"type\" is \(found), expected \"bundle\" or \"indicator\"")
        }
    }

    /// The next value; for an object only the members the reader uses are built (the others —
    /// ids, descriptions, external references, kill chains — are checked and skipped).
    static func readUsedMembers(_ parser: inout JSONParser) throws(JSONSyntaxError) -> JSONValue {
        guard parser.nextByte == UInt8(ascii: "{") else { return try parser.value() }
        try parser.beginObject()
        var members: [JSONValue.Member] = []
        while let key = try parser.nextKey() {
            if Fields.slot(key) != nil {
                members.append(JSONValue.Member(key: key, value: try parser.value()))
            } else {
                try parser.skipValue()
            }
        }
        return .object(members)
    }

    /// One object of a bundle.
    static func readObject(
        _ object: JSONValue, path: String, line: Int, file: String,
        _ body: (FeedRecord) -> Void, problem: (FeedProblem) -> Void, skipped: (String) -> Void
    ) {
        func refuse(_ field: String?, _ reason: String) {
            problem(FeedProblem(file: file, line: line, path: field.map { "\(path).\($0)" } ?? path, reason: reason))
        }
        guard let members = object.members else {
            refuse(nil, "a bundle's objects must be JSON objects, got \(object.kindName)")
            return
        }
        // One pass over the members: the fields the reader uses, each at most once.
        var fields = Fields()
        for member in members {
            guard let slot = Fields.slot(member.key) else { continue }
            if fields.values[slot] != nil { return refuse(member.key, "field given twice") }
            fields.values[slot] = member.value
        }
        guard fields["type"] == .string("indicator") else { return }  // not an indicator: nothing to take
        if fields["indicator_types"]?.items?.contains(.string("benign")) == true {
            return skipped("STIX indicator_types says benign")
        }

        switch fields["pattern_type"] {
        case nil, .string("stix"): break  // STIX 2.0 indicators have no pattern_type
        case .string(let other):
            return refuse("pattern_type", "pattern_type \(JSONText.quoted(other)) is not supported (only \"stix\")")
        case let other?:
            return refuse("pattern_type", "must be a string, got \(other.kindName)")
        }
        guard case .string(let text) = fields["pattern"] else {
            return refuse("pattern", fields["pattern"] == nil ? "an indicator needs a pattern" : "must be a string")
        }
        let pattern: STIXPattern
        do {
            pattern = try STIXPattern(text)
        } catch {
            return refuse("pattern", error.description)
        }

        var record = RecordFields()
        var action = FeedRecord.Action.add
        var current = "valid_until"
        do throws(FieldParsers.FieldError) {
            if let value = fields["valid_until"] { record.expires = try JSONFeed.timestamp(value) }
            current = fields["valid_from"] == nil ? "created" : "valid_from"
            if let value = fields["valid_from"] ?? fields["created"] { record.firstSeenDay = try JSONFeed.day(value) }
            current = "modified"
            if let value = fields["modified"] { record.lastSeenDay = try JSONFeed.day(value) }
            current = "confidence"
            if let value = fields["confidence"] { record.confidence = try confidence(value) }
            current = "object_marking_refs"
            if let value = fields["object_marking_refs"] { record.tlp = try tlp(value) }
            current = "revoked"
            switch fields["revoked"] {
            case nil, .bool(false): break
            case .bool(true): action = .withdraw
            case let other?: throw FieldParsers.FieldError(reason: "must be true or false, got \(other.kindName)")
            }
        } catch {
            return refuse(current, error.reason)
        }
        record.category = category(fields["indicator_types"]) ?? category(fields["labels"])
        for value in pattern.values {
            value.bytes.withUnsafeBufferPointer { bytes in
                body(FeedRecord(line: line, value: bytes, type: value.type, fields: record,
                                path: "\(path).pattern", action: action))
            }
        }
    }

    static func confidence(_ value: JSONValue) throws(FieldParsers.FieldError) -> UInt8? {
        guard case .number(let text) = value, let number = Int(text), (0...100).contains(number) else {
            throw FieldParsers.FieldError(reason: "must be an integer from 0 to 100")
        }
        return UInt8(number)
    }

    /// The strictest TLP among the standard TLP marking definitions referenced; other markings
    /// (statements, custom TLP definitions) are not TLP levels the hub can read and are ignored.
    static func tlp(_ value: JSONValue) throws(FieldParsers.FieldError) -> TLP? {
        guard let items = value.items else { throw FieldParsers.FieldError(reason: "must be a list of marking ids") }
        var result: TLP?
        for item in items {
            guard let id = item.string else { throw FieldParsers.FieldError(reason: "must be a list of marking ids") }
            if id.utf8.count == 56, let level = tlpMarkings[id] { result = max(result ?? level, level) }
        }
        return result
    }

    /// The standard TLP marking definitions: STIX 2.1 §7.2.1.4 (TLP 1.0) and the OASIS TLP 2.0
    /// marking definitions (same uuids as the FIRST TLP 2.0 extension).
    static let tlpMarkings: [String: TLP] = [
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": .clear,  // TLP:WHITE
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": .green,
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": .amber,
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": .red,
        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": .clear,  // TLP 2.0
        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": .green,
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": .amber,
        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": .amberStrict,
        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": .red,
    ]

    /// The first entry of `indicator_types` / `labels` that names a category (ours, a common
    /// spelling, or STIX's `compromised`); the generic `malicious-activity` names none.
    static func category(_ value: JSONValue?) -> ThreatCategory? {
        for item in value?.items ?? [] {
            guard let name = item.string else { continue }
            if name == "compromised" { return .hijacked }
            if let category = FieldParsers.knownCategory(name), category != .unspecified { return category }
        }
        return nil
    }

    /// The indicator fields the reader uses, found in one pass over an object's members.
    struct Fields {
        static let names = ["type", "pattern", "pattern_type", "valid_from", "valid_until", "created", "modified",
                            "confidence", "object_marking_refs", "revoked", "indicator_types", "labels"]
        var values = [JSONValue?](repeating: nil, count: names.count)

        static func slot(_ key: String) -> Int? {
            switch key {
            case "type": 0
            case "pattern": 1
            case "pattern_type": 2
            case "valid_from": 3
            case "valid_until": 4
            case "created": 5
            case "modified": 6
            case "confidence": 7
            case "object_marking_refs": 8
            case "revoked": 9
            case "indicator_types": 10
            case "labels": 11
            default: nil
            }
        }

        subscript(name: String) -> JSONValue? {
            Self.slot(name).flatMap { values[$0] }
        }
    }
}
