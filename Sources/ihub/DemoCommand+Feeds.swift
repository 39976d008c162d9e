import IndicatorKit

/// `ihub demo`, the CERT's part (issue 4): while the hub serves, a CERT pushes a feed over the
/// protocol with `ihub push`, the ISP sees the new entries in its next query, the CERT withdraws
/// one value with `ihub withdraw` and the ISP no longer sees it. The ISP never learns which
/// source listed a value.
extension DemoCommand {
    static let cert = "demo-cert"

    /// A national CERT that may upload and withdraw network indicators (and query them).
    static let certPolicy = """
        {
          "partner": "demo-cert",
          "role": "cert",
          "version": 1,
          "comment": "Demo CERT: pushes its command-and-control feed, withdraws what it retracts.",
          "types": ["ipv4", "domain", "url"],
          "categories": ["malware", "c2", "botnet", "phishing"],
          "purposes": ["incident-response"],
          "legal_bases": ["nis2-art-11"],
          "required_fields": ["purpose", "legal_basis", "reference", "time_zone"],
          "reveal": ["category", "confidence", "expires", "action"],
          "max_batch": 1000,
          "rate": { "per_second": 1000, "burst": 5000 },
          "daily_quota": 1000000,
          "tlp_ceiling": "amber",
          "priorities": ["routine", "urgent"],
          "upload": {
            "types": ["ipv4", "domain", "url"],
            "categories": ["malware", "c2", "botnet"],
            "defaults": { "category": "c2", "confidence": 80, "tlp": "green", "action": "block", "ttl_days": 30 },
            "required_fields": ["legal_basis", "reference"],
            "max_records": 10000,
            "withdraw": true
          }
        }

        """

    /// The CERT's feed as it publishes it: a comment, two new values and a line that is no
    /// indicator (refused and named, the rest is taken).
    static let certPush = """
        # demo CERT: command-and-control endpoints seen today
        203.0.113.77
        c2.relay-botnet.example
        999.1.1.1

        """

    static let pushedValues = ["203.0.113.77", "c2.relay-botnet.example"]

    /// Steps 11–12. Returns how many query records (and hits) the ISP's three screenings added.
    static func feedStory(root: String, port: UInt16, certIdentity: String, ispIdentity: String,
                          ispFields: RequestFields) throws(DemoFailure) -> (queries: Int, hits: Int) {
        let hub = "127.0.0.1:\(port)"
        step("11. A CERT pushes a new feed while the hub serves; the ISP sees it in its very next query")
        Console.out("\(isp) before the push:")
        var hits = try screen(port: port, identity: ispIdentity, fields: ispFields,
                              pushedValues.map { Screening(value: $0, hit: false) })
        let feed: String
        do { feed = try writeFile(root + "/cert-push.txt", certPush) } catch { throw DemoFailure(error.description) }
        Console.out("")
        Console.out("$ ihub push --hub \(hub) --identity … --legal-basis nis2-art-11 --ref CERT-2026-1123 cert-push.txt")
        // Exit 1: one record was refused (named above), the good ones are stored.
        let pushed = try? PushCommand.run(["--hub", hub, "--identity", certIdentity, "--legal-basis", "nis2-art-11",
                                           "--ref", "CERT-2026-1123", feed])
        guard pushed == .someRefused else {
            throw DemoFailure("ihub push exited \(pushed?.rawValue ?? 2), expected 1 (one refused record, the rest stored)")
        }
        Console.out("")
        Console.out("\(isp) right after the acknowledgement (which source listed them is never revealed):")
        hits += try screen(port: port, identity: ispIdentity, fields: ispFields,
                           pushedValues.map { Screening(value: $0, hit: true) })

        step("12. The CERT withdraws one value it retracts; the ISP no longer sees it")
        Console.out("$ ihub withdraw --hub \(hub) --identity … --ref CERT-2026-1123-R \(pushedValues[0])")
        try expect(try? WithdrawCommand.run(["--hub", hub, "--identity", certIdentity, "--ref", "CERT-2026-1123-R",
                                             pushedValues[0]]), "ihub withdraw")
        Console.out("")
        Console.out("\(isp) after the withdrawal:")
        hits += try screen(port: port, identity: ispIdentity, fields: ispFields,
                           [Screening(value: pushedValues[0], hit: false), Screening(value: pushedValues[1], hit: true)])
        return (3, hits)
    }
}
