public import IndicatorKit

/// The feed format an upload was read from (UPLOAD_BEGIN, for the audit trail).
public enum UploadFormat: UInt8, CaseIterable, Sendable, Hashable {
    case other = 0
    case list = 1
    case csv = 2
    case stix = 3
    case misp = 4

    public var name: String {
        switch self {
        case .other: "other"
        case .list: "list"
        case .csv: "csv"
        case .stix: "stix"
        case .misp: "misp"
        }
    }
}

/// UPLOAD_BEGIN flags.
public struct UploadFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The values are defanged (`hxxp://`, `[.]`): the hub refangs them before reading them.
    public static let defanged = UploadFlags(rawValue: 1 << 0)
    /// Any record the hub refuses discards the whole upload (nothing is stored).
    public static let strict = UploadFlags(rawValue: 1 << 1)
    public static let all: UploadFlags = [.defanged, .strict]
}

/// UPLOAD_BEGIN (0x20), client → hub: opens an upload under a request id that its
/// UPLOAD_RECORDS, UPLOAD_COMMIT and the hub's answer carry too.
public struct UploadBegin: Equatable, Sendable {
    public var requestID: UInt64
    public var uploadID: UploadID
    /// 1 to `WireFormat.maxUploadRecords`: the COMMIT must confirm exactly this many.
    public var recordCount: UInt32
    public var format: UploadFormat
    public var flags: UploadFlags
    /// The law or agreement under which the source shares the feed; 0–256 bytes (a policy may
    /// require it). Audited.
    public var legalBasis: String
    /// The source's own reference (ticket, feed name); 0–256 bytes. Audited.
    public var reference: String

    public init(requestID: UInt64, uploadID: UploadID, recordCount: UInt32, format: UploadFormat = .other,
                flags: UploadFlags = [], legalBasis: String = "", reference: String = "") {
        self.requestID = requestID
        self.uploadID = uploadID
        self.recordCount = recordCount
        self.format = format
        self.flags = flags
        self.legalBasis = legalBasis
        self.reference = reference
    }
}

/// What a feed said about one record, each field optional (absent: the hub's default for the
/// source). The field mask byte has bit 0 category, 1 confidence, 2 TLP, 3 action, 4 first
/// seen, 5 last seen, 6 expires; bit 7 is zero.
public struct UploadFields: Equatable, Hashable, Sendable {
    public var category: ThreatCategory?
    /// 0–100.
    public var confidence: UInt8?
    public var tlp: TLP?
    public var action: ActionHint?
    /// Days since 1970-01-01 UTC.
    public var firstSeenDay: UInt16?
    public var lastSeenDay: UInt16?
    /// Unix seconds.
    public var expires: UInt32?

    public init(category: ThreatCategory? = nil, confidence: UInt8? = nil, tlp: TLP? = nil, action: ActionHint? = nil,
                firstSeenDay: UInt16? = nil, lastSeenDay: UInt16? = nil, expires: UInt32? = nil) {
        self.category = category
        self.confidence = confidence
        self.tlp = tlp
        self.action = action
        self.firstSeenDay = firstSeenDay
        self.lastSeenDay = lastSeenDay
        self.expires = expires
    }

    public static let none = UploadFields()

    enum Bit {
        static let category: UInt8 = 1 << 0
        static let confidence: UInt8 = 1 << 1
        static let tlp: UInt8 = 1 << 2
        static let action: UInt8 = 1 << 3
        static let firstSeen: UInt8 = 1 << 4
        static let lastSeen: UInt8 = 1 << 5
        static let expires: UInt8 = 1 << 6
        static let all: UInt8 = 0x7F
    }

    /// The field mask byte.
    var mask: UInt8 {
        var mask: UInt8 = 0
        if category != nil { mask |= Bit.category }
        if confidence != nil { mask |= Bit.confidence }
        if tlp != nil { mask |= Bit.tlp }
        if action != nil { mask |= Bit.action }
        if firstSeenDay != nil { mask |= Bit.firstSeen }
        if lastSeenDay != nil { mask |= Bit.lastSeen }
        if expires != nil { mask |= Bit.expires }
        return mask
    }

    /// Bytes the present fields take after the record header.
    static func width(of mask: UInt8) -> Int {
        var width = 0
        if mask & Bit.category != 0 { width += 1 }
        if mask & Bit.confidence != 0 { width += 1 }
        if mask & Bit.tlp != 0 { width += 1 }
        if mask & Bit.action != 0 { width += 1 }
        if mask & Bit.firstSeen != 0 { width += 2 }
        if mask & Bit.lastSeen != 0 { width += 2 }
        if mask & Bit.expires != 0 { width += 4 }
        return width
    }

