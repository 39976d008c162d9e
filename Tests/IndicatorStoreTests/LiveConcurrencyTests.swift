import Foundation
import IndicatorKit
import Testing
@testable import IndicatorStore

/// Many writers, readers and a compactor at once: every acknowledged upload is visible the
/// moment it is acknowledged (to the thread that made it and to every later reader), group
/// commit shares syncs, and the store reopens with the same answers.
@Suite struct LiveConcurrencyTests {
    @Test func concurrentUploadsReadsAndCompactions() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try Live.open(directory)
        let writers = 6
        let uploadsPerWriter = 40
        let failures = Failures()
        let group = DispatchGroup()
        let stop = Flag()
        for writer in 0..<writers {
            group.enter()
            Thread {
                defer { group.leave() }
                for index in 0..<uploadsPerWriter {
                    let value = Live.digest(writer * 1_000 + index)
                    do {
                        _ = try store.upload(
                            Live.request(Live.uploadID(writer * 1_000 + index), source: UInt16(writer + 1), [(value, EntryMetadata(confidence: 33))]),
                            time: 1)
                    } catch {
                        failures.add("upload: \(error)")
                    }
                    // Acknowledged means visible, immediately.
                    if store.lookup(digest: value, now: 1)?.sourceID != UInt16(writer + 1) { failures.add("writer \(writer) upload \(index) not visible") }
                }
            }.start()
        }
        group.enter()
        Thread {
            defer { group.leave() }
            while !stop.isSet {
                do { try store.compact(now: 1) } catch { failures.add("compact: \(error)") }
                usleep(3_000)
            }
        }.start()
        group.enter()
        Thread {
            defer { group.leave() }
            var last: UInt64 = 0
            while !stop.isSet {
                let view = store.view()
                // Published states never go back, also across compactions' swaps.
                if view.sequence < last { failures.add("state went back from \(last) to \(view.sequence)") }
                last = view.sequence
                // Once writer 0's first upload is in a state, every later state has it.
                if last >= UInt64(writers * uploadsPerWriter), view.lookup(Live.digest(0), now: 1) == nil {
                    failures.add("an acknowledged upload disappeared")
                }
            }
        }.start()
        while store.view().sequence < UInt64(writers * uploadsPerWriter) { usleep(1_000) }
        stop.set()
        group.wait()
        #expect(failures.messages.isEmpty, "\(failures.messages.prefix(5))")
        let groups = store.journalGroups
        #expect(groups >= 1 && groups <= writers * uploadsPerWriter)
        store.close()

        let reopened = try Live.open(directory)
        defer { reopened.close() }
        #expect(reopened.view().sequence == UInt64(writers * uploadsPerWriter))
        for writer in 0..<writers {
            for index in 0..<uploadsPerWriter {
                #expect(reopened.lookup(digest: Live.digest(writer * 1_000 + index), now: 1)?.sourceID == UInt16(writer + 1))
            }
        }
        print("LiveConcurrencyTests: \(writers * uploadsPerWriter) uploads in \(groups) journal groups")
    }

    /// Withdrawals queued while the writer is busy join one group (one write, one
    /// `fdatasync`) with an upload queued among them, and each is answered with its own count.
    @Test func queuedWithdrawalsShareOneJournalGroup() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try Live.open(directory)
        defer { store.close() }
        let sources = 8
        for source in 1...sources {
            let reports = (0..<3).map { (Live.digest(source * 100 + $0), EntryMetadata(confidence: 50)) }
            _ = try store.upload(Live.request(Live.uploadID(source), source: UInt16(source), reports), time: 1)
        }
        let before = store.journalGroups

        // Hold the writer between groups until every request below is queued.
        let busy = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        Thread { _ = try? store.onWriter { () throws(LiveStoreError) in busy.signal(); release.wait() } }.start()
        busy.wait()
        let answered = DispatchGroup()
        let results = Results()
        for source in 1...sources {
            answered.enter()
            // Source s withdraws its first two values and one value it never reported.
            let digests = [Live.digest(source * 100), Live.digest(source * 100 + 1), Live.digest(9_999)]
            store.submitWithdraw(values: digests, source: UInt16(source)) { outcome in
                results.add(source, (try? outcome.get()) ?? -1)
                answered.leave()
            }
        }
        answered.enter()
        store.submit(Live.request(Live.uploadID(99), source: 1, [(Live.digest(9_998), EntryMetadata(confidence: 5))]),
                     time: 1) { _ in answered.leave() }
        release.signal()
        answered.wait()

        #expect(store.journalGroups == before + 1)
        for source in 1...sources {
            #expect(results.value(source) == 2)
            #expect(store.lookup(digest: Live.digest(source * 100), now: 1) == nil)
            #expect(store.lookup(digest: Live.digest(source * 100 + 2), now: 1)?.sourceID == UInt16(source))
        }
        #expect(store.lookup(digest: Live.digest(9_998), now: 1) != nil)
    }
}

final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int: Int] = [:]
    func add(_ key: Int, _ value: Int) { lock.withLock { values[key] = value } }
    func value(_ key: Int) -> Int? { lock.withLock { values[key] } }
}

final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func add(_ message: String) { lock.withLock { list.append(message) } }
    var messages: [String] { lock.withLock { list } }
}

final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
