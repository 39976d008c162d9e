import IndicatorKit
import HubJSON

/// MISP feeds (docs/FEEDS.md): an event file `{"Event": {...}}` — its `Attribute` array and
/// each `Object[].Attribute` — and feed directories, whose `manifest.json` lists the events
/// (`<uuid>.json` beside it; the caller reads them). Attributes are read one at a time: the
/// event is walked twice, first for its tags and dates (which may follow the attributes), then
/// for the attributes.
public enum MISPReader {
    /// Calls `body` per value, `problem` per refused attribute, `skipped` per attribute left out
    /// on purpose (type the hub does not list, `to_ids` false, deleted). Throws when the file
    /// is not JSON or has no `Event` object.
    public static func read(
        _ bytes: UnsafeBufferPointer<UInt8>, file: String,
        _ body: (FeedRecord) -> Void, problem: (FeedProblem) -> Void, skipped: (String) -> Void
    ) throws(FeedError) {
        try JSONFeed.reading(file) {
            // Pass 1: the event's own tags and date.
            var event = EventContext()
            var parser = try JSONParser(bytes, maxDepth: JSONFeed.maxDepth)
            try enterEvent(&parser, file: file)
            while let key = try parser.nextKey() {
                switch key {
                case "Tag": event.tlp = tlp(ofTags: try parser.value())
                case "date": event.date = try parser.value()
                default: try parser.skipValue()
                }
            }
            // Pass 2: the attributes.
            parser = try JSONParser(bytes, maxDepth: JSONFeed.maxDepth)
            try enterEvent(&parser, file: file)
            while let key = try parser.nextKey() {
                guard key == "Attribute" || key == "Object", parser.nextByte == UInt8(ascii: "[") else {
                    try parser.skipValue()
                    continue
                }
                try parser.beginArray()
                var index = 0
                while try parser.nextItem() {
                    let line = parser.line
                    let value = try parser.value()
                    let path = "$.Event.\(key)[\(index)]"
                    if key == "Attribute" {
                        readAttribute(value, path: path, line: line, file: file, event: event,
                                      body, problem: problem, skipped: skipped)
                    } else {
                        readObject(value, path: path, line: line, file: file, event: event,
                                   body, problem: problem, skipped: skipped)
                    }
                    index += 1
                }
            }
            while try parser.nextKey() != nil { try parser.skipValue() }  // after "Event"
            try parser.finish()
        }
    }

    /// The event uuids a feed's `manifest.json` lists, in file order. Each must be a uuid (it
    /// names a file beside the manifest; anything else could name a path elsewhere).
    public static func manifestEvents(_ bytes: UnsafeBufferPointer<UInt8>, file: String) throws(FeedError) -> [String] {
        return try JSONFeed.reading(file) {
            var parser = try JSONParser(bytes, maxDepth: JSONFeed.maxDepth)
            guard parser.nextByte == UInt8(ascii: "{") else {
                throw FeedError.notFeed(file: file, format: .misp, reason: "a manifest is a JSON object of event uuids")
            }
            try parser.beginObject()
            var uuids: [String] = []
            while let key = try parser.nextKey() {
                guard isUUID(key) else {
                    throw FeedError.notFeed(file: file, format: .misp,
                                            reason: "manifest key \(JSONText.quoted(key)) is not an event uuid")
                }
                uuids.append(key)
                try parser.skipValue()
            }
            try parser.finish()
            return uuids
        }
    }

    /// `8-4-4-4-12` hex digits.
    static func isUUID(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { return false }
        for (index, byte) in bytes.enumerated() {
            if [8, 13, 18, 23].contains(index) {
                guard byte == UInt8(ascii: "-") else { return false }
            } else if !STIXPattern.isHexDigit(byte) {
                return false
            }
        }
        return true
    }

    struct EventContext {
        var tlp: TLP?
        var date: JSONValue?
    }

    /// Positions `parser` inside the top-level `Event` object.
    private static func enterEvent(_ parser: inout JSONParser, file: String) throws -> Void {
        guard parser.nextByte == UInt8(ascii: "{") else {
            throw FeedError.notFeed(file: file, format: .misp, reason: "the top level is not a JSON object")
        }
        try parser.beginObject()
        while let key = try parser.nextKey() {
            if key == "Event" {
                guard parser.nextByte == UInt8(ascii: "{") else {
                    throw FeedError.notFeed(file: file, format: .misp, reason: "\"Event\" is not an object")
                }
                try parser.beginObject()
                return
            }
            try parser.skipValue()
        }
        throw FeedError.notFeed(file: file, format: .misp, reason: "no \"Event\" object at the top level"
                                + " (a feed's manifest.json is read by giving its directory)")
    }