    /// The present fields in bit order, little-endian.
    func append(to out: inout ArraySlice<UInt8>) {
        if let category { out.append(category.rawValue) }
        if let confidence { out.append(confidence) }
        if let tlp { out.append(tlp.rawValue) }
        if let action { out.append(action.rawValue) }
        for value in [firstSeenDay, lastSeenDay] {
            if let value { out.append(UInt8(truncatingIfNeeded: value)); out.append(UInt8(truncatingIfNeeded: value >> 8)) }
        }
        if let expires {
            for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: expires >> UInt32(shift))) }
        }
    }
}

/// One record of an upload: its type (nil = the hub detects), raw value bytes (a view into the
/// chunk's storage) and metadata.
public struct UploadRecord: Equatable, Sendable {
    public var type: IndicatorType?
    public var value: ArraySlice<UInt8>
    public var fields: UploadFields

    public init(type: IndicatorType?, value: ArraySlice<UInt8>, fields: UploadFields = .none) {
        self.type = type
        self.value = value
        self.fields = fields
    }
}

/// UPLOAD_RECORDS (0x21), client → hub: the next records of the open upload with this request
/// id, kept in wire form in one buffer (as `QueryValues`: parsing allocates nothing per record).
///
/// Invariant: `wireBytes` holds exactly `count` well-formed records.
public struct UploadRecords: Sequence, Equatable, Sendable {
    public var requestID: UInt64
    /// The upload-wide index of the first record (records count from 0 across chunks); must
    /// equal the number of records the upload's earlier chunks held.
    public var firstIndex: UInt32
    public private(set) var count: Int
    public private(set) var wireBytes: ArraySlice<UInt8>

    public init(requestID: UInt64, firstIndex: UInt32) {
        self.requestID = requestID
        self.firstIndex = firstIndex
        count = 0
        wireBytes = []
    }

    init(requestID: UInt64, firstIndex: UInt32, validated wireBytes: ArraySlice<UInt8>, count: Int) {
        self.requestID = requestID
        self.firstIndex = firstIndex
        self.wireBytes = wireBytes
        self.count = count
    }

    public var isEmpty: Bool { count == 0 }

    /// The bytes a record of `valueBytes` with these fields adds to the payload.
    public static func encodedSize(valueBytes: Int, fields: UploadFields) -> Int {
        WireFormat.recordHeaderBytes + UploadFields.width(of: fields.mask) + valueBytes
    }

    /// Appends a record. Throws when the value is longer than the u16 length can say, or a
    /// field is out of range (confidence over 100).
    public mutating func append(_ value: UnsafeRawBufferPointer, type: IndicatorType?,
                                fields: UploadFields = .none) throws(WireError) {
        if value.count > WireFormat.maxEncodableValueBytes {
            throw .malformedPayload(.uploadRecords, .outOfRange(.record(count), value: UInt64(value.count)))
        }
        if let confidence = fields.confidence, confidence > 100 {
            throw .malformedPayload(.uploadRecords, .outOfRange(.recordConfidence(count), value: UInt64(confidence)))
        }
        wireBytes.append(type?.rawValue ?? 0)
        wireBytes.append(fields.mask)
        wireBytes.append(UInt8(truncatingIfNeeded: value.count))
        wireBytes.append(UInt8(truncatingIfNeeded: value.count >> 8))
        fields.append(to: &wireBytes)
        wireBytes.append(contentsOf: value)
        count += 1
    }

    public mutating func append(_ text: String, type: IndicatorType?, fields: UploadFields = .none) throws(WireError) {
        var text = text
        let result = text.withUTF8 { (utf8) -> Result<Void, WireError> in
            Result { () throws(WireError) in try append(UnsafeRawBufferPointer(utf8), type: type, fields: fields) }
        }
        try result.get()
    }

    public mutating func append(_ bytes: [UInt8], type: IndicatorType?, fields: UploadFields = .none) throws(WireError) {
        let result = bytes.withUnsafeBytes { (raw) -> Result<Void, WireError> in
            Result { () throws(WireError) in try append(raw, type: type, fields: fields) }
        }
        try result.get()
    }

    public func makeIterator() -> Iterator { Iterator(bytes: wireBytes) }

    /// Walks the records in order (bounds were checked when they were built or parsed).
    public struct Iterator: IteratorProtocol {
        let bytes: ArraySlice<UInt8>
        var pos: Int

        init(bytes: ArraySlice<UInt8>) {
            self.bytes = bytes
            pos = bytes.startIndex
        }

