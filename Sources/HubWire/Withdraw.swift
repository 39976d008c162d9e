public import IndicatorKit

/// WITHDRAW (0x24), client → hub: the source takes back its own reports, of the listed values
/// or of one earlier upload. Other sources' reports of the same values stay.
public struct WithdrawRequest: Equatable, Sendable {
    public enum Target: Equatable, Sendable {
        /// Values in QUERY form (type 0 = detect), 1 to `WireFormat.maxWithdrawValues`.
        case values(QueryValues)
        /// Every report of the upload this source sent with this id.
        case upload(UploadID)
    }

    public var requestID: UInt64
    /// The source's own reference for the withdrawal (a ticket number); 0–256 bytes. Audited.
    public var reference: String
    public var target: Target

    public init(requestID: UInt64, reference: String = "", target: Target) {
        self.requestID = requestID
        self.reference = reference
        self.target = target
    }

    enum Kind {
        static let values: UInt8 = 1
        static let upload: UInt8 = 2
    }
}

/// WITHDRAW_RESULT (0x25), hub → client: the withdrawal is durable.
public struct WithdrawResult: Equatable, Sendable {
    public var requestID: UInt64
    /// Reports of this source that were live and are now withdrawn.
    public var withdrawn: UInt32
    /// Values this source has no live report of — never listed, listed only by other sources,
    /// already withdrawn or expired: one count, so that the answer says nothing about other
    /// sources.
    public var notFound: UInt32
    /// Values that are no indicator (index and reason); none for a withdrawal by upload.
    public var refusals: [Rejection]

    public init(requestID: UInt64, withdrawn: UInt32, notFound: UInt32, refusals: [Rejection] = []) {
        self.requestID = requestID
        self.withdrawn = withdrawn
        self.notFound = notFound
        self.refusals = refusals
    }
}
