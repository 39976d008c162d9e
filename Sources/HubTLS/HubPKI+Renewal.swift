import Glibc

/// One certificate a revocation command put on (or found on) the revocation list.
public struct PartnerRevocation: Sendable, Equatable {
    public let kind: PartnerCertificate.Kind
    public let revocation: Revocation
    /// False when the certificate was already revoked.
    public let added: Bool
}

/// What `HubPKI.renewPartner` did.
public struct PartnerRenewal: Sendable, Equatable {
    /// The new certificate, now `partners/NAME.crt`.
    public let current: PartnerCertificate
    /// The replaced certificate, now `partners/NAME.previous.crt`, still valid.
    public let previous: PartnerCertificate
    /// A certificate left `pending` by an interrupted renewal, revoked before this one began.
    public let abandoned: [PartnerRevocation]
}

/// Renewal and revocation of a partner's certificates (docs/PKI.md, "Renewal"). A partner has
/// up to three recorded certificates in `tls/partners/`: `NAME.crt` (current),
/// `NAME.previous.crt` (the one a renewal replaced, valid until revoked) and, only after a crash
/// in the middle of a renewal, `NAME.pending.crt`. Every operation here holds the PKI lock, so a
/// pending file seen under the lock belongs to no running renewal.
extension HubPKI {
    func previousCertificatePath(_ name: String) -> String { partnersDirectory + "/" + name + ".previous.crt" }
    func pendingCertificatePath(_ name: String) -> String { partnersDirectory + "/" + name + ".pending.crt" }

    func recordPath(_ name: String, _ kind: PartnerCertificate.Kind) -> String {
        switch kind {
        case .current: partnerCertificatePath(name)
        case .previous: previousCertificatePath(name)
        case .pending: pendingCertificatePath(name)
        }
    }

    /// A partner's recorded certificates as the files are now. A previous file that holds the
    /// current certificate (a renewal stopped between its two renames) is not a certificate of
    /// its own and is left out.
    struct Records {
        var current: Certificate?
        var previous: Certificate?
        var pending: Certificate?
        /// The previous file exists but repeats the current certificate.
        var previousRepeatsCurrent = false

        var all: [(PartnerCertificate.Kind, Certificate)] {
            [(.current, current), (.previous, previous), (.pending, pending)].compactMap { kind, certificate in
                certificate.map { (kind, $0) }
            }
        }
    }

    func records(_ name: String) throws(PKIError) -> Records {
        var records = Records()
        for kind in [PartnerCertificate.Kind.current, .previous, .pending] {
            let path = recordPath(name, kind)
            guard Files.exists(path) else { continue }
            let certificate = try Certificate.load(path)
            switch kind {
            case .current: records.current = certificate
            case .pending: records.pending = certificate
            case .previous:
                if let current = records.current, current.fingerprint == certificate.fingerprint {
                    records.previousRepeatsCurrent = true
                } else {
                    records.previous = certificate
                }
            }
        }
        return records
    }

    /// Adds `certificate` to `list` unless it is there already.
    private func revoke(_ certificate: Certificate, kind: PartnerCertificate.Kind, name: String, now: Int64,
                        in list: inout RevocationList) -> PartnerRevocation {
        if let existing = list.revocation(of: certificate) {
            return PartnerRevocation(kind: kind, revocation: existing, added: false)
        }
        let entry = Revocation(serial: certificate.serial, fingerprintHex: Hex.encode(certificate.fingerprint),
                               revokedAt: now, partner: name)
        list.append(entry)
        return PartnerRevocation(kind: kind, revocation: entry, added: true)
    }

    /// Puts `certificates` on the revocation list (those not on it yet) and writes the list once
    /// if any was added; call under the lock. One entry per certificate, in order.
    private func revokeAndRecord(_ certificates: [(PartnerCertificate.Kind, Certificate)], name: String,
                                 now: Int64) throws(PKIError) -> [PartnerRevocation] {
        var list = try revocations()
        let results = certificates.map { kind, certificate in revoke(certificate, kind: kind, name: name, now: now, in: &list) }
        if results.contains(where: \.added) { try Files.writeAtomically(revokedPath, list.encoded(), mode: 0o644) }
        return results
    }

