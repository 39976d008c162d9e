import Foundation
import Testing
@testable import HubWire
import IndicatorKit

/// Bytes from `"1d 00 ff"`-style text (whitespace ignored).
func hexBytes(_ text: String) -> [UInt8] {
    let digits = text.filter { !$0.isWhitespace }
    precondition(digits.count % 2 == 0, "odd hex: \(text)")
    var out: [UInt8] = []
    var index = digits.startIndex
    while index < digits.endIndex {
        let next = digits.index(index, offsetBy: 2)
        out.append(UInt8(digits[index..<next], radix: 16)!)
        index = next
    }
    return out
}

/// docs/PROTOCOL.md, read from the source tree (tests run from a checkout).
func protocolDocument() throws -> String {
    let url = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/PROTOCOL.md")
    return try String(contentsOf: url, encoding: .utf8)
}

/// The document's worked examples: every ```hex block, in order, as bytes (the hex pairs before
/// `#` on each line).
func documentExamples() throws -> [[UInt8]] {
    var examples: [[UInt8]] = []
    var current: [UInt8]?
    for line in try protocolDocument().split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix("```hex") { current = []; continue }
        if line.hasPrefix("```"), let bytes = current { examples.append(bytes); current = nil; continue }
        guard current != nil else { continue }
        let data = line.split(separator: "#", maxSplits: 1).first.map(String.init) ?? ""
        current! += hexBytes(data)
    }
    return examples
}

/// Builds frames byte by byte, including ones the encoder refuses to make.
struct RawFrame {
    var length: UInt32?
    var type: UInt8
    var flags: UInt8 = 0
    var reserved: UInt16 = 0
    var requestID: UInt64 = 0
    var payload: [UInt8] = []

    var bytes: [UInt8] {
        var out: [UInt8] = []
        out.appendLE(length ?? UInt32(payload.count))
        out.append(type)
        out.append(flags)
        out.appendLE(reserved)
        out.appendLE(requestID)
        return out + payload
    }
}

extension Array where Element == UInt8 {
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        for shift in stride(from: 0, to: T.bitWidth, by: 8) { append(UInt8(truncatingIfNeeded: value >> shift)) }
    }
}

/// A QUERY payload built field by field, so tests can break any part of it.
struct RawQuery {
    var priority: UInt8 = 0
    var reserved1: UInt8 = 0
    var purpose = Array("payment-screening".utf8)
    var legalBasis = Array("gdpr-6-1-f".utf8)
    var reference = Array("TX-1".utf8)
    var timeZone = Array("Europe/Berlin".utf8)
    var reserved2: UInt16 = 0
    var count: UInt32?
    var values: [(UInt8, [UInt8])] = [(0, Array("192.0.2.1".utf8))]
    var lengthOverride: [UInt16]?

    var payload: [UInt8] {
        var out: [UInt8] = [priority, reserved1]
        let lengths = lengthOverride ?? [purpose, legalBasis, reference, timeZone].map { UInt16($0.count) }
        for length in lengths { out.appendLE(length) }
        out.appendLE(reserved2)
        out.appendLE(count ?? UInt32(values.count))
        out += purpose + legalBasis + reference + timeZone
        for (type, bytes) in values {
            out.append(type)
            out.appendLE(UInt16(truncatingIfNeeded: bytes.count))
            out += bytes
        }
        return out
    }

    func frame(requestID: UInt64 = 1) -> Frame { Frame(type: .query, requestID: requestID, payload: payload) }
}

/// Parses a frame the way a hub does.
func parse(_ frame: Frame, maxBatchValues: Int = WireFormat.maxBatchValues) -> Result<Message, WireError> {
    Result { () throws(WireError) in try Message(frame: frame, maxBatchValues: maxBatchValues) }
}

/// The `WireError` a closure throws, or nil (any other error is recorded as an issue).
func wireError(_ body: () throws -> Void) -> WireError? {
    do {
        try body()
        return nil
    } catch let error as WireError {
        return error
    } catch {
        Issue.record("not a WireError: \(error)")
        return nil
    }
}

let sampleFields = RequestFields(purpose: "payment-screening", legalBasis: "gdpr-6-1-f",
                                 reference: "TX-20250611-0042", priority: .urgent, timeZone: "Europe/Berlin")

