/// Everything that can be wrong with bytes received (or about to be sent) on a connection.
/// Each case maps to one `ErrorCode` (`code`), and its `description` is the ERROR reason a hub
/// sends: it names the message, field, value index or limit concerned.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    // MARK: Frame header (connection-level)

    /// The header's payload length is over the receiver's current limit.
    case frameTooLarge(length: Int, limit: Int)
    /// The stream ended inside a frame: `received` of `expected` frame bytes (header included;
    /// `expected` is the header size while the header itself is incomplete).
    case truncatedFrame(received: Int, expected: Int)
    /// The type byte is not a message of protocol version 1 (reserved ranges included).
    case unknownMessageType(UInt8)
    /// The header's flags or reserved bytes are not zero.
    case nonZeroHeaderBits(flags: UInt8, reserved: UInt16)
    /// HELLO, WELCOME, PING, PONG (or a connection-level ERROR) with a request id.
    case requestIDMustBeZero(MessageType, requestID: UInt64)
    /// QUERY, RESULT (or a request-level ERROR) with request id 0.
    case requestIDRequired(MessageType)

    // MARK: Payloads

    /// A payload that breaks its message's layout. Request-level for a QUERY, UPLOAD_BEGIN,
    /// UPLOAD_RECORDS or WITHDRAW (`malformed_request`), connection-level for every other
    /// message (`malformed_payload`).
    case malformedPayload(MessageType, PayloadFault)
    /// A HELLO or WELCOME that does not start with `IHUBWIRE`.
    case badMagic(MessageType)

    // MARK: QUERY contents (request-level)

    /// More values than the limit in force.
    case batchTooLarge(count: Int, limit: Int)
    /// A required request field is empty.
    case missingField(RequestField)
    /// A request field is too long, not UTF-8, has a control character or a bad time zone.
    case invalidField(RequestField, TextFault)
    /// The priority byte is not a `RequestPriority`.
    case invalidPriority(UInt8)
    /// Value `index` (from 0) has a type byte that is neither 0 (detect) nor an `IndicatorType`.
    case unknownIndicatorType(valueIndex: Int, typeByte: UInt8)

    // MARK: Connection state (connection-level)

    /// The client's first frame was not a HELLO.
    case helloRequired(received: MessageType)
    /// The client's and the hub's version ranges do not overlap.
    case unsupportedVersion(clientMin: UInt16, clientMax: UInt16, hubMin: UInt16, hubMax: UInt16)
    /// A message not valid in this direction or state.
    case unexpectedMessage(MessageType, reason: UnexpectedReason)
    /// A QUERY reused the id of a request still in flight.
    case duplicateRequestID(UInt64)
    /// A message type of a later protocol version than the connection's.
    case messageTypeNotInVersion(MessageType, version: UInt16)

    // MARK: Uploads (request-level)

    /// An upload declares (or sends) more records than the limit.
    case uploadTooLarge(records: Int, limit: Int)
    /// UPLOAD_RECORDS or UPLOAD_COMMIT breaks the upload's order or counts, or too many
    /// uploads are open.
    case uploadState(UploadStateFault)

    /// The code an ERROR reporting this carries.
    public var code: ErrorCode {
        switch self {
        case .frameTooLarge: .frameTooLarge
        case .truncatedFrame: .truncatedFrame
        case .unknownMessageType: .unknownMessageType
        case .nonZeroHeaderBits, .requestIDMustBeZero, .requestIDRequired: .malformedFrame
        case .malformedPayload(let type, _): type.malformedPayloadIsRequestLevel ? .malformedRequest : .malformedPayload
        case .badMagic: .badMagic
        case .batchTooLarge: .batchTooLarge
        case .missingField: .missingField
        case .invalidField, .invalidPriority: .invalidField
        case .unknownIndicatorType: .unknownIndicatorType
        case .helloRequired: .helloRequired
        case .unsupportedVersion: .unsupportedVersion
        case .unexpectedMessage: .unexpectedMessage
        case .duplicateRequestID: .duplicateRequestID
        case .messageTypeNotInVersion: .unknownMessageType
        case .uploadTooLarge: .uploadTooLarge
        case .uploadState: .uploadState
        }
    }

    /// Whether the connection must be closed after reporting this.
    public var closesConnection: Bool { code.closesConnection }

    /// The ERROR to send for this error found in a frame with `requestID`: request-level errors
    /// name the request, connection-level ones carry 0. The reason is cut to the wire's limit.
    public func errorMessage(requestID: UInt64) -> ErrorMessage {
        ErrorMessage(requestID: closesConnection ? 0 : requestID, code: code,
                     reason: ErrorMessage.truncatedReason(description))
    }

    public var description: String {
        switch self {
        case .frameTooLarge(let length, let limit):
            "frame payload of \(length) bytes is over the limit of \(limit) bytes"
        case .truncatedFrame(let received, let expected):
            "stream ended inside a frame: \(received) of \(expected) bytes received"
        case .unknownMessageType(let byte):
            if let reserved = MessageType.reservation(of: byte) {
                "message type \(hex(byte)) is reserved for \(reserved), not part of protocol versions 1–2"
            } else {
                "unknown message type \(hex(byte))"
            }
        case .nonZeroHeaderBits(let flags, let reserved):
            "frame header flags (\(hex(flags))) and reserved bytes (\(reserved)) must be zero"
        case .requestIDMustBeZero(let type, let id):
            "\(type) must carry request id 0, not \(id)"
        case .requestIDRequired(let type):
            "\(type) must carry a non-zero request id"
        case .malformedPayload(let type, let fault):
            "malformed \(type) payload: \(fault)"
        case .badMagic(let type):
            "\(type) does not start with IHUBWIRE: the peer does not speak the IndicatorHub protocol"
        case .batchTooLarge(let count, let limit):
            "batch of \(count) values is over the limit of \(limit)"
        case .missingField(let field):
            "\(field) is required"
        case .invalidField(let field, let fault):
            "\(field): \(fault)"
        case .invalidPriority(let byte):
            "priority \(byte) is not routine (0), urgent (1) or critical (2)"
        case .unknownIndicatorType(let index, let byte):
            "value \(index): type \(byte) is not an indicator type of protocol version 1 (0 = detect, 1–13)"
        case .helloRequired(let received):
            "the first message must be HELLO, not \(received)"
        case .unsupportedVersion(let clientMin, let clientMax, let hubMin, let hubMax):
            "no common protocol version: the client speaks \(clientMin)–\(clientMax), the hub \(hubMin)–\(hubMax)"
        case .unexpectedMessage(let type, let reason):
            "unexpected \(type): \(reason)"
        case .duplicateRequestID(let id):
            "request id \(id) is already in flight"
        case .messageTypeNotInVersion(let type, let version):
            "\(type) belongs to protocol version \(type.sinceVersion); this connection speaks version \(version)"
        case .uploadTooLarge(let records, let limit):
            "upload of \(records) records is over the limit of \(limit)"
        case .uploadState(let fault):
            "\(fault)"
        }
    }
}

