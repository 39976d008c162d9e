import Foundation
import Glibc
import HubAudit
import HubClient
import HubPOSIX
import HubServer
import HubWire
import IndicatorKit
import IndicatorStore

/// `ihub demo`, steps 6–14: a bank, an ISP and a CERT become partners, the hub serves them over
/// mutual TLS on loopback, the bank and the ISP screen values within their policies, one
/// out-of-policy request is refused, the CERT pushes and withdraws (DemoCommand+Feeds.swift),
/// the hub shuts down cleanly and the audit trail is summarised and verified.
/// Every step checks its outcome; a surprise is a `DemoFailure` (the demo exits 1).
extension DemoCommand {
    struct DemoFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// One screening question and the answer the sample feed must give.
    struct Screening {
        var value: String
        var hit: Bool
    }

    static let bank = "demo-bank"
    static let isp = "demo-isp"

    /// A bank screening outgoing payments: beneficiary IBANs, shop domains and payment links.
    static let bankPolicy = """
        {
          "partner": "demo-bank",
          "role": "bank",
          "version": 1,
          "comment": "Demo bank: screens payment beneficiaries (IBAN) and payment links.",
          "types": ["iban", "domain", "url"],
          "categories": ["fraud", "mule-account", "scam", "phishing"],
          "purposes": ["fraud-screening"],
          "legal_bases": ["psd2-art-94", "gdpr-6-1-f"],
          "required_fields": ["purpose", "legal_basis", "reference", "time_zone"],
          "reveal": ["category", "confidence"],
          "max_batch": 100,
          "rate": { "per_second": 200, "burst": 1000 },
          "daily_quota": 100000,
          "tlp_ceiling": "amber",
          "priorities": ["routine", "urgent"]
        }

        """

    /// An ISP protecting its network: addresses, domains and URLs seen in traffic.
    static let ispPolicy = """
        {
          "partner": "demo-isp",
          "role": "isp",
          "version": 1,
          "comment": "Demo ISP: checks addresses, domains and URLs seen in its traffic.",
          "types": ["ipv4", "domain", "url"],
          "categories": ["fraud", "malware", "phishing", "botnet", "c2"],
          "purposes": ["network-protection"],
          "legal_bases": ["nis2-art-21"],
          "required_fields": ["purpose", "legal_basis", "time_zone"],
          "reveal": ["action"],
          "max_batch": 10000,
          "rate": { "per_second": 500000, "burst": 2000000 },
          "daily_quota": 1000000000,
          "tlp_ceiling": "amber",
          "priorities": ["routine"]
        }

        """

    static let bankScreening = [
        Screening(value: "DE89 3704 0044 0532 0130 00", hit: true),          // a listed mule account
        Screening(value: "DE44 5001 0517 5407 3249 31", hit: false),         // a valid, unlisted IBAN
        Screening(value: "phish-login.example", hit: true),
        Screening(value: "harmless-bakery.example", hit: false),
        Screening(value: "HTTP://Evil-Shop.example:80/pay/./now.php?id=7", hit: true),
    ]

    static let ispScreening = [
        Screening(value: "192.0.2.44", hit: true),
        Screening(value: "198.51.100.77", hit: true),                        // inside a listed /24
        Screening(value: "203.0.113.9", hit: false),
        Screening(value: "cdn7.eu.malware-cdn.example", hit: true),         // under *.malware-cdn.example
        Screening(value: "example.org", hit: false),
        Screening(value: "http://evil-shop.example/pay/now.php?id=7", hit: true),
    ]

    /// The out-of-policy request: the ISP asks about an IBAN.
    static let ispOutOfPolicy = "GB82 WEST 1234 5698 7654 32"

    /// Raw values the partners asked about that must never reach a file or the server log.
    static let partnerNeedles = ["DE44500105175407324931", "DE44 5001", "harmless-bakery", "203.0.113.9",
                                 "GB82WEST12345698765432", "malware-cdn.example", "example.org"]

