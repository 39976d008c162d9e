import Foundation
import HubServer
import Testing

@testable import ihub

/// The sample systemd unit (contrib/systemd/ihub-serve.service) can never drift from the CLI:
/// its `ExecStart` goes through `ihub serve`'s real parser, and the hardening it promises
/// (docs/OPERATIONS.md) is in it. systemd itself does not run here.
@Suite struct SystemdUnitTests {
    static let unitPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("contrib/systemd/ihub-serve.service").path

    /// The `[Service]` section: each key with its values in order (a key may repeat).
    static func service() throws -> [String: [String]] {
        let text = try String(contentsOfFile: unitPath, encoding: .utf8)
        var section = ""
        var entries: [String: [String]] = [:]
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") { section = line; continue }
            guard section == "[Service]", let equals = line.firstIndex(of: "=") else { continue }
            #expect(!line.hasSuffix("\\"), "no continuation lines: the test splits by line")
            entries[String(line[..<equals]), default: []].append(String(line[line.index(after: equals)...]))
        }
        return entries
    }

    @Test func execStartParsesAsIhubServeAndMatchesTheStateDirectory() throws {
        let service = try Self.service()
        let execStart = try #require(service["ExecStart"]?.first, "no ExecStart in \(Self.unitPath)")
        #expect(!execStart.contains("\"") && !execStart.contains("'") && !execStart.contains("$"),
                "quoting or variables would make the split below differ from systemd's")
        let words = execStart.split(separator: " ").map(String.init)
        #expect(words.prefix(2) == ["/usr/local/bin/ihub", "serve"])
        let configuration = try ServeCommand.configuration(Array(words.dropFirst(2)))
        let state = try #require(service["StateDirectory"]?.first)
        #expect(configuration.dataDirectory == "/var/lib/" + state, "--data is the StateDirectory systemd creates")
        #expect(configuration.policiesDirectory.hasPrefix("/etc/"), "policies are read-only configuration")
        #expect(configuration.port >= 1024, "CapabilityBoundingSet is empty: no privileged port")
        #expect(configuration.memory == .map)
    }

    @Test func theUnitHasTheHardeningTheNotePromises() throws {
        let service = try Self.service()
        let expected: [String: String] = [
            "User": "ihub", "Group": "ihub", "StateDirectoryMode": "0700", "UMask": "0077",
            "ExecReload": "/bin/kill -HUP $MAINPID", "Restart": "on-failure", "NoNewPrivileges": "yes",
            "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes",
            "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes", "ProtectKernelLogs": "yes",
            "ProtectControlGroups": "yes", "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
            "RestrictNamespaces": "yes", "LockPersonality": "yes", "MemoryDenyWriteExecute": "yes",
            "SystemCallFilter": "@system-service", "CapabilityBoundingSet": "",
        ]
        for (key, value) in expected.sorted(by: { $0.key < $1.key }) {
            #expect(service[key] == [value], "\(key)=\(value) expected, found \(service[key] ?? [])")
        }
        let files = try #require(service["LimitNOFILE"]?.first.flatMap { Int($0) })
        #expect(files >= 4096, "one descriptor per partner connection")
        #expect(service["ProcSubset"] == nil, "ProcSubset=pid hides /proc/locks, which ihub verify reads")
    }

    @Test func badServeArgumentsNameTheFlag() throws {
        let base = ["--data", "/var/lib/ihub", "--policies", "/etc/ihub/policies", "--listen", "127.0.0.1:8443"]
        #expect(try ServeCommand.configuration(base).memory == .map, "map is the default")
        #expect(try ServeCommand.configuration(base + ["--memory", "huge-pages"]).memory == .hugePages)
        #expect(try ServeCommand.configuration(base + ["--memory=map"]).memory == .map)
        let cases: [([String], String)] = [
            (["--memory", "huge"], "--memory: 'huge' is not one of map, huge-pages"),
            (["--memory", "MAP"], "--memory: 'MAP' is not one of map, huge-pages"),
            (["--memory="], "--memory: '' is not one of map, huge-pages"),
            (["--memory"], "--memory needs a value"),
            (["--mem", "map"], "unknown option --mem"),
        ]
        for (extra, message) in cases {
            #expect(throws: UsageError.self, "\(extra)") { try ServeCommand.configuration(base + extra) }
            do {
                _ = try ServeCommand.configuration(base + extra)
            } catch {
                #expect(error.description.contains(message), "\(extra): \(error.description)")
            }
        }
        let binary = try Ihub.run(["serve"] + base + ["--memory", "hugepages"])
        #expect(binary.status == 2)
        #expect(binary.stderr.contains("--memory: 'hugepages' is not one of map, huge-pages"), "\(binary.stderr)")
    }
}
