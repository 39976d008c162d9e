import Foundation
import Testing

/// `ihub demo` tells the whole story and fails loudly: exit 0 only when every step gave the
/// expected result; the key lines of each act are there; the temporary directory is gone.
@Suite struct DemoCommandTests {
    @Test func demoRunsTheWholeStoryAndCleansUp() throws {
        let result = try Ihub.run(["demo"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let out = result.stdout
        for expected in [
            "== 6. The operator issues a bank, an ISP and a CERT",
            "issued partner demo-bank (role bank)",
            "issued partner demo-isp (role isp)",
            "issued partner demo-cert (role cert)",
            "3 policies valid in",
            "listening on 127.0.0.1:",
            "-> refused: type_not_allowed: ",
            "stopped: 0 connections, 0 requests in flight",
            "accepted 2, duplicates 0, rejected 1",
            "cert-push.txt:4: invalid ipv4: octet 1 ('999') is greater than 255",
            "withdrawn 1, not found 0, refused 0",
            "8 records (demo-bank: 1, demo-cert: 2, demo-isp: 5); kinds: query: 6, upload: 1, withdraw: 1; "
                + "7 accepted, 1 refused; 10 hits",
            "chain verified OK: seq 1…8",
            "server log lines: none contains a sample or queried value",
            "demo finished",
        ] {
            #expect(out.contains(expected), "missing line: \(expected)")
        }
        // The screening tables: a listed mule account hits with what the bank may learn, a
        // valid unlisted IBAN misses, the ISP learns only the action.
        let lines = result.lines
        #expect(lines.contains { $0.hasPrefix("DE89 3704 0044 0532 0130 00") && $0.contains("HIT") && $0.contains("mule-account, confidence 90") })
        #expect(lines.contains { $0.hasPrefix("DE44 5001 0517 5407 3249 31") && $0.contains("miss") })
        #expect(lines.contains { $0.hasPrefix("198.51.100.77") && $0.hasSuffix("HIT     block") })
        #expect(lines.contains { $0.hasPrefix("example.org") && $0.contains("miss") })
        // The pushed values: a miss before the push, a hit right after it, the withdrawn one a
        // miss again while the other stays.
        let pushed = lines.filter { $0.hasPrefix("203.0.113.77 ") }.map { $0.contains("HIT") }
        #expect(pushed == [false, true, false], "\(pushed)")
        let kept = lines.filter { $0.hasPrefix("c2.relay-botnet.example ") }.map { $0.contains("HIT") }
        #expect(kept == [false, true, true], "\(kept)")
        #expect(!out.contains("FOUND"))
        // The identity directories lived in the temporary directory, which is removed.
        let identity = try #require(lines.first { $0.hasPrefix("identity in /") })
        let path = String(identity.dropFirst("identity in ".count).prefix { $0 != ":" })
        let root = URL(fileURLWithPath: path).deletingLastPathComponent().path
        #expect(root.hasPrefix("/tmp/ihub-demo-"))
        #expect(!FileManager.default.fileExists(atPath: root), "\(root) was not removed")
    }
}
