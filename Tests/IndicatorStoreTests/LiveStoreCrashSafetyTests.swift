import Foundation
import IndicatorKit
import LiveCrashScript
import Testing
@testable import IndicatorStore

/// SIGKILL at random moments while a child process uploads, withdraws and compacts
/// (Tests/LiveStoreCrashChild): after every restart, each acknowledged operation is in
/// effect, the one in flight is either fully in effect or not at all, the snapshot opens
/// with `.full` verification, and every answer is what `LiveModel` predicts. `make test` runs
/// 8 rounds; `make soak` sets IHUB_CRASH_ROUNDS (60).
@Suite struct LiveStoreCrashSafetyTests {
    static var rounds: Int {
        ProcessInfo.processInfo.environment["IHUB_CRASH_ROUNDS"].flatMap(Int.init) ?? 8
    }

    static var child: URL {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("LiveStoreCrashChild")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: ".build/debug/LiveStoreCrashChild")
    }

    static func apply(_ operation: CrashScript.Operation, to model: inout LiveModel) {
        switch operation {
        case .upload(let request, let time):
            _ = model.upload(request.id, source: request.source, request.reports.map { ($0.digest, $0.metadata) }, time: time)
        case .withdrawValues(let values, let source):
            _ = model.withdraw(values: values, source: source)
        case .withdrawUpload(let id, let source):
            _ = model.withdraw(upload: id, source: source)
        }
    }

    /// Where the store differs from `model` (nil: nowhere): the first digest of the universe
    /// whose answer or reports (source, upload, metadata) differ. Answers alone cannot tell
    /// whether a withdrawal the kill left unacknowledged took effect: removing a report that
    /// loses every merge rule (lower confidence, higher source, an older day, a looser TLP)
    /// leaves the answer unchanged, and the difference surfaces only rounds later, when the
    /// other reports go.
    static func difference(_ store: LiveStore, _ model: LiveModel) -> String? {
        let answers = store.lookup(digests: CrashScript.universe, now: 1_700_000_000)
        for (index, (digest, answer)) in zip(CrashScript.universe, answers).enumerated() {
            if model.lookup(digest, now: 1_700_000_000) != answer { return "the answer for universe[\(index)]" }
            let expected = Set(model.reports[digest]?.values.map { $0 } ?? [])
            let found = Set(store.reports(of: digest))
            if expected != found {
                return "the reports of universe[\(index)]: sources \(found.map(\.source).sorted()), "
                    + "the model's \(expected.map(\.source).sorted())"
            }
        }
        return nil
    }

    @Test func killingTheWriterNeverLosesAnAcknowledgedOperation() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var model = LiveModel()
        var random = SplitMix(seed: UInt64(Self.rounds) &+ 99)
        var killed = 0
        var compacted = 0
        var acknowledgedTotal = 0
        for round in 0..<Self.rounds {
            let process = Process()
            process.executableURL = Self.child
            process.arguments = [directory.path, String(round), String(testKey.id, radix: 16)]
            let output = Pipe()
            process.standardOutput = output
            let errors = Pipe()
            process.standardError = errors
            try process.run()
            usleep(UInt32(10_000 + random.next() % 600_000))
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                killed += 1
            }
            let lines = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                .split(separator: "\n").map(String.init)
            let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal || process.terminationStatus == 0, "round \(round): \(stderr)")
            let acknowledged = lines.filter { $0 != "done" }.count
            #expect(lines.filter { $0 != "done" } == (0..<acknowledged).map(String.init), "round \(round)")
            acknowledgedTotal += acknowledged

            for index in 0..<acknowledged { Self.apply(CrashScript.operation(round: round, index: index), to: &model) }
            let store = try Live.open(directory, verification: .full)
            defer { store.close() }
            if Syscalls.exists(directory.file("indicators.snap")) {
                let snapshot = try Snapshot.open(directory.file("indicators.snap"), key: testKey, verification: .full)
                if snapshot.header.sequence > 0 { compacted += 1 }
            }
            for index in 0..<acknowledged {
                if case .upload(let request, _) = CrashScript.operation(round: round, index: index) {
                    #expect(store.receipt(of: request.id) != nil, "round \(round): acknowledged upload \(index) lost")
                }
            }
            if acknowledged < CrashScript.operationsPerRound {
                // The operation in flight: all of it or none of it.
                let inFlight = CrashScript.operation(round: round, index: acknowledged)
                var with = model
                Self.apply(inFlight, to: &with)
                if case .upload(let request, _) = inFlight, store.receipt(of: request.id) != nil {
                    model = with
                } else if Self.difference(store, model) != nil && Self.difference(store, with) == nil {
                    model = with
                }
            }
            let difference = Self.difference(store, model)
            #expect(difference == nil, "round \(round), \(acknowledged) acknowledged: \(difference ?? "")")
        }
        #expect(killed >= Self.rounds / 2, "only \(killed) of \(Self.rounds) children were killed")
        print("LiveStoreCrashSafetyTests: \(Self.rounds) rounds, \(killed) killed, \(acknowledgedTotal) operations acknowledged, \(compacted) restarts on a compacted snapshot")
        #expect(acknowledgedTotal > 0)
        if Self.rounds >= 8 { #expect(compacted > 0, "no round reached a compaction") }
    }
}
