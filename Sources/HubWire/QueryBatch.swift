public import IndicatorKit

/// QUERY (0x10), client → hub: one batch of values with its structured request fields.
public struct QueryBatch: Equatable, Sendable {
    /// Chosen by the client: non-zero, unique among its requests in flight.
    public var requestID: UInt64
    public var fields: RequestFields
    public var values: QueryValues

    public init(requestID: UInt64, fields: RequestFields, values: QueryValues) {
        self.requestID = requestID
        self.fields = fields
        self.values = values
    }
}

/// One value of a batch: its type byte (nil = let the hub detect) and its raw bytes, a view
/// into the batch's storage (no copy).
public struct QueryValue: Equatable, Sendable {
    public var type: IndicatorType?
    public var bytes: ArraySlice<UInt8>

    public init(type: IndicatorType?, bytes: ArraySlice<UInt8>) {
        self.type = type
        self.bytes = bytes
    }
}

/// The values of a batch, kept in their wire form (per value: type byte, u16 length, bytes) in
/// one buffer. A parsed batch's values are a slice of the frame's payload, so reading a batch
/// of 10,000 values allocates nothing per value; a client appends values to one growing buffer
/// and encoding copies it with one `memcpy`.
///
/// Invariant: `wireBytes` holds exactly `count` well-formed values with type bytes 0–13.
public struct QueryValues: Sequence, Equatable, Sendable {
    public private(set) var count: Int
    /// The values in wire form.
    public private(set) var wireBytes: ArraySlice<UInt8>

    public init() {
        count = 0
        wireBytes = []
    }

    /// Values already checked by the parser.
    init(validated wireBytes: ArraySlice<UInt8>, count: Int) {
        self.wireBytes = wireBytes
        self.count = count
    }

    /// A batch of text values (tests, small clients).
    public init(_ values: [(IndicatorType?, String)]) throws(WireError) {
        self.init()
        for (type, text) in values { try append(text, type: type) }
    }

    public var isEmpty: Bool { count == 0 }

    /// Reserves room for `values` more values of about `averageBytes` each.
    public mutating func reserveCapacity(values: Int, averageBytes: Int) {
        wireBytes.reserveCapacity(wireBytes.count + values * (WireFormat.valueHeaderBytes + averageBytes))
    }

    /// Appends a value. Throws when it is longer than the u16 length can say (65,535 bytes);
    /// values over `WireFormat.maxValueBytes` are sent and refused by the hub per value.
    public mutating func append(_ bytes: UnsafeRawBufferPointer, type: IndicatorType?) throws(WireError) {
        try checkLength(bytes.count)
        appendChecked(bytes, type: type)
    }

    public mutating func append(_ text: String, type: IndicatorType?) throws(WireError) {
        try checkLength(text.utf8.count)
        var text = text
        text.withUTF8 { appendChecked(UnsafeRawBufferPointer($0), type: type) }
    }

    public mutating func append(_ bytes: [UInt8], type: IndicatorType?) throws(WireError) {
        try checkLength(bytes.count)
        bytes.withUnsafeBytes { appendChecked($0, type: type) }
    }

    private func checkLength(_ length: Int) throws(WireError) {
        guard length <= WireFormat.maxEncodableValueBytes else {
            throw .malformedPayload(.query, .outOfRange(.value(count), value: UInt64(length)))
        }
    }

    private mutating func appendChecked(_ bytes: UnsafeRawBufferPointer, type: IndicatorType?) {
        wireBytes.append(type?.rawValue ?? 0)
        wireBytes.append(UInt8(truncatingIfNeeded: bytes.count))
        wireBytes.append(UInt8(truncatingIfNeeded: bytes.count >> 8))
        wireBytes.append(contentsOf: bytes)
        count += 1
    }

    public func makeIterator() -> Iterator { Iterator(bytes: wireBytes) }

    /// Walks the values in order (bounds were checked when the values were built or parsed).
    public struct Iterator: IteratorProtocol {
        let bytes: ArraySlice<UInt8>
        var pos: Int

        init(bytes: ArraySlice<UInt8>) {
            self.bytes = bytes
            self.pos = bytes.startIndex
        }

        public mutating func next() -> QueryValue? {
            guard pos < bytes.endIndex else { return nil }
            let typeByte = bytes[pos]
            let length = Int(bytes[pos + 1]) | Int(bytes[pos + 2]) << 8
            let start = pos + WireFormat.valueHeaderBytes
            pos = start + length
            return QueryValue(type: IndicatorType(rawValue: typeByte), bytes: bytes[start..<pos])
        }
    }

    /// Calls `body` with each value's index, type (nil = detect) and bytes, pointing into the
    /// batch's storage — the hub's hot path: no allocation, no copy. The pointers are valid only
    /// during the call.
    public func forEachValue<E: Error>(
        _ body: (Int, IndicatorType?, UnsafeBufferPointer<UInt8>) throws(E) -> Void
    ) throws(E) {
        try wireBytes.withUnsafeBufferPointer { (buffer) throws(E) in
            var pos = 0
            for index in 0..<count {
                let typeByte = buffer[pos]
                let length = Int(buffer[pos + 1]) | Int(buffer[pos + 2]) << 8
                let start = pos + WireFormat.valueHeaderBytes
                precondition(length <= buffer.count - start, "QueryValues invariant broken")
                try body(index, IndicatorType(rawValue: typeByte), UnsafeBufferPointer(rebasing: buffer[start..<(start + length)]))
                pos = start + length
            }
        }
    }

    public static func == (a: QueryValues, b: QueryValues) -> Bool {
        a.count == b.count && a.wireBytes.elementsEqual(b.wireBytes)
    }
}
