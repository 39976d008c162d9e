public import IndicatorKit

/// What the audit trail keeps of an upload or a withdrawal besides the request members
/// (docs/AUDIT-LOG.md, "Uploads and withdrawals"): ids, numbers, format, flags and counts —
/// never a value, never the digest of a refused record.
public struct FeedAudit: Equatable, Sendable {
    /// A withdrawal's target.
    public enum Target: String, Sendable {
        case values
        case upload
    }

    /// The upload's id (UPLOAD_BEGIN's, or the one a withdrawal by upload names); nil for a
    /// withdrawal by values and for an UPLOAD_BEGIN too malformed to read it from.
    public var uploadID: UploadID?
    /// The hub's number for an applied upload; 0 when nothing was applied.
    public var uploadNumber: UInt32
    /// The feed format's name (`csv`, `list`, …); empty for a withdrawal.
    public var format: String
    /// UPLOAD_BEGIN's flags by name (`defanged`, `strict`).
    public var flags: [String]
    /// A retry answered with the first answer (nothing applied again).
    public var alreadyApplied: Bool
    /// A strict upload with refused records: nothing stored.
    public var discarded: Bool
    /// Upload: records stored as new reports / merged duplicates / refused.
    public var accepted: Int
    public var duplicates: Int
    public var rejected: Int
    /// Withdrawal: its target and reports withdrawn / values without a live report of the source.
    public var target: Target?
    public var withdrawn: Int
    public var notFound: Int

    /// An upload's details.
    public static func upload(id: UploadID?, number: UInt32 = 0, format: String, flags: [String],
                              alreadyApplied: Bool = false, discarded: Bool = false, accepted: Int = 0,
                              duplicates: Int = 0, rejected: Int = 0) -> FeedAudit {
        FeedAudit(uploadID: id, uploadNumber: number, format: format, flags: flags, alreadyApplied: alreadyApplied,
                  discarded: discarded, accepted: accepted, duplicates: duplicates, rejected: rejected, target: nil,
                  withdrawn: 0, notFound: 0)
    }

    /// A withdrawal's details (`rejected`: values refused as no indicator).
    public static func withdraw(target: Target, uploadID: UploadID? = nil, withdrawn: Int = 0, notFound: Int = 0,
                                rejected: Int = 0) -> FeedAudit {
        FeedAudit(uploadID: uploadID, uploadNumber: 0, format: "", flags: [], alreadyApplied: false, discarded: false,
                  accepted: 0, duplicates: 0, rejected: rejected, target: target, withdrawn: withdrawn, notFound: notFound)
    }

    /// Appends the member (`,"upload":{…}` or `,"withdraw":{…}`), after `latency_us`.
    func append(to out: inout [UInt8]) {
        if let target {
            AuditBytes.key("withdraw", to: &out)
            out.append(UInt8(ascii: "{"))
            AuditBytes.key("target", first: true, to: &out)
            AuditBytes.appendString(target.rawValue, to: &out)
            AuditBytes.key("upload_id", to: &out)
            AuditBytes.appendString(uploadID?.hex ?? "", to: &out)
            AuditBytes.key("withdrawn", to: &out)
            AuditBytes.appendDecimal(UInt64(max(0, withdrawn)), to: &out)
            AuditBytes.key("not_found", to: &out)
            AuditBytes.appendDecimal(UInt64(max(0, notFound)), to: &out)
            AuditBytes.key("refused", to: &out)
            AuditBytes.appendDecimal(UInt64(max(0, rejected)), to: &out)
            out.append(UInt8(ascii: "}"))
            return
        }
        AuditBytes.key("upload", to: &out)
        out.append(UInt8(ascii: "{"))
        AuditBytes.key("upload_id", first: true, to: &out)
        AuditBytes.appendString(uploadID?.hex ?? "", to: &out)
        AuditBytes.key("upload_number", to: &out)
        AuditBytes.appendDecimal(UInt64(uploadNumber), to: &out)
        AuditBytes.key("format", to: &out)
        AuditBytes.appendString(format, to: &out)
        AuditBytes.key("flags", to: &out)
        out.append(UInt8(ascii: "["))
        for (index, flag) in flags.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            AuditBytes.appendString(flag, to: &out)
        }
        out.append(UInt8(ascii: "]"))
        AuditBytes.key("already_applied", to: &out)
        out.append(contentsOf: alreadyApplied ? Array("true".utf8) : Array("false".utf8))
        AuditBytes.key("discarded", to: &out)
        out.append(contentsOf: discarded ? Array("true".utf8) : Array("false".utf8))
        AuditBytes.key("accepted", to: &out)
        AuditBytes.appendDecimal(UInt64(max(0, accepted)), to: &out)
        AuditBytes.key("duplicates", to: &out)
        AuditBytes.appendDecimal(UInt64(max(0, duplicates)), to: &out)
        AuditBytes.key("rejected", to: &out)
        AuditBytes.appendDecimal(UInt64(max(0, rejected)), to: &out)
        out.append(UInt8(ascii: "}"))
    }
}