/// The text fields of a QUERY (and the priority byte), as named in reasons.
public enum RequestField: Sendable, Hashable, CustomStringConvertible {
    case purpose, legalBasis, reference, timeZone, priority

    public var description: String {
        switch self {
        case .purpose: "purpose"
        case .legalBasis: "legal basis"
        case .reference: "reference"
        case .timeZone: "time zone"
        case .priority: "priority"
        }
    }
}

/// What is wrong with a text field.
public enum TextFault: Equatable, Sendable, CustomStringConvertible {
    case empty
    case tooLong(length: Int, limit: Int)
    /// Not well-formed UTF-8 at byte `offset`.
    case invalidUTF8(offset: Int)
    /// A control character (U+0000–U+001F, U+007F) at byte `offset`.
    case controlCharacter(offset: Int)
    /// Neither an IANA-style time zone name nor a `±HH:MM` offset.
    case malformedTimeZone

    public var description: String {
        switch self {
        case .empty: "empty"
        case .tooLong(let length, let limit): "\(length) bytes, longer than \(limit)"
        case .invalidUTF8(let offset): "not UTF-8 (byte \(offset))"
        case .controlCharacter(let offset): "control character at byte \(offset)"
        case .malformedTimeZone: "not a time zone name (Europe/Berlin, UTC) or UTC offset (+01:00)"
        }
    }
}

