/// A certificate the hub relies on that expires soon: the hub's server certificate or a
/// partner's certificate that is not revoked. `ihub serve` logs these at start and on reload.
public struct ExpiringCertificate: Sendable, Equatable {
    /// The partner, or nil for the hub's own server certificate (`tls/server.crt`).
    public let partner: String?
    /// Which of the partner's certificates; nil for the server certificate.
    public let kind: PartnerCertificate.Kind?
    public let serial: UInt64
    /// Validity end, `YYYY-MM-DDTHH:MM:SSZ`.
    public let notAfter: String
    /// `HubPKI.daysLeft(until:now:)`: negative once expired.
    public let daysLeft: Int
}

extension HubPKI {
    /// How close to its end a certificate is reported as expiring: 30 days.
    public static let expiryWarningDays = 30

    /// The server certificate and the partners' unrevoked certificates (current, previous,
    /// pending) that end within `days` of `now`, or have ended: the server's first.
    public func expiringCertificates(within days: Int = HubPKI.expiryWarningDays, now: Int64? = nil) throws(PKIError) -> [ExpiringCertificate] {
        let now = now ?? Files.now()
        let limit = now + Int64(days) * 86_400
        var result: [ExpiringCertificate] = []
        let server = try Certificate.load(serverCertificatePath)
        guard let serverEnd = Files.parseTimestamp(server.notAfter) else {
            throw .corrupt(path: serverCertificatePath, line: nil, reason: "notAfter '\(server.notAfter)' is not a valid time")
        }
        if serverEnd <= limit {
            result.append(ExpiringCertificate(partner: nil, kind: nil, serial: server.serial, notAfter: server.notAfter,
                                              daysLeft: Self.daysLeft(until: serverEnd, now: now)))
        }
        for partner in try partners() where partner.revocation == nil && partner.notAfterTime <= limit {
            result.append(ExpiringCertificate(partner: partner.identity.name, kind: partner.kind, serial: partner.identity.serial,
                                              notAfter: partner.identity.notAfter, daysLeft: partner.daysLeft(now: now)))
        }
        return result
    }
}
