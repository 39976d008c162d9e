import Foundation
import IndicatorKit
import Testing
@testable import IndicatorStore

/// Compaction equivalence: random uploads, withdrawals, compactions and reopenings, each
/// followed by a comparison of every digest of the universe against `LiveModel` (seeded, so
/// a failure reproduces).
@Suite struct LiveCompactionTests {
    @Test(arguments: [1, 2, 3] as [UInt64])
    func theStoreAnswersAsTheModelThroughCompactionsAndRestarts(seed: UInt64) throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var random = SplitMix(seed: seed)
        var model = LiveModel()
        var store = try Live.open(directory)
        defer { store.close() }
        let universe = (0..<120).map { Live.digest($0, universe: seed) }
        var time: UInt64 = 1_000
        var uploaded: [(id: UploadID, source: UInt16)] = []
        var compactions = 0

        func check(_ step: Int) {
            for now in [UInt32(time), UInt32(time + 400)] {
                let answers = store.lookup(digests: universe, now: now)
                for (index, digest) in universe.enumerated() where answers[index] != model.lookup(digest, now: now) {
                    Issue.record("seed \(seed) step \(step): digest \(index) at \(now): store \(String(describing: answers[index])), model \(String(describing: model.lookup(digest, now: now)))")
                    return
                }
            }
        }

        for step in 0..<220 {
            time += random.next() % 60
            switch random.next() % 20 {
            case 0..<10:
                let source = UInt16(1 + random.next() % 4)
                let id = Live.uploadID(step, salt: seed)
                let content = (0..<(1 + Int(random.next() % 12))).map { _ in
                    let expires: UInt32 = random.next() % 4 == 0 ? UInt32(time + random.next() % 500) : 0
                    return (universe[Int(random.next() % UInt64(universe.count))], Live.metadata(&random, expires: expires))
                }
                let receipt = try store.upload(Live.request(id, source: source, content), time: time)
                #expect(model.upload(id, source: source, content, time: time) == receipt.uploadNumber)
                uploaded.append((id, source))
            case 10..<13:
                let source = UInt16(1 + random.next() % 4)
                let values = (0..<(1 + Int(random.next() % 8))).map { _ in universe[Int(random.next() % UInt64(universe.count))] }
                #expect(try store.withdraw(values: values, source: source) == model.withdraw(values: values, source: source))
            case 13..<15 where !uploaded.isEmpty:
                let (id, owner) = uploaded[Int(random.next() % UInt64(uploaded.count))]
                let source = random.next() % 4 == 0 ? owner % 4 + 1 : owner
                if let expected = model.withdraw(upload: id, source: source) {
                    #expect(try store.withdraw(upload: id, source: source) == expected)
                } else {
                    #expect(throws: LiveStoreError.unknownUpload) { _ = try store.withdraw(upload: id, source: source) }
                }
            case 15..<17 where !uploaded.isEmpty:
                // A retry of an earlier upload: answered, nothing changes.
                let (id, _) = uploaded[Int(random.next() % UInt64(uploaded.count))]
                #expect(store.receipt(of: id) != nil)
            case 17..<19:
                let now = UInt32(time)
                try store.compact(now: now)
                model.compact(now: now)
                compactions += 1
                let snapshot = try Snapshot.open(directory.file("indicators.snap"), key: testKey, verification: .full)
                #expect(snapshot.header.sequence == store.view().sequence)
            default:
                store.close()
                store = try Live.open(directory)
            }
            check(step)
        }
        #expect(compactions > 5)
        try store.compact(now: UInt32(time))
        model.compact(now: UInt32(time))
        check(-1)
        #expect(store.view().isDeltaEmpty)
    }
}
