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

    /// At least the size of the member `write` stores: names and punctuation, 20 digits per
    /// number, 6 bytes per byte of every string (docs/AUDIT-LOG.md's escaping).
    var bodyBound: Int {
        var texts = format.utf8.count + 32
        for flag in flags { texts += flag.utf8.count + 3 }
        return 256 + 6 * texts
    }

    /// Stores the member (`,"upload":{…}` or `,"withdraw":{…}`), after `latency_us`.
    func write(to out: inout AuditBodyWriter) {
        if let target {
            out.key("withdraw")
            out.byte(UInt8(ascii: "{"))
            out.member("target", target.rawValue, first: true)
            out.member("upload_id", uploadID?.hex ?? "")
            out.member("withdrawn", count: withdrawn)
            out.member("not_found", count: notFound)
            out.member("refused", count: rejected)
            out.byte(UInt8(ascii: "}"))
            return
        }
        out.key("upload")
        out.byte(UInt8(ascii: "{"))
        out.member("upload_id", uploadID?.hex ?? "", first: true)
        out.member("upload_number", UInt64(uploadNumber))
        out.member("format", format)
        out.key("flags")
        out.byte(UInt8(ascii: "["))
        for (index, flag) in flags.enumerated() {
            if index > 0 { out.byte(UInt8(ascii: ",")) }
            out.string(flag)
        }
        out.byte(UInt8(ascii: "]"))
        out.member("already_applied", alreadyApplied)
        out.member("discarded", discarded)
        out.member("accepted", count: accepted)
        out.member("duplicates", count: duplicates)
        out.member("rejected", count: rejected)
        out.byte(UInt8(ascii: "}"))
    }
}