        public mutating func next() -> UploadRecord? {
            guard pos < bytes.endIndex else { return nil }
            let type = IndicatorType(rawValue: bytes[pos])
            let mask = bytes[pos + 1]
            let length = Int(bytes[pos + 2]) | Int(bytes[pos + 3]) << 8
            pos += WireFormat.recordHeaderBytes
            var fields = UploadFields()
            func u8() -> UInt8 { defer { pos += 1 }; return bytes[pos] }
            func u16() -> UInt16 { UInt16(u8()) | UInt16(u8()) << 8 }
            if mask & UploadFields.Bit.category != 0 { fields.category = ThreatCategory(rawValue: u8()) }
            if mask & UploadFields.Bit.confidence != 0 { fields.confidence = u8() }
            if mask & UploadFields.Bit.tlp != 0 { fields.tlp = TLP(rawValue: u8()) }
            if mask & UploadFields.Bit.action != 0 { fields.action = ActionHint(rawValue: u8()) }
            if mask & UploadFields.Bit.firstSeen != 0 { fields.firstSeenDay = u16() }
            if mask & UploadFields.Bit.lastSeen != 0 { fields.lastSeenDay = u16() }
            if mask & UploadFields.Bit.expires != 0 { fields.expires = UInt32(u16()) | UInt32(u16()) << 16 }
            let value = bytes[pos..<(pos + length)]
            pos += length
            return UploadRecord(type: type, value: value, fields: fields)
        }
    }

    public static func == (a: UploadRecords, b: UploadRecords) -> Bool {
        a.requestID == b.requestID && a.firstIndex == b.firstIndex && a.count == b.count
            && a.wireBytes.elementsEqual(b.wireBytes)
    }
}

/// UPLOAD_COMMIT (0x22), client → hub: every record has been sent; apply the upload.
public struct UploadCommit: Equatable, Sendable {
    public var requestID: UInt64
    /// Must equal UPLOAD_BEGIN's record count and the records sent.
    public var recordCount: UInt32

    public init(requestID: UInt64, recordCount: UInt32) {
        self.requestID = requestID
        self.recordCount = recordCount
    }
}

/// Why the hub refused one record of an upload or one value of a withdrawal (UPLOAD_RESULT,
/// WITHDRAW_RESULT). Codes 1–5 are `ValueRefusal`'s.
public enum RecordRefusal: UInt8, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    case empty = 1
    case tooLong = 2
    case unrecognised = 3
    case invalidValue = 4
    /// The source's policy does not allow this indicator type (or category).
    case typeNotAllowed = 5
    /// The record's expiry is not after the hub's clock.
    case expired = 6
    /// The value looks defanged (`hxxp`, `[.]`) and the upload is not flagged defanged.
    case looksDefanged = 7

    /// Codes 1–5 take `ValueRefusal`'s names, so a value refused in a query and in an upload
    /// for the same reason is named the same.
    public var name: String {
        switch self {
        case .expired: "expired"
        case .looksDefanged: "looks_defanged"
        default: ValueRefusal(rawValue: rawValue)!.name
        }
    }

    public var description: String { name }
}

/// One refused record or value: its index (from 0, upload-wide) and why.
public struct Rejection: Equatable, Hashable, Sendable {
    public var index: UInt32
    public var reason: RecordRefusal

    public init(index: UInt32, reason: RecordRefusal) {
        self.index = index
        self.reason = reason
    }
}

/// UPLOAD_RESULT (0x23), hub → client: the upload is durable (or, flagged `discarded`, a strict
/// upload was refused and nothing was stored). Sent only after UPLOAD_COMMIT.
public struct UploadResult: Equatable, Sendable {
    public var requestID: UInt64
    /// Echoes UPLOAD_BEGIN's.
    public var uploadID: UploadID
    /// The hub's number for the upload (1 to 2^24 − 1); 0 when `discarded`.
    public var uploadNumber: UInt32
    /// This id was applied before (by an earlier attempt): the counts are the first answer's and
    /// nothing was applied twice. The first answer's rejection list is not repeated.
    public var alreadyApplied: Bool
    /// A strict upload had refused records: nothing was stored.
    public var discarded: Bool
    /// New reports stored.
    public var accepted: UInt32
    /// Valid records repeating an earlier record of this upload or a live report of the same
    /// source (never counts what other sources listed).
    public var duplicates: UInt32
    /// Refused records; accepted + duplicates + rejected = the record count.
    public var rejected: UInt32
    /// The first refused records (at most `WireFormat.maxListedRejections`), by index.
    public var rejections: [Rejection]

    public init(requestID: UInt64, uploadID: UploadID, uploadNumber: UInt32, alreadyApplied: Bool = false,
                discarded: Bool = false, accepted: UInt32, duplicates: UInt32, rejected: UInt32,
                rejections: [Rejection] = []) {
        self.requestID = requestID
        self.uploadID = uploadID
        self.uploadNumber = uploadNumber
        self.alreadyApplied = alreadyApplied
        self.discarded = discarded
        self.accepted = accepted
        self.duplicates = duplicates
        self.rejected = rejected
        self.rejections = rejections
    }

    enum Flag {
        static let alreadyApplied: UInt8 = 1 << 0
        static let discarded: UInt8 = 1 << 1
    }
}
