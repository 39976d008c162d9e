import Foundation
import HubAudit
import HubClient
import HubServer
import HubWire
import IndicatorKit
import IndicatorStore
import Testing

// Support for the upload and withdrawal tests: CERT sources with upload policies next to the
// end-to-end hub's banks, and helpers to push and to look values up in the server's live store.

enum Source {
    /// May upload ipv4, ipv6, domain, url of phishing/malware/c2/botnet; requires a legal
    /// basis; at most 1000 records; may withdraw.
    static let a = "cert-a"
    /// Same rights as `a`: a second source.
    static let b = "cert-b"
    /// A cert whose policy has no upload section.
    static let noUpload = "cert-noupload"
    /// May upload but not withdraw.
    static let noWithdraw = "cert-nowithdraw"

    static let defaultTTLDays = 30

    /// The policy of a source; `upload` is the `upload` section's JSON (nil: none).
    static func policy(_ name: String, upload: String?) -> String {
        """
        {
          "partner": "\(name)", "role": "cert", "version": 1,
          "types": ["ipv4", "domain", "url", "iban"],
          "categories": ["phishing", "malware", "c2", "botnet", "fraud"],
          "purposes": ["incident-response"], "legal_bases": ["nis2-art-11"],
          "max_batch": 100, "rate": { "per_second": 1000000, "burst": 1000000 }, "daily_quota": 100000000,
          "tlp_ceiling": "red", "priorities": ["routine"]\(upload.map { ",\n  \"upload\": " + $0 } ?? "")
        }
        """
    }

    static func uploadSection(withdraw: Bool = true) -> String {
        """
        {
            "types": ["ipv4", "ipv6", "domain", "url"],
            "categories": ["phishing", "malware", "c2", "botnet"],
            "defaults": { "category": "malware", "confidence": 70, "tlp": "amber", "action": "block", "ttl_days": \(defaultTTLDays) },
            "required_fields": ["legal_basis"],
            "max_records": 1000,
            "withdraw": \(withdraw)
          }
        """
    }

    static let all: [(name: String, policy: String?)] = [
        (a, policy(a, upload: uploadSection())),
        (b, policy(b, upload: uploadSection())),
        (noUpload, policy(noUpload, upload: nil)),
        (noWithdraw, policy(noWithdraw, upload: uploadSection(withdraw: false))),
    ]
}

extension EndToEndHub {
    /// The end-to-end hub with the upload sources.
    static func withSources(limits: SessionLimits = testLimits(), auditSync: AuditLog.SyncMode = .standard,
                            metricsInterval: Double? = nil, memory: StoreMemory = .map) throws -> EndToEndHub {
        try EndToEndHub(limits: limits, sources: Source.all, auditSync: auditSync, metricsInterval: metricsInterval,
                        memory: memory)
    }

    /// What the live store answers for `value` now (type detected), or nil.
    func lookup(_ value: String, as type: IndicatorType? = nil) throws -> EntryMetadata? {
        let (form, bytes) = try Canonicalizer.canonical(value, as: type)
        let digest = bytes.withUnsafeBufferPointer { key.digest(form, canonical: $0) }
        return server.live.lookup(digest: digest, now: UInt32(Date().timeIntervalSince1970))
    }

    /// Pushes `records` as `source` (one connection) and returns the outcome.
    func push(_ source: String, _ records: [PushRecord], id: UploadID = .random(), flags: UploadFlags = [],
              legalBasis: String = "nis2-art-11", reference: String = "CERT-2026-0815") throws -> PushOutcome {
        let client = try self.client(source)
        defer { client.close() }
        return try client.push(records: records, format: .csv, uploadID: id, flags: flags, legalBasis: legalBasis,
                               reference: reference)
    }

    func withdraw(_ source: String, values: [String]) throws -> WithdrawOutcome {
        let client = try self.client(source)
        defer { client.close() }
        return try client.withdraw(values: values, reference: "W-1")
    }

    func withdraw(_ source: String, upload id: UploadID) throws -> WithdrawOutcome {
        let client = try self.client(source)
        defer { client.close() }
        return try client.withdraw(uploadID: id, reference: "W-2")
    }
}

extension PushOutcome {
    var result: UploadResult? {
        if case .answered(let result) = self { return result }
        return nil
    }

    var refusalCode: ErrorCode? {
        if case .refused(let code, _) = self { return code }
        return nil
    }
}

extension WithdrawOutcome {
    var result: WithdrawResult? {
        if case .answered(let result) = self { return result }
        return nil
    }

    var refusalCode: ErrorCode? {
        if case .refused(let code, _) = self { return code }
        return nil
    }
}

/// Frames of one upload built by hand (for the order-rule tests).
enum UploadFrames {
    static func begin(_ requestID: UInt64, id: UploadID = .random(), count: UInt32, flags: UploadFlags = []) throws -> [UInt8] {
        try Message.uploadBegin(UploadBegin(requestID: requestID, uploadID: id, recordCount: count, format: .list,
                                            flags: flags, legalBasis: "nis2-art-11", reference: "R-1")).encoded()
    }

    static func records(_ requestID: UInt64, first: UInt32, _ values: [String]) throws -> [UInt8] {
        var chunk = UploadRecords(requestID: requestID, firstIndex: first)
        for value in values { try chunk.append(value, type: nil) }
        return try Message.uploadRecords(chunk).encoded()
    }

    static func commit(_ requestID: UInt64, count: UInt32) throws -> [UInt8] {
        try Message.uploadCommit(UploadCommit(requestID: requestID, recordCount: count)).encoded()
    }
}
