import IndicatorKit

/// The request fields a connection sent last, as bytes and as the checked `String`s built
/// from them. A partner sends the same purpose, legal basis and time zone (often the same
/// reference too) in batch after batch: a field whose bytes equal the previous batch's was
/// checked then (docs/PROTOCOL.md, QUERY step 5) and reuses its `String`, so decoding a QUERY
/// neither re-validates its UTF-8 nor allocates for it. One per connection; the checks of a
/// field that differs run as before, in the document's order, so the first error is the same.
public struct QueryFieldCache: Sendable {
    /// Per field (purpose, legal basis, reference, time zone): the last accepted bytes.
    private var bytes: [[UInt8]] = [[], [], [], []]
    private var texts: [String] = ["", "", "", ""]

    public init() {}

    /// The checked text of field `index` whose bytes are `view`: the cached one when the
    /// bytes are the same, else checked by `TextRules` and remembered.
    mutating func text(_ index: Int, _ view: UnsafeRawBufferPointer, _ field: RequestField) throws(WireError) -> String {
        let same = bytes[index].withUnsafeBytes { cached in
            cached.count == view.count && (view.count == 0 || memcmpEqual(cached, view))
        }
        if same && !view.isEmpty { return texts[index] }
        try TextRules.checkRequestField(UnsafeRawBufferPointer(view), field)
        let text = String(decoding: view, as: UTF8.self)
        bytes[index] = Array(view)
        texts[index] = text
        return text
    }

    private func memcmpEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        for index in 0..<a.count where a[index] != b[index] { return false }
        return true
    }
}

extension QueryBatch {
    /// Decodes a QUERY frame exactly as `Message(frame:maxBatchValues:)` does (same checks,
    /// same order, same errors), reusing the request fields' strings from `fieldCache` when
    /// their bytes repeat the connection's previous batch (the hub's hot path).
    public init(frame: Frame, maxBatchValues: Int, fieldCache: inout QueryFieldCache) throws(WireError) {
        precondition(frame.type == .query, "QueryBatch(frame:) needs a QUERY frame")
        try FrameHeader.checkRequestID(frame.requestID, for: .query)
        let payload = frame.payload
        self = try payload.withUnsafeBufferPointer { (buffer) throws(WireError) -> QueryBatch in
            var reader = PayloadReader(UnsafeRawBufferPointer(buffer), type: .query)
            return try QueryBatch.parse(&reader, payload: payload, requestID: frame.requestID,
                                        maxBatchValues: maxBatchValues, cache: &fieldCache)
        }
    }
}
