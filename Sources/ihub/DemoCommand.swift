import Glibc
import HubPOSIX
import IndicatorStore

/// `ihub demo`: the whole story on a built-in sample, in a temporary directory, on loopback:
/// the operator's side (init, canonical forms, ingest, lookup, verify), then the partners'
/// (certificates, policies, the server, screening queries, a refusal, shutdown, the audit
/// trail; DemoCommand+Partners.swift), then the privacy check of everything written.
/// Exits 1 (`ihub demo: FAILED: …`) when any step does not give the expected result.
enum DemoCommand {
    /// A CERT's plain list: one value of most types, a CIDR range and a wildcard domain,
    /// plus two broken lines the report must name.
    static let sampleList = """
        # demo CERT feed (plain list)
        192.0.2.44
        198.51.100.0/24 ; bulletproof hosting range
        2001:db8::bad:1
        phish-login.example
        *.malware-cdn.example
        http://evil-shop.example/pay/now.php?id=7
        refunds@scam-mail.example
        +44 20 7946 0999
        1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2
        0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed
        44d88612fea8a8f36de82e1278abb02f
        telegram:@fake_support_bot
        192.168.001.1
        10.1.2.3/8

        """

    /// A bank consortium's CSV of mule accounts with per-record metadata.
    static let sampleCSV = """
        iban,category,confidence,tlp,first_seen
        DE89 3704 0044 0532 0130 00,mule-account,90,amber,2026-10-01
        GB82 WEST 1234 5698 7654 32,mule-account,70,green,2026-11-02
        DE89 3704 0044 0532 0130 01,mule-account,90,amber,2026-10-01

        """

    static let queries = [
        "192.0.2.44", "198.51.100.77", "192.0.2.45", "cdn7.eu.malware-cdn.example", "malware-cdn.example.org",
        "HTTP://Evil-Shop.example:80/pay/./now.php?id=7#top", "http://evil-shop.example/pay/now.php?id=8",
        "de89370400440532013000", "+442079460999", "Phish-Login.Example.", "not-listed.example",
        "999.1.1.1",
    ]

    static func run(_ arguments: [String]) throws(UsageError) -> ExitStatus {
        _ = try Arguments(arguments, valued: [], booleans: [])
        var template = Array("/tmp/ihub-demo-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw UsageError("mkdtemp(/tmp/ihub-demo-XXXXXX): \(String(cString: strerror(errno)))")
        }
        let root = String(cString: made)
        defer { removeTree(root) }
        let data = root + "/data"

        step("1. An operator creates the hub's data directory and digest key")
        _ = try InitCommand.run([data])

        step("2. How values will be matched: one canonical form per value, or a precise refusal")
        _ = try CanonicalCommand.run([
            "HTTP://Evil-Shop.example:80/pay/./now.php?id=7#top", "xn--bcher-kva.de", "*.Bücher.de",
            "::ffff:192.0.2.44", "de89 3704 0044 0532 0130 00", "0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED",
            "192.168.001.1", "10.1.2.3/8", "DE89 3704 0044 0532 0130 01",
        ])

        step("3. A CERT ingests its list, a bank consortium its mule accounts (bad records named, good ones kept)")
        let list = try writeFile(root + "/cert-feed.txt", sampleList)
        let csv = try writeFile(root + "/mule-accounts.csv", sampleCSV)
        _ = try IngestCommand.run(["--data", data, "--source", "cert-demo", "--category", "fraud", "--ttl", "90", list])
        _ = try IngestCommand.run(["--data", data, "--source", "bank-consortium", csv])

        step("4. Lookups: exact values, an address inside a listed range, a subdomain of a wildcard entry")
        _ = try LookupCommand.run(["--data", data] + queries)

        step("5. The store is verified end to end")
        _ = try VerifyCommand.run(["--data", data])

        let serverLog: [String]
        do {
            serverLog = try partnerStory(root: root, data: data)
        } catch {
            Console.err("ihub demo: FAILED: \(error.description)")
            return .someRefused
        }

        step("15. No raw indicator is at rest: every file the hub wrote (store, audit trail, TLS) and its log")
        let needles = ["192.0.2.44", "phish-login", "evil-shop", "DE89370400440532013000", "scam-mail", "fake_support"]
            + partnerNeedles + pushedValues
        let files = PrivacyScan.files(root: data)
        let areas = ["store", "audit", "tls"].map { area in (area, files.filter { $0.hasPrefix(data + "/" + area + "/") }.count) }
        if let empty = areas.first(where: { $0.1 == 0 }) {
            Console.err("ihub demo: FAILED: no file under \(data)/\(empty.0) to search")
            return .someRefused
        }
        var found = PrivacyScan.search(root: data, needles: needles)
        for line in serverLog {
            for needle in needles where line.contains(needle) { found.append("server log: \(needle)") }
        }
        if !found.isEmpty {
            for hit in found { Console.err("FOUND \(hit)") }
            Console.err("ihub demo: FAILED: a raw indicator value is at rest")
            return .someRefused
        }
        Console.out("searched \(files.count) files (" + areas.map { "\($0.0): \($0.1)" }.joined(separator: ", ")
            + ", other: \(files.count - areas.reduce(0) { $0 + $1.1 })) and \(serverLog.count) server log lines: "
            + "none contains a sample or queried value")
        Console.out("")
        Console.out("demo finished; the temporary directory is removed.")
        return .success
    }

    static func step(_ title: String) {
        Console.out("")
        Console.out("== " + title)
    }

    static func writeFile(_ path: String, _ text: String) throws(UsageError) -> String {
        do {
            try FileBytes.write(path, Array(text.utf8))
        } catch {
            throw UsageError(error.description)
        }
        return path
    }

    /// Removes the demo's temporary tree: files first, then directories deepest first.
    static func removeTree(_ root: String) {
        let (files, directories) = PrivacyScan.walk(root: root)
        for file in files { unlink(file) }
        for directory in directories.reversed() { rmdir(directory) }
    }
}

/// Searches every regular file under a directory for byte strings.
enum PrivacyScan {
    static func files(root: String) -> [String] {
        walk(root: root).files.sorted()
    }

    /// Regular files (and other non-directories) and directories under `root`, `root` first
    /// among the directories; symbolic links are not followed.
    static func walk(root: String) -> (files: [String], directories: [String]) {
        var result: [String] = []
        var directories: [String] = []
        var stack = [root]
        while let directory = stack.popLast() {
            directories.append(directory)
            guard let names = try? POSIX.listDirectory(directory) else { continue }
            for name in names {
                let path = directory + "/" + name
                var info = stat()
                guard lstat(path, &info) == 0 else { continue }
                if info.st_mode & S_IFMT == S_IFDIR { stack.append(path) } else { result.append(path) }
            }
        }
        return (result, directories)
    }

    static func fileCount(root: String) -> Int { files(root: root).count }

    /// `path: needle` for every needle found in any file.
    static func search(root: String, needles: [String]) -> [String] {
        var hits: [String] = []
        for path in files(root: root) {
            guard let bytes = try? FileBytes.read(path) else { continue }
            for needle in needles where bytes.contains(subsequence: Array(needle.utf8)) {
                hits.append("\(path): \(needle)")
            }
        }
        return hits
    }
}

extension Array where Element == UInt8 {
    func contains(subsequence needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, count >= needle.count else { return false }
        for start in 0...(count - needle.count) where self[start] == needle[0] {
            if self[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }
}
