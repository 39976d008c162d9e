import Foundation
import HubAudit
import HubPolicy
import HubTLS
import IndicatorKit
import IndicatorStore

/// A fresh temporary directory, removed when the value is released.
final class TempDir: @unchecked Sendable {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("hubserver-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// The listed values of the test store and what they carry.
enum Listed {
    /// fraud, amber: visible to the bank.
    static let iban = "DE89370400440532013000"
    /// phishing, green, with subdomains.
    static let domain = "evil.example"
    /// malware: a category the bank may not see.
    static let hiddenCategory = "malware.example"
    /// fraud but TLP red: above the bank's ceiling.
    static let hiddenTLP = "red.example"
    /// scam, listed as a /24 network.
    static let network = "203.0.113.0/24"
    static let inNetwork = "203.0.113.77"
    /// Valid, not listed.
    static let unlistedIBAN = "GB82WEST12345698765432"

    static let entries: [(String, IndicatorType, EntryMetadata)] = [
        (iban, .iban, EntryMetadata(category: .fraud, confidence: 90, tlp: .amber, action: .block, sourceID: 1, expires: 0)),
        (domain, .domain, EntryMetadata(category: .phishing, confidence: 70, tlp: .green, action: .warn, sourceID: 2,
                                        coversSubdomains: true)),
        (hiddenCategory, .domain, EntryMetadata(category: .malware, confidence: 80, tlp: .clear, sourceID: 3)),
        (hiddenTLP, .domain, EntryMetadata(category: .fraud, confidence: 80, tlp: .red, sourceID: 4)),
        (network, .ipv4, EntryMetadata(category: .scam, confidence: 60, tlp: .amber, sourceID: 5)),
    ]

    /// Every raw value the tests send: none may appear in the audit log.
    static let allRaw = [iban, domain, hiddenCategory, hiddenTLP, inNetwork, unlistedIBAN, "sub.evil.example",
                         "203.0.113.77", "CASE-77"]
}

/// A store of `Listed.entries` written with `key` into `path`.
func writeTestStore(key: DigestKey, path: String) throws -> Snapshot {
    var writer = SnapshotWriter(key: key)
    for (value, type, metadata) in Listed.entries {
        let (form, bytes) = try Canonicalizer.canonical(value, as: type)
        writer.add(bytes.withUnsafeBufferPointer { key.digest(form, canonical: $0) }, metadata, form: form)
    }
    _ = try writer.write(to: path)
    return try Snapshot.open(path, key: key, verification: .full)
}

/// The digest the store holds for a listed value.
func listedDigest(_ value: String, _ type: IndicatorType, key: DigestKey) throws -> IndicatorDigest {
    let (form, bytes) = try Canonicalizer.canonical(value, as: type)
    return bytes.withUnsafeBufferPointer { key.digest(form, canonical: $0) }
}

/// Policy files for the tests: `bank` (the main partner), `tight` (rate 1/s burst 5, quota 8),
/// `auditor` (an analyst).
func writeTestPolicies(_ directory: String, bankVersion: Int = 1, bankPurposes: [String] = ["payment-screening"]) throws {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    func quoted(_ items: [String]) -> String { "[" + items.map { "\"\($0)\"" }.joined(separator: ", ") + "]" }
    func partner(_ name: String, version: Int, purposes: [String], rate: String, quota: Int, maxBatch: Int = 100) -> String {
        """
        {
          "partner": "\(name)", "role": "bank", "version": \(version),
          "types": ["iban", "email", "domain", "ipv4", "url"],
          "categories": ["fraud", "phishing", "mule-account", "scam"],
          "purposes": \(quoted(purposes)),
          "legal_bases": ["psd2-art-94"],
          "required_fields": ["purpose", "legal_basis", "reference", "time_zone"],
          "reveal": ["category", "confidence"],
          "max_batch": \(maxBatch),
          "rate": \(rate),
          "daily_quota": \(quota),
          "tlp_ceiling": "amber",
          "priorities": ["routine", "urgent"]
        }
        """
    }
    try partner("bank", version: bankVersion, purposes: bankPurposes, rate: #"{ "per_second": 10000, "burst": 10000 }"#,
                quota: 1_000_000).write(toFile: directory + "/bank.json", atomically: true, encoding: .utf8)
    try partner("tight", version: 1, purposes: ["payment-screening"], rate: #"{ "per_second": 1, "burst": 5 }"#, quota: 8, maxBatch: 5)
        .write(toFile: directory + "/tight.json", atomically: true, encoding: .utf8)
    try #"{ "partner": "auditor", "role": "analyst", "version": 1 }"#
        .write(toFile: directory + "/auditor.json", atomically: true, encoding: .utf8)
}

/// A request form the bank's policy accepts.
func goodFields(reference: String = "CASE-77", purpose: String = "payment-screening",
                priority: RequestPriority = .routine) -> RequestFields {
    RequestFields(purpose: purpose, legalBasis: "psd2-art-94", reference: reference, priority: priority,
                  timeZone: "Europe/Berlin")
}

/// Every byte of every file under `directory`.
func allBytes(under directory: String) -> [UInt8] {
    var bytes: [UInt8] = []
    guard let names = FileManager.default.enumerator(atPath: directory) else { return [] }
    for case let name as String in names {
        if let data = FileManager.default.contents(atPath: directory + "/" + name) { bytes += Array(data) }
    }
    return bytes
}

func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
    let needle = Array(needle.utf8)
    guard !needle.isEmpty, haystack.count >= needle.count else { return false }
    for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
        if Array(haystack[start..<(start + needle.count)]) == needle { return true }
    }
    return false
}