/// One message of every type, with a variety of contents.
func sampleMessages() throws -> [Message] {
    var values = QueryValues()
    try values.append("DE89370400440532013000", type: .iban)
    try values.append("192.0.2.44", type: nil)
    try values.append("", type: .domain)
    try values.append([UInt8](repeating: 0x61, count: 5000), type: .url)
    try values.append([0xFF, 0x00, 0xC0], type: .handle)
    let entries = ResultEntries([
        .hit(RevealedFields(category: .muleAccount, confidence: 90, expires: 1_767_225_600, action: .block)),
        .miss, .refused(.empty), .refused(.tooLong),
        .hit(.none), .hit(RevealedFields(expires: 0)), .hit(RevealedFields(category: .c2, action: .monitor)),
    ])
    return [
        .hello(Hello(software: "ihub-client/0.3")),
        .hello(Hello(minVersion: 1, maxVersion: 7, software: String(repeating: "é", count: 128))),
        .welcome(Welcome(reveal: [.category, .expires], maxPayloadBytes: 65_536, maxBatchValues: 500, maxInFlight: 4,
                         idleTimeoutSeconds: 60, allowedTypes: IndicatorTypeSet([.ipv4, .domain, .sha512]),
                         policyVersion: .max, partner: "isp-süd")),
        .ping(Ping(opaque: 0x0102_0304_0506_0708)),
        .pong(Pong(opaque: .max)),
        .error(ErrorMessage(code: .shuttingDown, reason: "")),
        .error(ErrorMessage(requestID: .max, code: .rateLimited, reason: "retry after 250 ms")),
        .error(ErrorMessage(requestID: 9, code: ErrorCode(rawValue: 999), reason: "a future code")),
        .query(QueryBatch(requestID: 1, fields: sampleFields, values: values)),
        .query(QueryBatch(requestID: 2, fields: RequestFields(purpose: "p", legalBasis: "l", reference: "r",
                                                              priority: .critical, timeZone: "+14:00"),
                          values: QueryValues())),
        .result(QueryResult(requestID: 1, entries: entries)),
        .result(QueryResult(requestID: 3, entries: ResultEntries())),
    ] + (try feedMessages())
}

let sampleUploadID = UploadID(hex: "00112233445566778899aabbccddeeff")!

/// Version 2 messages with a variety of contents (every record field, limits, flags).
func feedMessages() throws -> [Message] {
    var chunk = UploadRecords(requestID: 5, firstIndex: 10_000)
    try chunk.append("https://evil.example/login", type: .url,
                     fields: UploadFields(category: .phishing, confidence: 100, tlp: .red, action: .monitor,
                                          firstSeenDay: 20_000, lastSeenDay: .max, expires: .max))
    try chunk.append("", type: nil)
    try chunk.append([UInt8](repeating: 0x61, count: 5000), type: .domain)
    try chunk.append("+4930123456", type: .phone, fields: UploadFields(tlp: .clear, lastSeenDay: 1))
    var values = QueryValues()
    try values.append("DE89370400440532013000", type: .iban)
    try values.append("x", type: nil)
    return [
        .uploadBegin(UploadBegin(requestID: 5, uploadID: sampleUploadID, recordCount: UInt32(WireFormat.maxUploadRecords),
                                 format: .misp, flags: [.defanged, .strict], legalBasis: String(repeating: "ß", count: 128),
                                 reference: "")),
        .uploadBegin(UploadBegin(requestID: .max, uploadID: UploadID.random(), recordCount: 1)),
        .uploadRecords(chunk),
        .uploadCommit(UploadCommit(requestID: 5, recordCount: 0)),
        .uploadResult(UploadResult(requestID: 5, uploadID: sampleUploadID, uploadNumber: WireFormat.maxUploadNumber,
                                   accepted: 1, duplicates: 2, rejected: 3,
                                   rejections: [Rejection(index: 0, reason: .looksDefanged), Rejection(index: 5, reason: .expired)])),
        .uploadResult(UploadResult(requestID: 6, uploadID: sampleUploadID, uploadNumber: 0, discarded: true,
                                   accepted: 0, duplicates: 0, rejected: 1, rejections: [Rejection(index: 0, reason: .empty)])),
        .uploadResult(UploadResult(requestID: 7, uploadID: sampleUploadID, uploadNumber: 1, alreadyApplied: true,
                                   accepted: 1_000_000, duplicates: 0, rejected: 0)),
        .withdraw(WithdrawRequest(requestID: 8, reference: "ticket 7", target: .values(values))),
        .withdraw(WithdrawRequest(requestID: 9, target: .upload(sampleUploadID))),
        .withdrawResult(WithdrawResult(requestID: 8, withdrawn: 0, notFound: 1,
                                       refusals: [Rejection(index: 1, reason: .unrecognised)])),
        .withdrawResult(WithdrawResult(requestID: 9, withdrawn: 70_000, notFound: 0)),
    ]
}