    /// Removes a record file whose certificate is revoked (or repeated), durably.
    private func removeRecord(_ path: String) throws(PKIError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw .system(operation: "unlink", path: path, errno: errno) }
        try Files.syncDirectory(partnersDirectory)
    }

    /// Clears what an interrupted renewal left (call under the lock): a pending certificate is
    /// revoked (its key may have reached an identity directory) and then its file removed; a
    /// previous file repeating the current certificate is removed.
    private func clearInterruptedRenewal(_ name: String, _ records: inout Records, now: Int64) throws(PKIError) -> [PartnerRevocation] {
        var revoked: [PartnerRevocation] = []
        if let pending = records.pending {
            revoked += try revokeAndRecord([(.pending, pending)], name: name, now: now)
            try removeRecord(pendingCertificatePath(name))
            records.pending = nil
        }
        if records.previousRepeatsCurrent {
            try removeRecord(previousCertificatePath(name))
            records.previousRepeatsCurrent = false
        }
        return revoked
    }

    /// Adds the partner's current certificate to the revocation list, and its previous and
    /// pending ones when there are: a revocation is how a leaked key is cut off, and the
    /// partner may hold more than one valid key after a renewal. Idempotent: revoking a revoked
    /// partner returns the existing entries with `added == false`. The previous and pending
    /// files are removed once the list is durable (the list keeps serial and fingerprint).
    /// The first element is the current certificate's. Servers see the list in the next
    /// context they make (`serverContext()`), so it applies from the next handshake.
    public func revokePartnerCertificates(name: String, now: Int64? = nil) throws(PKIError) -> [PartnerRevocation] {
        guard PartnerName.isValid(name) else { throw .badPartnerName(name) }
        let now = now ?? Files.now()
        return try Files.withLock(lockPath) { () throws(PKIError) -> [PartnerRevocation] in
            let records = try records(name)
            guard records.current != nil else { throw .unknownPartner(name: name) }
            let results = try revokeAndRecord(records.all, name: name, now: now)
            if records.previous != nil || records.previousRepeatsCurrent { try removeRecord(previousCertificatePath(name)) }
            if records.pending != nil { try removeRecord(pendingCertificatePath(name)) }
            return results
        }
    }

    /// `revokePartnerCertificates(name:now:)`, returning the current certificate's entry.
    public func revokePartner(name: String, now: Int64? = nil) throws(PKIError) -> (revocation: Revocation, added: Bool) {
        let current = try revokePartnerCertificates(name: name, now: now)[0]
        return (current.revocation, current.added)
    }

    /// Revokes the partner's previous certificate (after the partner switched to the renewed
    /// one), then removes `partners/NAME.previous.crt`. A crash between the two leaves a
    /// revoked previous file, which the next call (or renewal) removes or replaces.
    public func revokePreviousPartnerCertificate(name: String, now: Int64? = nil) throws(PKIError) -> PartnerRevocation {
        guard PartnerName.isValid(name) else { throw .badPartnerName(name) }
        let now = now ?? Files.now()
        return try Files.withLock(lockPath) { () throws(PKIError) -> PartnerRevocation in
            var records = try records(name)
            guard records.current != nil else { throw .unknownPartner(name: name) }
            _ = try clearInterruptedRenewal(name, &records, now: now)
            guard let previous = records.previous else { throw .noPreviousCertificate(name: name) }
            let result = try revokeAndRecord([(.previous, previous)], name: name, now: now)[0]
            try removeRecord(previousCertificatePath(name))
            return result
        }
    }

    /// Issues `name` a new key and certificate (same name and role, a new serial, valid for
    /// `days`) into `identityDirectory`, and makes it the current one, while the replaced
    /// certificate stays valid as `partners/NAME.previous.crt` until the partner switched and
    /// the operator revokes it (`revokePreviousPartnerCertificate`).
    ///
    /// Order, all under the PKI lock, so that a crash never leaves a valid certificate the hub
    /// has no record of: the serial is advanced durably; the new certificate is recorded as
    /// `NAME.pending.crt`; the identity directory is written; the current certificate is copied
    /// to `NAME.previous.crt`; `NAME.pending.crt` is renamed over `NAME.crt`. A crash before the
    /// rename leaves a pending certificate that the next renew or revoke of `name` revokes (and
    /// a previous file repeating the current one, which is dropped). A failure writing the
    /// identity directory revokes the pending certificate at once.
    ///
    /// Refuses when `name` has no current certificate or a revoked one (issue with
    /// `issuePartner`), when it still has a previous certificate that is not revoked (only one
    /// previous: nothing valid is ever forgotten), or when `identityDirectory` holds a `partner.key`.
    public func renewPartner(name: String, days: Int = HubPKI.defaultPartnerValidityDays,
                             identityDirectory: String, now: Int64? = nil) throws(PKIError) -> PartnerRenewal {
        guard PartnerName.isValid(name) else { throw .badPartnerName(name) }
        guard (1...36500).contains(days) else { throw .badValidity(days: days) }
        let keyPath = identityDirectory + "/partner.key"
        guard !Files.exists(keyPath) else { throw .identityExists(path: keyPath) }
        let now = now ?? Files.now()

        return try Files.withLock(lockPath) { () throws(PKIError) -> PartnerRenewal in
            var records = try records(name)
            guard let current = records.current else { throw .nothingToRenew(name: name, revokedSerial: nil) }
            let revoked = try revocations()
            if revoked.revocation(of: current) != nil {
                throw .nothingToRenew(name: name, revokedSerial: current.serial)
            }
            if let previous = records.previous,
               revoked.revocation(of: previous) == nil {
                throw .previousStillValid(name: name, serial: previous.serial)
            }
            let abandoned = try clearInterruptedRenewal(name, &records, now: now)
            let old = try Self.describe(current, path: partnerCertificatePath(name), revocation: nil, kind: .previous)
            try Files.makeDirectory(identityDirectory, mode: 0o700, allowExisting: true)

            let (certificate, key) = try issueClientCertificate(name: name, role: old.identity.role, days: days, now: now)
            let pending = pendingCertificatePath(name)
            try Files.writeAtomically(pending, try certificate.pem(), mode: 0o644)
            do throws(PKIError) {
                try writeIdentity(key: key, certificate: certificate, to: identityDirectory)
            } catch {
                _ = try revokeAndRecord([(.pending, certificate)], name: name, now: now)
                try removeRecord(pending)
                throw error
            }
            try Files.writeAtomically(previousCertificatePath(name), try current.pem(), mode: 0o644)
            guard rename(pending, partnerCertificatePath(name)) == 0 else {
                throw .system(operation: "rename", path: partnerCertificatePath(name), errno: errno)
            }
            try Files.syncDirectory(partnersDirectory)
            return PartnerRenewal(current: try Self.describe(certificate, path: partnerCertificatePath(name), revocation: nil),
                                  previous: old, abandoned: abandoned)
        }
    }

    /// Whole days from `now` until `notAfter`, rounded up while time is left (a certificate
    /// issued for 10 days has 10 left), and the whole days since then (negative) after.
    public static func daysLeft(until notAfter: Int64, now: Int64) -> Int {
        let seconds = notAfter - now
        return Int(seconds > 0 ? (seconds + 86_399) / 86_400 : -((-seconds) / 86_400))
    }
}
