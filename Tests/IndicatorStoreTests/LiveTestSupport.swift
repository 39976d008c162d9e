import Foundation
import IndicatorKit
@testable import IndicatorStore

/// Helpers for the live-store tests: a temporary store directory, synthetic digests (no raw
/// values anywhere), random metadata, and a model of the documented semantics.
enum Live {
    static func open(_ directory: TemporaryDirectory, verification: Snapshot.Verification = .full) throws -> LiveStore {
        try LiveStore.open(storeDirectory: directory.path, keyID: testKey.id, verification: verification)
    }

    /// Digest number `index` of a synthetic universe (not a digest of any value).
    static func digest(_ index: Int, universe: UInt64 = 0) -> IndicatorDigest {
        var random = SplitMix(seed: UInt64(index) &* 0x9E37_79B9 &+ universe &* 0x1_0000_0001 &+ 1)
        return IndicatorDigest(lo: random.next() | 2, hi: random.next())
    }

    static func uploadID(_ index: Int, salt: UInt64 = 0) -> UploadID {
        UploadID(low: UInt64(index) &+ 1, high: 0xA11CE &+ salt)
    }

    static func metadata(_ random: inout SplitMix, expires: UInt32 = 0) -> EntryMetadata {
        EntryMetadata(
            category: ThreatCategory(rawValue: UInt8(random.next() % 13))!, confidence: UInt8(random.next() % 101),
            tlp: TLP(rawValue: UInt8(random.next() % 5))!, action: ActionHint(rawValue: UInt8(random.next() % 3))!,
            firstSeenDay: UInt16(random.next() % 3 == 0 ? 0 : 19_000 + random.next() % 100),
            lastSeenDay: UInt16(20_000 + random.next() % 100), expires: expires,
            coversSubdomains: random.next() % 7 == 0)
    }

    static func request(_ id: UploadID, source: UInt16, _ reports: [(IndicatorDigest, EntryMetadata)]) -> LiveStore.UploadRequest {
        LiveStore.UploadRequest(id: id, source: source, reports: reports.map { DigestReport($0.0, $0.1) })
    }

    static func journalFiles(_ directory: TemporaryDirectory) -> [String] {
        directory.contents().filter { $0.hasPrefix("journal.") }.sorted()
    }
}

/// The documented semantics (docs/LIVE-UPDATES.md), kept as plain dictionaries: per digest,
/// one report per source; an upload's report replaces its source's; an entry already expired
/// at an upload's time is dropped before merging; compaction drops entries expired at its time.
struct LiveModel {
    var reports: [IndicatorDigest: [UInt16: Report]] = [:]
    var uploads: [UploadID: (source: UInt16, number: UInt32, content: [DigestReport])] = [:]
    var lastNumber: UInt32 = 0

    /// Applies an upload; returns its number, nil for a retry with the same content.
    mutating func upload(_ id: UploadID, source: UInt16, _ content: [(IndicatorDigest, EntryMetadata)], time: UInt64) -> UInt32? {
        var unique: [IndicatorDigest: EntryMetadata] = [:]
        for (digest, metadata) in content {
            var metadata = metadata
            metadata.sourceID = source
            unique[digest] = unique[digest].map { $0.merged(with: metadata) } ?? metadata
        }
        if let known = uploads[id] { return known.source == source ? nil : nil }
        lastNumber += 1
        uploads[id] = (source, lastNumber, unique.map { DigestReport($0.key, $0.value) })
        for (digest, metadata) in unique {
            var current = reports[digest] ?? [:]
            if let entry = entry(current), entry.isExpired(at: UInt32(time)) { current = [:] }
            current[source] = Report(source: source, upload: lastNumber, metadata: metadata)
            reports[digest] = current
        }
        return lastNumber
    }

    mutating func withdraw(values: [IndicatorDigest], source: UInt16) -> Int {
        var count = 0
        for digest in Set(values) where reports[digest]?[source] != nil {
            reports[digest]![source] = nil
            count += 1
        }
        return count
    }

    mutating func withdraw(upload id: UploadID, source: UInt16) -> Int? {
        guard let upload = uploads[id], upload.source == source else { return nil }
        var count = 0
        for (digest, current) in reports where current[source]?.upload == upload.number {
            reports[digest]![source] = nil
            count += 1
        }
        return count
    }

    mutating func compact(now: UInt32) {
        for (digest, current) in reports where entry(current).map({ $0.isExpired(at: now) }) ?? true {
            reports[digest] = nil
        }
    }

    func entry(_ current: [UInt16: Report]) -> EntryMetadata? {
        current.isEmpty ? nil : ReportMerge.entry(Array(current.values))
    }

    func lookup(_ digest: IndicatorDigest, now: UInt32) -> EntryMetadata? {
        guard let entry = entry(reports[digest] ?? [:]), !entry.isExpired(at: now) else { return nil }
        return entry
    }
}
