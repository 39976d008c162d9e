public import IndicatorKit

/// RESULT (0x11), hub → client: one entry per value of the QUERY with the same request id, in
/// the QUERY's order.
public struct QueryResult: Equatable, Sendable {
    public var requestID: UInt64
    public var entries: ResultEntries

    public init(requestID: UInt64, entries: ResultEntries) {
        self.requestID = requestID
        self.entries = entries
    }
}

/// The answer for one value.
public enum ResultEntry: Equatable, Sendable {
    case miss
    /// A live entry matched; `RevealedFields` holds what the partner's policy lets it see.
    case hit(RevealedFields)
    case refused(ValueRefusal)
}

/// The metadata a hit reveals: each field present only when the policy allows it (and its bit
/// is set in the entry's reveal mask). All absent = match only.
public struct RevealedFields: Equatable, Hashable, Sendable {
    public let category: ThreatCategory?
    /// 0–100.
    public let confidence: UInt8?
    /// Unix seconds after which the entry no longer matches; 0 = never.
    public let expires: UInt32?
    public let action: ActionHint?

    /// Match only.
    public static let none = RevealedFields()

    public init(category: ThreatCategory? = nil, confidence: UInt8? = nil, expires: UInt32? = nil,
                action: ActionHint? = nil) {
        precondition((confidence ?? 0) <= 100, "confidence is 0–100")
        self.category = category
        self.confidence = confidence
        self.expires = expires
        self.action = action
    }

    /// The fields of `metadata` that `mask` allows.
    public init(_ metadata: EntryMetadata, revealing mask: RevealMask) {
        self.init(category: mask.contains(.category) ? metadata.category : nil,
                  confidence: mask.contains(.confidence) ? min(metadata.confidence, 100) : nil,
                  expires: mask.contains(.expires) ? metadata.expires : nil,
                  action: mask.contains(.action) ? metadata.action : nil)
    }

    /// Which fields are present.
    public var mask: RevealMask {
        var mask: RevealMask = []
        if category != nil { mask.insert(.category) }
        if confidence != nil { mask.insert(.confidence) }
        if expires != nil { mask.insert(.expires) }
        if action != nil { mask.insert(.action) }
        return mask
    }
}

/// A RESULT's entries in their wire form (status byte, then a reveal mask and fields for a hit
/// or a refusal code), in one buffer: a miss costs one byte, and reading entries allocates
/// nothing per entry.
///
/// Invariant: `wireBytes` holds exactly `count` well-formed entries.
public struct ResultEntries: Sequence, Equatable, Sendable {
    public private(set) var count: Int
    public private(set) var wireBytes: ArraySlice<UInt8>

    public init() {
        count = 0
        wireBytes = []
    }

    public init<S: Sequence>(_ entries: S) where S.Element == ResultEntry {
        self.init()
        for entry in entries { append(entry) }
    }

    init(validated wireBytes: ArraySlice<UInt8>, count: Int) {
        self.wireBytes = wireBytes
        self.count = count
    }

