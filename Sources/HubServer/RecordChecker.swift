import FeedFormats
import HubPolicy
import HubWire
import IndicatorKit
import IndicatorStore

/// Turns one upload record or withdrawal value into a keyed digest, in memory, as `ihub
/// ingest` does for a feed line (`FeedDigester`): defanged markers (refanged when the upload
/// says it is defanged, refused otherwise), canonicalisation (type 0 = detect), URLs whose host
/// is no host name refused, then the source's policy and defaults (docs/POLICY.md, "Uploads").
/// The raw value is never copied out of the frame; the scratch buffers that held canonical
/// forms are wiped when the checker is released. One per session (not thread-safe).
final class RecordChecker {
    let key: DigestKey
    private let scratch: UnsafeMutableBufferPointer<UInt8>
    private let refanged: UnsafeMutableBufferPointer<UInt8>

    init(key: DigestKey) {
        self.key = key
        scratch = .allocate(capacity: Canonicalizer.scratchBytes)
        refanged = .allocate(capacity: Canonicalizer.maxInputBytes)
    }

    deinit {
        scratch.update(repeating: 0)
        scratch.deallocate()
        refanged.update(repeating: 0)
        refanged.deallocate()
    }

    /// A value's canonical form and digest, or why it is refused (codes 1–4, and 7 for a
    /// defanged-looking value when `defanged` is false).
    func digest(_ value: ArraySlice<UInt8>, as type: IndicatorType?,
                defanged: Bool) -> Checked<(CanonicalForm, IndicatorDigest)> {
        value.withUnsafeBufferPointer { raw in
            var input = raw
            if Defang.firstMarker(in: raw) != nil {
                guard defanged else { return .refused(.looksDefanged) }
                // Longer than the canonicaliser takes: left as it is and refused as too long.
                if raw.count <= refanged.count { input = Defang.refang(raw, into: refanged) }
            }
            var writer = ByteWriter(scratch)
            let form: CanonicalForm
            do throws(IndicatorError) {
                form = try Canonicalizer.canonicalize(input, as: type, into: &writer)
            } catch {
                return .refused(RecordRefusal(rawValue: ValueRefusal(error).rawValue) ?? .invalidValue)
            }
            if form.type == .url, FeedDigester.implausibleURLHost(writer.written) != nil {
                return .refused(.invalidValue)
            }
            return .ok((form, key.digest(form, canonical: writer.written)))
        }
    }

    /// The report a record becomes under the source's upload policy at `now` (Unix seconds),
    /// or why it is refused: a type or category the policy does not list (`type_not_allowed`),
    /// an expiry not after `now` (`expired`). Absent fields take the policy's defaults; first
    /// and last seen default to the day of the upload.
    static func metadata(of fields: UploadFields, form: CanonicalForm, policy: UploadPolicy,
                         now: Int64) -> Checked<EntryMetadata> {
        let category = fields.category ?? policy.defaults.category
        guard policy.allows(type: form.type, category: category) else { return .refused(.typeNotAllowed) }
        let today = UInt16(clamping: max(0, now) / 86_400)
        let expires = fields.expires ?? policy.defaultExpiry(now: now)
        var metadata = EntryMetadata(
            category: category, confidence: fields.confidence ?? policy.defaults.confidence,
            tlp: fields.tlp ?? policy.defaults.tlp, action: fields.action ?? policy.defaults.action,
            firstSeenDay: fields.firstSeenDay ?? today, lastSeenDay: fields.lastSeenDay ?? today, expires: expires,
            coversSubdomains: form.coversSubdomains)
        if metadata.isExpired(at: UInt32(clamping: now)) { return .refused(.expired) }
        metadata.sourceID = 0  // the live store sets the source
        return .ok(metadata)
    }
}

/// A record checked: its result, or why it is refused.
enum Checked<Value> {
    case ok(Value)
    case refused(RecordRefusal)
}