    /// Steps 6–14. Returns the server's log lines (checked for raw values by step 15).
    static func partnerStory(root: String, data: String) throws(DemoFailure) -> [String] {
        let policies = root + "/policies"
        let bankIdentity = root + "/bank-identity"
        let ispIdentity = root + "/isp-identity"
        let certIdentity = root + "/cert-identity"

        step("6. The operator issues a bank, an ISP and a CERT their client certificates (signed by the hub's CA)")
        try expect(try? PartnerCommand.run(["add", bank, "--role", "bank", "--data", data, "--out", bankIdentity]),
                   "partner add \(bank)")
        try expect(try? PartnerCommand.run(["add", isp, "--role", "isp", "--data", data, "--out", ispIdentity]),
                   "partner add \(isp)")
        try expect(try? PartnerCommand.run(["add", cert, "--role", "cert", "--data", data, "--out", certIdentity]),
                   "partner add \(cert)")

        step("7. Their policies: what each may ask, why, how much, and what an answer reveals")
        do {
            try FileManager.default.createDirectory(atPath: policies, withIntermediateDirectories: true)
            try bankPolicy.write(toFile: policies + "/\(bank).json", atomically: true, encoding: .utf8)
            try ispPolicy.write(toFile: policies + "/\(isp).json", atomically: true, encoding: .utf8)
            try certPolicy.write(toFile: policies + "/\(cert).json", atomically: true, encoding: .utf8)
        } catch {
            throw DemoFailure("writing the policies: \(error)")
        }
        try expect(try? PolicyCommand.run(["check", policies]), "policy check")

        step("8. The hub serves on loopback over mutual TLS 1.3 (in this process, an ephemeral port)")
        let lines = LogLines()
        let server: HubServer
        let port: UInt16
        do {
            server = try HubServer(HubServer.Configuration(dataDirectory: data, policiesDirectory: policies,
                                                           host: "127.0.0.1", port: 0, loops: 1, logQueries: true),
                                   log: ServerLog(sink: { lines.append($0) }))
            port = try server.start()
        } catch {
            throw DemoFailure("starting the hub: \(error)")
        }
        Console.out("listening on 127.0.0.1:\(port); partners: \(bank), \(isp), \(cert)")
        var stopped = false
        defer { if !stopped { server.stop(grace: 1) } }

        step("9. The bank screens a payment batch, the ISP what it saw in its traffic")
        let bankFields = RequestFields(purpose: "fraud-screening", legalBasis: "psd2-art-94", reference: "PAY-2026-0042",
                                       priority: .urgent, timeZone: "Europe/Berlin")
        let ispFields = RequestFields(purpose: "network-protection", legalBasis: "nis2-art-21", reference: "NOC-7731",
                                      priority: .routine, timeZone: "UTC")
        Console.out("\(bank) (purpose fraud-screening, legal basis psd2-art-94, ref PAY-2026-0042, urgent):")
        let bankHits = try screen(port: port, identity: bankIdentity, fields: bankFields, bankScreening)
        Console.out("")
        Console.out("\(isp) (purpose network-protection, legal basis nis2-art-21, ref NOC-7731):")
        let ispHits = try screen(port: port, identity: ispIdentity, fields: ispFields, ispScreening)

        step("10. Out of policy: the ISP asks about an IBAN; the hub refuses the batch with a code and reason")
        let refusal = try refused(port: port, identity: ispIdentity, fields: ispFields)
        Console.out("\(isp) asked about \(ispOutOfPolicy) as iban -> refused: \(refusal.code.name): \(refusal.reason)")

        let feeds = try feedStory(root: root, port: port, certIdentity: certIdentity, ispIdentity: ispIdentity,
                                  ispFields: ispFields)

        step("13. The operator stops the hub (as on SIGTERM: requests in flight finish, connections close)")
        server.stop()
        stopped = true
        let activity = server.shared.activity
        guard activity.sessions == 0 && activity.inFlight == 0 else {
            throw DemoFailure("after stop: \(activity.sessions) sessions, \(activity.inFlight) requests still open")
        }
        Console.out("stopped: 0 connections, 0 requests in flight; \(lines.count) log lines, one per event")

        step("14. The audit trail: every request, accepted or refused, hash-chained (uploads: counts, never values)")
        try auditSummary(data + "/audit", expectedQueries: 3 + feeds.queries, expectedHits: bankHits + ispHits + feeds.hits)
        return lines.all
    }

    /// Asks the hub about `screening` as the partner in `identity`, prints the table and
    /// checks every answer; returns the number of hits.
    static func screen(port: UInt16, identity: String, fields: RequestFields, _ screening: [Screening])
        throws(DemoFailure) -> Int
    {
        let answers: [Answer]
        do {
            let client = try HubClient.connect(host: "127.0.0.1", port: port, identityDirectory: identity)
            defer { client.close() }
            answers = try client.query(values: screening.map(\.value), fields: fields)
        } catch {
            throw DemoFailure("query as \(identity): \(error.description)")
        }
        Table.print(header: ["INPUT", "TYPE", "RESULT", "DETAILS"],
                    rows: zip(screening, answers).map { QueryCommand.row($0.value, type: nil, $1) })
        var hits = 0
        for (question, answer) in zip(screening, answers) {
            switch answer {
            case .hit: hits += 1
            case .miss: break
            case .refused, .batchRefused:
                throw DemoFailure("'\(question.value)' was refused: \(answer)")
            }
            let wasHit: Bool = if case .hit = answer { true } else { false }
            guard wasHit == question.hit else {
                throw DemoFailure("'\(question.value)' answered \(wasHit ? "hit" : "miss"), expected \(question.hit ? "hit" : "miss")")
            }
        }
        return hits
    }