    /// `count` entries stored by `body` through a `ResultEntryWriter` into one buffer sized
    /// for the largest entries (the hub's hot path: no per-entry `Array` append). `body` must
    /// write exactly `count` entries.
    package init(count: Int, _ body: (inout ResultEntryWriter) -> Void) {
        var written = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: count * ResultEntryWriter.maxEntryBytes) { buffer, initialized in
            var writer = ResultEntryWriter(buffer, entries: count)
            body(&writer)
            initialized = writer.pos
            written = writer.entries
        }
        precondition(written == count, "ResultEntries(count:) wrote \(written) entries, not \(count)")
        self.init(validated: bytes[...], count: count)
    }

    public var isEmpty: Bool { count == 0 }

    public mutating func reserveCapacity(_ entries: Int) {
        wireBytes.reserveCapacity(wireBytes.count + entries * 2)
    }

    public mutating func append(_ entry: ResultEntry) {
        switch entry {
        case .miss:
            wireBytes.append(WireFormat.Status.miss)
        case .refused(let refusal):
            wireBytes.append(WireFormat.Status.refused)
            wireBytes.append(refusal.rawValue)
        case .hit(let fields):
            wireBytes.append(WireFormat.Status.hit)
            wireBytes.append(fields.mask.rawValue)
            if let category = fields.category { wireBytes.append(category.rawValue) }
            if let confidence = fields.confidence { wireBytes.append(confidence) }
            if let expires = fields.expires {
                for shift in stride(from: 0, to: 32, by: 8) {
                    wireBytes.append(UInt8(truncatingIfNeeded: expires >> UInt32(shift)))
                }
            }
            if let action = fields.action { wireBytes.append(action.rawValue) }
        }
        count += 1
    }

    public func makeIterator() -> Iterator { Iterator(bytes: wireBytes) }

    /// Walks the entries in order (bounds and values were checked when built or parsed).
    public struct Iterator: IteratorProtocol {
        let bytes: ArraySlice<UInt8>
        var pos: Int

        init(bytes: ArraySlice<UInt8>) {
            self.bytes = bytes
            self.pos = bytes.startIndex
        }

        public mutating func next() -> ResultEntry? {
            guard pos < bytes.endIndex else { return nil }
            let status = bytes[pos]
            pos += 1
            switch status {
            case WireFormat.Status.miss:
                return .miss
            case WireFormat.Status.refused:
                defer { pos += 1 }
                return .refused(ValueRefusal(rawValue: bytes[pos])!)
            default:
                let mask = RevealMask(rawValue: bytes[pos])
                pos += 1
                var category: ThreatCategory?
                var confidence: UInt8?
                var expires: UInt32?
                var action: ActionHint?
                if mask.contains(.category) { category = ThreatCategory(rawValue: bytes[pos]); pos += 1 }
                if mask.contains(.confidence) { confidence = bytes[pos]; pos += 1 }
                if mask.contains(.expires) {
                    expires = UInt32(bytes[pos]) | UInt32(bytes[pos + 1]) << 8 | UInt32(bytes[pos + 2]) << 16
                        | UInt32(bytes[pos + 3]) << 24
                    pos += 4
                }
                if mask.contains(.action) { action = ActionHint(rawValue: bytes[pos]); pos += 1 }
                return .hit(RevealedFields(category: category, confidence: confidence, expires: expires, action: action))
            }
        }
    }

    public static func == (a: ResultEntries, b: ResultEntries) -> Bool {
        a.count == b.count && a.wireBytes.elementsEqual(b.wireBytes)
    }
}

/// Stores RESULT entries in wire form (docs/PROTOCOL.md, "RESULT") through a pointer into
/// memory sized for `entries` of at most `maxEntryBytes` each; storing more entries traps.
package struct ResultEntryWriter {
    /// A hit revealing every field: status, mask, category, confidence, expires (4), action.
    static let maxEntryBytes = 9

    private let buffer: UnsafeMutableBufferPointer<UInt8>
    private let limit: Int
    private(set) var pos = 0
    private(set) var entries = 0

    init(_ buffer: UnsafeMutableBufferPointer<UInt8>, entries limit: Int) {
        precondition(buffer.count >= limit * Self.maxEntryBytes)
        self.buffer = buffer
        self.limit = limit
    }

    @inline(__always)
    private mutating func next() {
        precondition(entries < limit, "more RESULT entries than reserved")
        entries += 1
    }

    @inline(__always)
    package mutating func miss() {
        next()
        buffer[pos] = WireFormat.Status.miss
        pos += 1
    }

    @inline(__always)
    package mutating func refused(_ refusal: ValueRefusal) {
        next()
        buffer[pos] = WireFormat.Status.refused
        buffer[pos + 1] = refusal.rawValue
        pos += 2
    }

    /// A hit showing the fields of `metadata` that `mask` allows (`RevealedFields(_:revealing:)`).
    package mutating func hit(_ metadata: EntryMetadata, revealing mask: RevealMask) {
        next()
        buffer[pos] = WireFormat.Status.hit
        buffer[pos + 1] = mask.rawValue & RevealMask.all.rawValue
        pos += 2
        if mask.contains(.category) {
            buffer[pos] = metadata.category.rawValue
            pos += 1
        }
        if mask.contains(.confidence) {
            buffer[pos] = min(metadata.confidence, 100)
            pos += 1
        }
        if mask.contains(.expires) {
            for shift in stride(from: 0, to: 32, by: 8) {
                buffer[pos] = UInt8(truncatingIfNeeded: metadata.expires >> UInt32(shift))
                pos += 1
            }
        }
        if mask.contains(.action) {
            buffer[pos] = metadata.action.rawValue
            pos += 1
        }
    }
}