/// What is wrong with a payload's layout.
public enum PayloadFault: Equatable, Sendable, CustomStringConvertible {
    /// `field` needs `needed` bytes at `offset` and only `available` are left.
    case truncated(WireField, offset: Int, needed: Int, available: Int)
    /// Bytes after the last field.
    case trailingBytes(count: Int)
    /// A reserved byte or bit is not zero.
    case reservedNotZero(WireField)
    /// A field's value is outside its range.
    case outOfRange(WireField, value: UInt64)
    /// A text field (other than a QUERY's request fields) is not acceptable.
    case invalidText(WireField, TextFault)

    public var description: String {
        switch self {
        case .truncated(let field, let offset, let needed, let available):
            "\(field) needs \(needed) bytes at offset \(offset), \(available) left"
        case .trailingBytes(let count): "\(count) bytes after the last field"
        case .reservedNotZero(let field): "\(field) must be zero"
        case .outOfRange(let field, let value): "\(field) \(value) is out of range"
        case .invalidText(let field, let fault): "\(field): \(fault)"
        }
    }
}

/// A field of a payload, for precise reasons. Entry and value indexes count from 0.
public enum WireField: Equatable, Sendable, CustomStringConvertible {
    case magic, minVersion, maxVersion, version, softwareName, revealMask, maxPayload, maxBatchValues
    case maxInFlight, idleTimeout, allowedTypes, policyVersion, partnerName
    case opaqueBytes, errorCode, reason
    case queryHeader, requestFields
    case value(Int)
    case entryCount
    case entry(Int), entryRevealMask(Int), category(Int), confidence(Int), action(Int), refusalCode(Int)
    case entryStatus(Int)
    case uploadID, recordCount, uploadFormat, uploadFlags, legalBasis, reference, firstIndex
    case record(Int), recordFields(Int), recordCategory(Int), recordConfidence(Int), recordTLP(Int), recordAction(Int)
    case uploadNumber, resultFlags, counts, rejection(Int), withdrawKind

    public var description: String {
        switch self {
        case .magic: "magic"
        case .minVersion: "min version"
        case .maxVersion: "max version"
        case .version: "version"
        case .softwareName: "client software name"
        case .revealMask: "reveal mask"
        case .maxPayload: "max payload"
        case .maxBatchValues: "max batch values"
        case .maxInFlight: "max in flight"
        case .idleTimeout: "idle timeout"
        case .allowedTypes: "allowed types"
        case .policyVersion: "policy version"
        case .partnerName: "partner name"
        case .opaqueBytes: "opaque bytes"
        case .errorCode: "error code"
        case .reason: "reason"
        case .queryHeader: "fixed part"
        case .requestFields: "request fields"
        case .value(let i): "value \(i)"
        case .entryCount: "entry count"
        case .entry(let i): "entry \(i)"
        case .entryRevealMask(let i): "entry \(i) reveal mask"
        case .category(let i): "entry \(i) category"
        case .confidence(let i): "entry \(i) confidence"
        case .action(let i): "entry \(i) action"
        case .refusalCode(let i): "entry \(i) refusal code"
        case .entryStatus(let i): "entry \(i) status"
        case .uploadID: "upload id"
        case .recordCount: "record count"
        case .uploadFormat: "format"
        case .uploadFlags: "flags"
        case .legalBasis: "legal basis"
        case .reference: "reference"
        case .firstIndex: "first record index"
        case .record(let i): "record \(i)"
        case .recordFields(let i): "record \(i) field mask"
        case .recordCategory(let i): "record \(i) category"
        case .recordConfidence(let i): "record \(i) confidence"
        case .recordTLP(let i): "record \(i) TLP"
        case .recordAction(let i): "record \(i) action"
        case .uploadNumber: "upload number"
        case .resultFlags: "result flags"
        case .counts: "counts"
        case .rejection(let i): "rejection \(i)"
        case .withdrawKind: "withdrawal kind"
        }
    }
}

