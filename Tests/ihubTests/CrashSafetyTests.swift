import Foundation
import Testing

/// Ingest is atomic: SIGKILL at any moment leaves the previous store intact and readable, and
/// the ingest either complete or absent (the live store's recovery finishes a journal switch an
/// ingest was killed in).
/// `make test` kills 8 ingests; `make soak` sets IHUB_CRASH_ROUNDS higher.
@Suite struct CrashSafetyTests {
    static var rounds: Int {
        ProcessInfo.processInfo.environment["IHUB_CRASH_ROUNDS"].flatMap(Int.init) ?? 8
    }

    @Test func killingIngestNeverLosesTheOldStore() throws {
        let temp = try TemporaryDirectory()
        let data = temp.path + "/data"
        #expect(try Ihub.run(["init", data]).status == 0)
        let base = try temp.file("base.txt", "kept-1.example\nkept-2.example\n198.51.100.0/24\n")
        #expect(try Ihub.run(["ingest", "--data", data, "--source", "base", base]).status == 0)

        var big = ""
        big.reserveCapacity(4_000_000)
        for index in 0..<200_000 {
            big += "10.\((index >> 16) & 255).\((index >> 8) & 255).\(index & 255)\n"
        }
        let feed = try temp.file("big.txt", big)
        var killed = 0
        var completed = 0
        for round in 0..<Self.rounds {
            let process = Process()
            process.executableURL = Ihub.binary
            process.arguments = ["ingest", "--data", data, "--source", "big", "--json", feed]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(UInt32(20_000 * (round % 8) + Int.random(in: 0..<20_000)))
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                killed += 1
            }
            process.waitUntilExit()
            let verify = try Ihub.run(["verify", "--data", data])
            #expect(verify.status == 0, "round \(round): \(verify.stderr)")
            let lookup = try Ihub.run(["lookup", "--data", data, "--json", "kept-1.example", "kept-2.example", "198.51.100.9"])
            #expect(try lookup.jsonLines().map { $0["match"] as? Bool } == [true, true, true], "round \(round)")
            // The killed ingest is all there or not at all: first, middle and last value agree.
            let big = try Ihub.run(["lookup", "--data", data, "--json", "10.0.0.0", "10.1.134.160", "10.3.13.63"])
            let matches = try big.jsonLines().map { $0["match"] as? Bool }
            #expect(matches.count == 3 && Set(matches).count == 1, "round \(round): \(matches)")
            if matches.first == true { completed += 1 }
        }
        print("CrashSafetyTests: \(Self.rounds) ingests, \(killed) killed, \(completed) found complete afterwards")
        #expect(killed > 0)
        let finished = try Ihub.run(["ingest", "--data", data, "--source", "big", "--json", feed])
        #expect(finished.status == 0)
        let lookup = try Ihub.run(["lookup", "--data", data, "--json", "10.3.13.63", "kept-1.example"])
        #expect(try lookup.jsonLines().map { $0["match"] as? Bool } == [true, true])
        // No temporary files are left behind once a later ingest completed, and the journal
        // is compacted away (one empty file after the snapshot's sequence).
        let names = try FileManager.default.contentsOfDirectory(atPath: data + "/store")
        #expect(names.filter { $0.contains(".tmp") }.isEmpty, "\(names)")
        let journals = names.filter { $0.hasPrefix("journal.") }
        #expect(journals.count == 1, "\(names)")
        let journalSize = try journals.first.map { try FileManager.default.attributesOfItem(atPath: data + "/store/" + $0)[.size] as? Int }
        #expect(journalSize == 0)
    }
}
