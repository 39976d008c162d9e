public import IndicatorKit

/// One message of the protocol (docs/PROTOCOL.md, "Messages"): what a frame carries once its
/// payload has been parsed (`Message(frame:)`), and what `encode(into:)` turns into a frame.
public enum Message: Equatable, Sendable {
    case hello(Hello)
    case welcome(Welcome)
    case ping(Ping)
    case pong(Pong)
    case error(ErrorMessage)
    case query(QueryBatch)
    case result(QueryResult)
    case uploadBegin(UploadBegin)
    case uploadRecords(UploadRecords)
    case uploadCommit(UploadCommit)
    case uploadResult(UploadResult)
    case withdraw(WithdrawRequest)
    case withdrawResult(WithdrawResult)

    public var type: MessageType {
        switch self {
        case .hello: .hello
        case .welcome: .welcome
        case .ping: .ping
        case .pong: .pong
        case .error: .error
        case .query: .query
        case .result: .result
        case .uploadBegin: .uploadBegin
        case .uploadRecords: .uploadRecords
        case .uploadCommit: .uploadCommit
        case .uploadResult: .uploadResult
        case .withdraw: .withdraw
        case .withdrawResult: .withdrawResult
        }
    }

    /// The frame header's request id: 0 for connection messages.
    public var requestID: UInt64 {
        switch self {
        case .hello, .welcome, .ping, .pong: 0
        case .error(let error): error.requestID
        case .query(let query): query.requestID
        case .result(let result): result.requestID
        case .uploadBegin(let m): m.requestID
        case .uploadRecords(let m): m.requestID
        case .uploadCommit(let m): m.requestID
        case .uploadResult(let m): m.requestID
        case .withdraw(let m): m.requestID
        case .withdrawResult(let m): m.requestID
        }
    }
}

/// HELLO (0x01), client → hub: the versions the client speaks and what software it is.
public struct Hello: Equatable, Sendable {
    public var minVersion: UInt16
    public var maxVersion: UInt16
    /// e.g. `ihub-client/0.3`; 1–256 bytes, logged and audited.
    public var software: String

    public init(minVersion: UInt16 = WireFormat.minVersion, maxVersion: UInt16 = WireFormat.maxVersion,
                software: String) {
        self.minVersion = minVersion
        self.maxVersion = maxVersion
        self.software = software
    }
}

/// WELCOME (0x02), hub → client: the chosen version, the hub's limits for this connection, and
/// who the hub thinks the client is.
public struct Welcome: Equatable, Sendable {
    public var version: UInt16
    /// Which fields RESULT hits may carry for this partner.
    public var reveal: RevealMask
    /// The largest payload the hub accepts from now on (4,096–4,194,304).
    public var maxPayloadBytes: UInt32
    /// 1–10,000.
    public var maxBatchValues: UInt32
    /// 1–65,535.
    public var maxInFlight: UInt32
    /// Seconds, ≥ 1.
    public var idleTimeoutSeconds: UInt32
    /// The indicator types the partner may query.
    public var allowedTypes: IndicatorTypeSet
    /// Changes whenever the partner's policy changes.
    public var policyVersion: UInt64
    /// The partner named by the client certificate; 1–256 bytes.
    public var partner: String

    public init(version: UInt16 = WireFormat.maxVersion, reveal: RevealMask = [],
                maxPayloadBytes: UInt32 = UInt32(WireFormat.maxPayloadBytes),
                maxBatchValues: UInt32 = UInt32(WireFormat.maxBatchValues),
                maxInFlight: UInt32 = UInt32(WireFormat.defaultMaxInFlight),
                idleTimeoutSeconds: UInt32 = UInt32(WireFormat.defaultIdleTimeout),
                allowedTypes: IndicatorTypeSet = .all, policyVersion: UInt64, partner: String) {
        self.version = version
        self.reveal = reveal
        self.maxPayloadBytes = maxPayloadBytes
        self.maxBatchValues = maxBatchValues
        self.maxInFlight = maxInFlight
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.allowedTypes = allowedTypes
        self.policyVersion = policyVersion
        self.partner = partner
    }
}

/// PING (0x03): 8 opaque bytes (held as the little-endian u64 they spell) that the PONG echoes.
public struct Ping: Equatable, Sendable {
    public var opaque: UInt64
    public init(opaque: UInt64) { self.opaque = opaque }
}

/// PONG (0x04): the answer to a PING, with its 8 bytes.
public struct Pong: Equatable, Sendable {
    public var opaque: UInt64
    public init(opaque: UInt64) { self.opaque = opaque }
    public init(answering ping: Ping) { self.opaque = ping.opaque }
}

/// ERROR (0x05): a code and a reason for people. Request id 0 for connection-level codes
/// (1–99), the refused request's id otherwise.
public struct ErrorMessage: Equatable, Sendable {
    public var requestID: UInt64
    public var code: ErrorCode
    /// UTF-8, 0–1,024 bytes, no control characters.
    public var reason: String

    public init(requestID: UInt64 = 0, code: ErrorCode, reason: String) {
        self.requestID = requestID
        self.code = code
        self.reason = reason
    }

    /// `reason` cut at a character boundary to fit `WireFormat.maxReasonBytes`, with control
    /// characters replaced by spaces, so any text can be sent.
    public static func truncatedReason(_ reason: String) -> String {
        var result = ""
        var bytes = 0
        for scalar in reason.unicodeScalars {
            let clean: Unicode.Scalar = (scalar.value < 0x20 || scalar.value == 0x7F) ? " " : scalar
            let width = UTF8.width(clean)
            if bytes + width > WireFormat.maxReasonBytes { break }
            bytes += width
            result.unicodeScalars.append(clean)
        }
        return result
    }
}

/// The metadata fields a RESULT hit may reveal (bit 0 category, 1 confidence, 2 expires,
/// 3 action). Empty is the default: match / no match only.
public struct RevealMask: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let category = RevealMask(rawValue: 1 << 0)
    public static let confidence = RevealMask(rawValue: 1 << 1)
    public static let expires = RevealMask(rawValue: 1 << 2)
    public static let action = RevealMask(rawValue: 1 << 3)
    public static let all: RevealMask = [.category, .confidence, .expires, .action]
}

/// A set of indicator types as the WELCOME's u32 bitmask (bit *t* for `IndicatorType` raw *t*).
public struct IndicatorTypeSet: Hashable, Sendable {
    public private(set) var rawValue: UInt32

    /// Every type of protocol version 1.
    public static let all = IndicatorTypeSet(IndicatorType.allCases)
    public static let validBits: UInt32 = IndicatorTypeSet.all.rawValue

    public init<S: Sequence>(_ types: S) where S.Element == IndicatorType {
        rawValue = 0
        for type in types { rawValue |= 1 << UInt32(type.rawValue) }
    }

    /// nil when a bit is set that is no indicator type of this version.
    public init?(rawValue: UInt32) {
        guard rawValue & ~Self.validBits == 0 else { return nil }
        self.rawValue = rawValue
    }

    public func contains(_ type: IndicatorType) -> Bool { rawValue & (1 << UInt32(type.rawValue)) != 0 }

    public var types: [IndicatorType] { IndicatorType.allCases.filter(contains) }
}