/// Why a message is unexpected.
public enum UnexpectedReason: Equatable, Sendable, CustomStringConvertible {
    /// A hub received a message only a hub sends, or a client one only a client sends.
    case wrongDirection
    /// A second HELLO or WELCOME.
    case handshakeRepeated
    /// Anything but WELCOME or ERROR before the handshake completed.
    case beforeWelcome
    /// A RESULT or request-level ERROR for an id not in flight.
    case notInFlight(UInt64)
    /// A RESULT whose entry count differs from its QUERY's value count.
    case countMismatch(expected: Int, received: Int)
    /// UPLOAD_RECORDS or UPLOAD_COMMIT for an id that is no open upload of this connection.
    case notAnOpenUpload(UInt64)
    /// An answer of another kind than the request with this id (an UPLOAD_RESULT for a QUERY),
    /// or an UPLOAD_RESULT before its COMMIT was sent.
    case wrongAnswer(UInt64)

    public var description: String {
        switch self {
        case .wrongDirection: "not sent in this direction"
        case .handshakeRepeated: "the handshake is already complete"
        case .beforeWelcome: "the handshake is not complete"
        case .notInFlight(let id): "request \(id) is not in flight"
        case .countMismatch(let expected, let received): "\(received) entries for a batch of \(expected) values"
        case .notAnOpenUpload(let id): "request \(id) is not an open upload"
        case .wrongAnswer(let id): "not an answer request \(id) can have now"
        }
    }
}

/// What is wrong with an upload's sequence of frames.
public enum UploadStateFault: Equatable, Sendable, CustomStringConvertible {
    /// UPLOAD_BEGIN while `limit` uploads are already open on the connection.
    case tooManyOpen(limit: Int)
    /// UPLOAD_RECORDS whose first index is not the number of records received so far.
    case chunkOutOfOrder(expected: Int, received: Int)
    /// Records beyond UPLOAD_BEGIN's record count.
    case overDeclared(declared: Int, received: Int)
    /// UPLOAD_COMMIT whose count differs from the declared count or the records received.
    case commitMismatch(declared: Int, received: Int, committed: Int)
    /// No UPLOAD_RECORDS or UPLOAD_COMMIT for `WireFormat.uploadIdleTimeout` seconds.
    case timedOut(seconds: Int)
    /// An upload declaring no records.
    case empty

    public var description: String {
        switch self {
        case .tooManyOpen(let limit): "\(limit) upload\(limit == 1 ? " is" : "s are") already open on this connection"
        case .chunkOutOfOrder(let expected, let received):
            "UPLOAD_RECORDS starts at record \(received), expected \(expected)"
        case .overDeclared(let declared, let received):
            "\(received) records received, more than the \(declared) declared"
        case .commitMismatch(let declared, let received, let committed):
            "UPLOAD_COMMIT confirms \(committed) records; \(declared) were declared and \(received) received"
        case .timedOut(let seconds): "no UPLOAD_RECORDS or UPLOAD_COMMIT for \(seconds) s: the upload is discarded"
        case .empty: "an upload must declare at least one record"
        }
    }
}

/// `0x2a` spelling for reasons.
func hex(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef".utf8)
    return "0x" + String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 15)]], as: UTF8.self)
}
