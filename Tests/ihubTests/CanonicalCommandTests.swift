import Testing

@Suite struct CanonicalCommandTests {
    @Test func jsonLinesInInputOrder() throws {
        let result = try Ihub.run(["canonical", "--json", "Example.COM.", "192.168.001.1", "10.0.0.0/8"])
        #expect(result.status == 1)  // one refused
        let lines = try result.jsonLines()
        #expect(lines.count == 3)
        #expect(lines[0]["input"] as? String == "Example.COM.")
        #expect(lines[0]["type"] as? String == "domain")
        #expect(lines[0]["canonical"] as? String == "example.com")
        #expect(lines[1]["input"] as? String == "192.168.001.1")
        #expect((lines[1]["error"] as? String)?.hasPrefix("invalid ipv4:") == true)
        #expect(lines[2]["canonical"] as? String == "10.0.0.0/8")
    }

    @Test func forcedTypeAndStandardInput() throws {
        let result = try Ihub.run(["canonical", "--type", "iban", "-"], stdin: "de89 3704 0044 0532 0130 00\n\n")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("DE89370400440532013000"))
    }

    @Test func everyNaughtyStringIsAnsweredWithoutCrashing() throws {
        let result = try Ihub.run(["canonical", "--json", "-"], stdin: try String(contentsOfFile: fixturePath("blns.txt"), encoding: .utf8))
        #expect(result.status == 0 || result.status == 1)
        let lines = try result.jsonLines()
        #expect(lines.count > 400)
        #expect(lines.allSatisfy { $0["canonical"] != nil || $0["error"] != nil })
    }
}
