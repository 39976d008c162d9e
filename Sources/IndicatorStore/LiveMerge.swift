import IndicatorKit

/// The one pass that builds a new snapshot's entries for compaction and for a local ingest
/// (docs/LIVE-UPDATES.md, "Compaction" and "Local ingest"): a merge-join, in ascending stored
/// digest order `(lo, hi)`, of
/// - the current snapshot's entries (already in that order: the file is written so),
/// - the delta's changed digests (sorted here; a tombstone hides the snapshot's entry),
/// - an ingest's new reports (sorted and de-duplicated by the caller; for several uploads,
///   equal digests in upload order),
///
/// giving sorted, unique records for `SnapshotWriter(keyID:sortedUnique:)` — no sort of the
/// whole store — and the new reports table. A digest only the snapshot has is copied as it is;
/// a new report of a digest nobody has becomes a single-report entry directly; only digests in
/// two inputs go through `Report`s and `ReportMerge`, with the rule of an upload
/// (`DeltaBuilder.applyUpload`): each report replaces its source's, and an entry already
/// expired at the upload's time is dropped rather than merged. Entries expired at `now` are
/// left out (`dropped`).
struct LiveMerge {
    /// Entries expired at this time are left out.
    let now: UInt32
    /// The uploads' time (for the "expired entries are not merged into" rule).
    let time: UInt32
    let table: ReportsTable
    let changed: [IndicatorDigest: DeltaEntry]
    private let changedKeys: [IndicatorDigest]

    /// The new snapshot's records, ascending and unique.
    private(set) var output: [SlotRecord] = []
    /// The new reports table (multi-report entries).
    private(set) var reports: [IndicatorDigest: [Report]] = [:]
    /// Entries left out because they had expired at `now` (withdrawn ones are not counted).
    private(set) var dropped = 0
    /// New reports of digests the store already had (a snapshot entry, expired or not, or a
    /// delta entry that is not a tombstone).
    private(set) var existing = 0

    private var fresh = UnsafeBufferPointer<SlotRecord>(start: nil, count: 0)
    /// The upload number of every fresh record (one upload), else nil: each record's word3
    /// carries its own.
    private var freshUpload: UInt32? = nil
    private var nextFresh = 0
    private var nextChanged = 0

    init(now: UInt32, time: UInt32, table: ReportsTable, changed: [IndicatorDigest: DeltaEntry]) {
        self.now = now
        self.time = time
        self.table = table
        self.changed = changed
        changedKeys = changed.keys.sorted { ($0.lo, $0.hi) < ($1.lo, $1.hi) }
    }

    /// Merges `snapshot`, the delta and `fresh` (see the type's description) into `output`.
    mutating func run(snapshot: Snapshot?, fresh: UnsafeBufferPointer<SlotRecord>, upload: UInt32?) {
        self.fresh = fresh
        freshUpload = upload
        nextFresh = 0
        nextChanged = 0
        output.reserveCapacity((snapshot?.entryCount ?? 0) + changed.count + fresh.count)
        snapshot?.forEachRecord { record in
            emitBefore(lo: record.lo, hi: record.hi)
            handle(IndicatorDigest(lo: record.lo, hi: record.hi), snapshot: record)
        }
        emitBefore(lo: nil, hi: nil)
        self.fresh = UnsafeBufferPointer(start: nil, count: 0)
    }

    /// The output so far, leaving it empty.
    mutating func takeOutput() -> [SlotRecord] {
        var taken: [SlotRecord] = []
        swap(&taken, &output)
        return taken
    }

    /// The merge when the snapshot and the delta are empty and `records` (sorted, unique) are
    /// one upload's: each record is a single-report entry (the writer adds the upload number,
    /// `SnapshotWriter.reportUpload`); only expired ones are left out (a copy only if any).
    mutating func adopt(_ records: [SlotRecord]) -> [SlotRecord] {
        precondition(changed.isEmpty, "adopt is the merge without a delta")
        let expired = records.reduce(0) { $0 + (isExpired($1.word2) ? 1 : 0) }
        guard expired > 0 else { return records }
        dropped += expired
        return records.filter { !isExpired($0.word2) }
    }