    /// The ISP's IBAN question; it must be refused as a batch with `type_not_allowed`.
    static func refused(port: UInt16, identity: String, fields: RequestFields) throws(DemoFailure)
        -> (code: ErrorCode, reason: String)
    {
        let answers: [Answer]
        do {
            let client = try HubClient.connect(host: "127.0.0.1", port: port, identityDirectory: identity)
            defer { client.close() }
            answers = try client.query(values: [ispOutOfPolicy], type: .iban, fields: fields)
        } catch {
            throw DemoFailure("the out-of-policy query: \(error.description)")
        }
        guard case .batchRefused(let code, let reason) = answers.first, code == .typeNotAllowed else {
            throw DemoFailure("the ISP's IBAN question was answered \(answers), expected a type_not_allowed refusal")
        }
        return (code, reason)
    }

    /// Verifies the chain and counts records, kinds, decisions and hits: `expectedQueries`
    /// queries, one upload and one withdrawal, all accepted but one refused query, and
    /// `expectedHits` hits.
    static func auditSummary(_ directory: String, expectedQueries: Int, expectedHits: Int) throws(DemoFailure) {
        let head: AuditChain.Head
        do { head = try AuditVerifier.verify(directory: directory) } catch {
            throw DemoFailure("the audit chain does not verify: \(error)")
        }
        var records = 0
        var accepted = 0
        var refused = 0
        var hits = 0
        var partners: [String: Int] = [:]
        var kinds: [String: Int] = [:]
        let segments = ((try? POSIX.listDirectory(directory)) ?? []).compactMap(AuditFormat.segmentNumber).sorted()
        for number in segments {
            guard let bytes = try? FileBytes.read(directory + "/" + AuditFormat.segmentName(number)) else {
                throw DemoFailure("cannot read audit segment \(number)")
            }
            for line in bytes.split(separator: 0x0A) {
                let text = String(decoding: line, as: UTF8.self)
                records += 1
                if text.contains(#""decision":"accepted""#) { accepted += 1 }
                if text.contains(#""decision":"refused""#) { refused += 1 }
                hits += integerMember("hits", in: text) ?? 0
                if let partner = stringMember("partner", in: text) { partners[partner, default: 0] += 1 }
                if let kind = stringMember("kind", in: text) { kinds[kind, default: 0] += 1 }
            }
        }
        let byName = { (counts: [String: Int]) in
            counts.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        }
        Console.out("\(records) records (\(byName(partners))); kinds: \(byName(kinds)); "
            + "\(accepted) accepted, \(refused) refused; \(hits) hits (their keyed digests only, never a value)")
        Console.out("chain verified OK: seq 1…\(head.seq), head \(head.hash.prefix(16))…")
        let expected = expectedQueries + 2
        guard records == expected, head.seq == UInt64(expected), kinds["query"] == expectedQueries, kinds["upload"] == 1,
              kinds["withdraw"] == 1, accepted == expected - 1, refused == 1, hits == expectedHits else {
            throw DemoFailure("audit: expected \(expected) records (\(expectedQueries) queries, an upload, a withdrawal), "
                + "\(expected - 1) accepted, 1 refused, \(expectedHits) hits")
        }
    }

    static func integerMember(_ name: String, in text: String) -> Int? {
        guard let range = text.range(of: "\"\(name)\":") else { return nil }
        return Int(text[range.upperBound...].prefix { $0.isNumber })
    }

    static func stringMember(_ name: String, in text: String) -> String? {
        guard let range = text.range(of: "\"\(name)\":\"") else { return nil }
        return String(text[range.upperBound...].prefix { $0 != "\"" })
    }

    /// A command must have exited 0.
    static func expect(_ status: ExitStatus?, _ what: String) throws(DemoFailure) {
        guard let status, status == .success else { throw DemoFailure("\(what) failed (exit \(status?.rawValue ?? 2))") }
    }
}

/// The server's log lines, collected from its threads.
final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var count: Int { lock.withLock { lines.count } }
    var all: [String] { lock.withLock { lines } }
}