    /// A MISP object: its attributes, unless the object is deleted.
    static func readObject(
        _ object: JSONValue, path: String, line: Int, file: String, event: EventContext,
        _ body: (FeedRecord) -> Void, problem: (FeedProblem) -> Void, skipped: (String) -> Void
    ) {
        guard let members = object.members else {
            problem(FeedProblem(file: file, line: line, path: path, reason: "must be an object, got \(object.kindName)"))
            return
        }
        if isTrue(object["deleted"]) {
            for _ in object["Attribute"]?.items ?? [] { skipped("MISP deleted") }
            return
        }
        guard let attributes = members.first(where: { $0.key == "Attribute" })?.value else { return }
        guard let items = attributes.items else {
            problem(FeedProblem(file: file, line: line, path: path + ".Attribute",
                                reason: "must be an array, got \(attributes.kindName)"))
            return
        }
        for (index, attribute) in items.enumerated() {
            readAttribute(attribute, path: "\(path).Attribute[\(index)]", line: line, file: file, event: event,
                          body, problem: problem, skipped: skipped)
        }
    }

    /// One attribute → zero, one or two records (`domain|ip` names both).
    static func readAttribute(
        _ attribute: JSONValue, path: String, line: Int, file: String, event: EventContext,
        _ body: (FeedRecord) -> Void, problem: (FeedProblem) -> Void, skipped: (String) -> Void
    ) {
        func refuse(_ field: String, _ reason: String) {
            problem(FeedProblem(file: file, line: line, path: "\(path).\(field)", reason: reason))
        }
        guard let members = attribute.members else {
            problem(FeedProblem(file: file, line: line, path: path, reason: "must be an object, got \(attribute.kindName)"))
            return
        }
        var fields: [String: JSONValue] = [:]
        for key in ["type", "value", "to_ids", "deleted", "Tag", "first_seen", "last_seen", "timestamp"] {
            switch JSONFeed.field(members, key) {
            case .failure: return refuse(key, "field given twice")
            case .success(let value): if let value { fields[key] = value }
            }
        }
        if isTrue(fields["deleted"]) { return skipped("MISP deleted") }
        guard case .string(let typeName) = fields["type"] else { return refuse("type", "an attribute needs a type string") }
        guard let mapping = MISPTypes.mapping[typeName] else { return skipped("MISP type \(typeName)") }
        if let toIDs = fields["to_ids"], !isTrue(toIDs) { return skipped("MISP to_ids false") }
        guard case .string(let value) = fields["value"] else { return refuse("value", "an attribute needs a value string") }

        var record = RecordFields()
        record.tlp = fields["Tag"].flatMap(tlp(ofTags:)) ?? event.tlp
        var current = "first_seen"
        do throws(FieldParsers.FieldError) {
            if let seen = fields["first_seen"] { record.firstSeenDay = try JSONFeed.day(seen) }
            current = "last_seen"
            if let seen = fields["last_seen"] { record.lastSeenDay = try JSONFeed.day(seen) }
            current = "timestamp"
            if let stamp = fields["timestamp"] {
                let day = try JSONFeed.day(stamp)
                record.lastSeenDay = record.lastSeenDay ?? day
                if record.firstSeenDay == nil, let date = event.date { current = "date"; record.firstSeenDay = try JSONFeed.day(date) }
                record.firstSeenDay = record.firstSeenDay ?? day
            }
        } catch {
            return refuse(current, error.reason)
        }

        let parts: [(IndicatorType?, Substring)]
        switch mapping {
        case .single(let type):
            parts = [(type, Substring(value))]
        case .left(let type), .right(let type):
            guard let bar = value.firstIndex(of: "|") else {
                return refuse("value", "a \(typeName) value is written 'a|b'; this one has no '|'")
            }
            if case .left = mapping {
                parts = [(type, value[..<bar])]
            } else {
                parts = [(type, value[value.index(after: bar)...])]
            }
        case .both(let first, let second):
            guard let bar = value.firstIndex(of: "|") else {
                return refuse("value", "a \(typeName) value is written 'a|b'; this one has no '|'")
            }
            parts = [(first, value[..<bar]), (second, value[value.index(after: bar)...])]
        }
        for (type, text) in parts {
            var text = String(text)
            let resolved = type ?? (text.contains(":") ? .ipv6 : .ipv4)
            text.withUTF8 { bytes in
                body(FeedRecord(line: line, value: bytes, type: resolved, fields: record, path: "\(path).value"))
            }
        }
    }

    /// `to_ids` / `deleted` as MISP writes them: a boolean, or `"1"` / `"0"` in older exports.
    static func isTrue(_ value: JSONValue?) -> Bool {
        switch value {
        case .bool(true), .string("1"), .number("1"), .string("true"): true
        default: false
        }
    }

    /// The strictest `tlp:` tag (`tlp:white|clear|green|amber|amber+strict|red`) of a `Tag` list.
    static func tlp(ofTags tags: JSONValue) -> TLP? {
        var result: TLP?
        for tag in tags.items ?? [] {
            guard case .string(let name) = tag["name"], name.lowercased().hasPrefix("tlp:"),
                  let level = TLP(name: name)
            else { continue }
            result = max(result ?? level, level)
        }
        return result
    }
}