    /// Handles every fresh or changed digest below `(lo, hi)` (nil: all that remain).
    private mutating func emitBefore(lo: UInt64?, hi: UInt64?) {
        while true {
            let hasFresh = nextFresh < fresh.count
            let hasChanged = nextChanged < changedKeys.count
            var next: (UInt64, UInt64)
            if hasFresh {
                next = (fresh[nextFresh].lo, fresh[nextFresh].hi)
                if hasChanged {
                    let key = changedKeys[nextChanged]
                    if (key.lo, key.hi) < next { next = (key.lo, key.hi) }
                }
            } else if hasChanged {
                next = (changedKeys[nextChanged].lo, changedKeys[nextChanged].hi)
            } else {
                return
            }
            if let lo, let hi, !(next < (lo, hi)) { return }
            handle(IndicatorDigest(lo: next.0, hi: next.1), snapshot: nil)
        }
    }

    /// One digest: its snapshot record (if any), its delta entry (if the next changed key is
    /// it) and its fresh reports (the run of fresh records equal to it).
    private mutating func handle(_ digest: IndicatorDigest, snapshot: SlotRecord?) {
        var delta: DeltaEntry? = nil
        if nextChanged < changedKeys.count, changedKeys[nextChanged] == digest {
            delta = changed[digest]
            nextChanged += 1
        }
        let start = nextFresh
        while nextFresh < fresh.count, fresh[nextFresh].lo == digest.lo, fresh[nextFresh].hi == digest.hi { nextFresh += 1 }
        let count = nextFresh - start
        if count == 0 {
            if let delta {
                emit(digest, delta)
            } else if let snapshot {
                emitSnapshot(digest, snapshot)
            }
            return
        }
        var current: [Report] = []
        if let delta {
            current = delta.reports
            if delta.entry != nil { existing += count }
        } else if let snapshot {
            existing += count
            if Slot.isMulti(snapshot.word3) {
                current = table.reports[digest] ?? []
            } else {
                let metadata = Slot.decode(snapshot.word2, snapshot.word3)
                current = [Report(source: metadata.sourceID, upload: Slot.uploadNumber(snapshot.word3), metadata: metadata)]
            }
        }
        if current.isEmpty && count == 1 {
            // A value new to the store: its report is the entry.
            let record = fresh[start]
            if isExpired(record.word2) {
                dropped += 1
            } else {
                let upload = freshUpload ?? Slot.uploadNumber(record.word3)
                output.append(SlotRecord(
                    lo: record.lo, hi: record.hi, word2: record.word2,
                    word3: Slot.withReport(record.word3, upload: upload, multi: false)))
            }
            return
        }
        for index in start..<nextFresh {
            let record = fresh[index]
            let metadata = Slot.decode(record.word2, record.word3)
            if !current.isEmpty && ReportMerge.entry(current).isExpired(at: time) { current = [] }
            current.removeAll { $0.source == metadata.sourceID }
            current.append(Report(
                source: metadata.sourceID, upload: freshUpload ?? Slot.uploadNumber(record.word3), metadata: metadata))
        }
        emit(digest, DeltaEntry(reports: current))
    }

    /// The entry of `delta` (nothing for a tombstone).
    private mutating func emit(_ digest: IndicatorDigest, _ delta: DeltaEntry) {
        guard let entry = delta.entry else { return }
        guard !entry.isExpired(at: now) else {
            dropped += 1
            return
        }
        let (word2, word3) = Slot.encode(entry)
        let multi = delta.reports.count > 1
        if multi { reports[digest] = delta.reports }
        output.append(SlotRecord(
            lo: digest.lo, hi: digest.hi, word2: word2,
            word3: Slot.withReport(word3, upload: multi ? 0 : delta.reports[0].upload, multi: multi)))
    }

    /// A snapshot entry nothing else touches: copied as it is, with its reports if multi.
    private mutating func emitSnapshot(_ digest: IndicatorDigest, _ record: SlotRecord) {
        guard !isExpired(record.word2) else {
            dropped += 1
            return
        }
        if Slot.isMulti(record.word3) { reports[digest] = table.reports[digest] ?? [] }
        output.append(record)
    }

    /// `EntryMetadata.isExpired(at: now)` on a metadata word2 (its low 32 bits are `expires`).
    @inline(__always)
    private func isExpired(_ word2: UInt64) -> Bool {
        let expires = UInt32(truncatingIfNeeded: word2)
        return expires != 0 && now >= expires
    }
}
