public import IndicatorKit

/// One immutable version of what the live store answers from: the snapshot and the delta
/// layers on top of it (docs/LIVE-UPDATES.md, "The in-memory delta"). The writer publishes
/// a new one after every durable group and compaction publishes one with the new snapshot;
/// a reader takes the current one (`LiveStore.view()`) for a batch and keeps it — and so the
/// snapshot's mapping — valid for as long as it holds it.
/// (`@unchecked`: every stored property is immutable; `table` points into the mapping that
/// `snapshot`, also held, keeps alive.)
public final class LiveState: @unchecked Sendable {
    /// The mapped snapshot (nil: none written yet).
    public let snapshot: Snapshot?
    /// Delta layers after compaction's freeze point, newest first.
    let live: [DeltaLayer]
    /// Delta layers frozen for a running compaction (≤ its sequence), newest first.
    let frozen: [DeltaLayer]
    /// The last journal sequence number applied.
    public let sequence: UInt64
    /// All layers, newest first (live, then frozen).
    let layers: [DeltaLayer]
    /// Network prefix lengths of the snapshot and the delta: what a matcher must probe.
    public let prefixes: NetworkPrefixes
    /// Some entry (snapshot or delta) may cover its subdomains.
    public let hasSubdomainEntries: Bool
    /// The snapshot's table (valid while `snapshot` is held, which this state does), read
    /// directly so that a lookup does not touch the snapshot object's reference count.
    let table: BucketTable?
    /// The layers' lookup indexes, newest first (what the matcher probes).
    let deltaIndexes: [DeltaIndex]

    init(snapshot: Snapshot?, live: [DeltaLayer], frozen: [DeltaLayer], sequence: UInt64) {
        self.snapshot = snapshot
        self.live = live
        self.frozen = frozen
        self.sequence = sequence
        self.layers = live + frozen
        var prefixes = snapshot?.header.prefixes ?? NetworkPrefixes()
        var subdomains = snapshot?.header.hasSubdomainEntries ?? false
        for layer in layers {
            prefixes.formUnion(layer.prefixes)
            subdomains = subdomains || layer.hasSubdomainEntries
        }
        self.prefixes = prefixes
        self.hasSubdomainEntries = subdomains
        self.table = snapshot?.table
        self.deltaIndexes = layers.map(\.index)
    }

    /// A state of `snapshot` alone (no delta), at its header's sequence; nil: an empty store.
    public convenience init(snapshot: Snapshot?) {
        self.init(snapshot: snapshot, live: [], frozen: [], sequence: snapshot?.header.sequence ?? 0)
    }

    /// Whether the delta is empty: lookups are then exactly the snapshot's.
    public var isDeltaEmpty: Bool { layers.isEmpty }

    /// Delta layers a lookup may probe (O(log n), see `DeltaLayer.pushing`).
    public var layerCount: Int { layers.count }

    /// Entries in the delta's layers (a digest changed in several layers counts once per layer).
    public var deltaCount: Int { layers.reduce(0) { $0 + $1.entries.count } }

    /// Entries in the live layers (written since the last compaction's freeze): what the
    /// background compactor's threshold is compared with.
    public var liveCount: Int { live.reduce(0) { $0 + $1.entries.count } }

    /// The delta's state of a stored digest (newest layer first), nil when the delta does not
    /// know it.
    func deltaEntry(_ stored: IndicatorDigest) -> DeltaEntry? {
        for layer in layers {
            if let entry = layer.index.find(stored) { return entry }
        }
        return nil
    }

    /// The metadata answered for `digest` at `now` (Unix seconds): the delta's entry when it
    /// has one (a tombstone hides the snapshot's), else the snapshot's; expired entries never
    /// match. With an empty delta this is one branch more than `Snapshot.lookup`.
    public func lookup(_ digest: IndicatorDigest, now: UInt32) -> EntryMetadata? {
        let stored = Slot.stored(digest)
        if !layers.isEmpty, let delta = deltaEntry(stored) {
            guard let entry = delta.entry, !entry.isExpired(at: now) else { return nil }
            return entry
        }
        guard let table else { return nil }
        let index = table.find(lo: stored.lo, hi: stored.hi)
        guard index >= 0 else { return nil }
        let metadata = table.metadata(at: index)
        return metadata.isExpired(at: now) ? nil : metadata
    }

    /// `lookup` for each of `digests`, into `results` (`results[i]` answers `digests[i]`).
    public func lookup(_ digests: UnsafeBufferPointer<IndicatorDigest>, now: UInt32, into results: UnsafeMutableBufferPointer<EntryMetadata?>) {
        precondition(results.count >= digests.count, "one result per digest")
        if layers.isEmpty {
            for index in digests.indices { results[index] = lookup(digests[index], now: now) }
            return
        }
        for index in digests.indices { results[index] = lookup(digests[index], now: now) }
    }

    /// The live reports of a stored digest: the delta's, else those of the snapshot's entry
    /// (its single report, or the reports table's for a multi entry).
    func reports(_ stored: IndicatorDigest, table: ReportsTable) -> [Report] {
        if let delta = deltaEntry(stored) { return delta.reports }
        guard let snapshot, let entry = snapshot.storedEntry(stored) else { return [] }
        if entry.multi { return table.reports[stored] ?? [] }
        return [Report(source: entry.metadata.sourceID, upload: entry.upload, metadata: entry.metadata)]
    }
}

/// Applies journal records on top of a `LiveState` into one new delta layer (the writer's
/// group, or recovery's replay). Pure: no I/O.
struct DeltaBuilder {
    let base: LiveState
    let table: ReportsTable
    private(set) var pending: [IndicatorDigest: DeltaEntry] = [:]
    private(set) var prefixes = NetworkPrefixes()

    init(base: LiveState, table: ReportsTable) {
        self.base = base
        self.table = table
    }

    var isEmpty: Bool { pending.isEmpty }

    /// The current reports of a stored digest, this builder's changes included.
    func reports(_ stored: IndicatorDigest) -> [Report] {
        if let entry = pending[stored] { return entry.reports }
        return base.reports(stored, table: table)
    }

    /// An upload: each report replaces its source's report of that digest. An entry already
    /// expired at the upload's time is gone: its old reports are dropped, not merged.
    mutating func applyUpload(_ body: UploadBody) {
        prefixes.formUnion(body.prefixes)
        let now = UInt32(clamping: body.time)
        for report in body.reports {
            var current = reports(report.digest)
            if !current.isEmpty && ReportMerge.entry(current).isExpired(at: now) { current = [] }
            current.removeAll { $0.source == body.source }
            current.append(Report(source: body.source, upload: body.number, metadata: report.metadata))
            pending[report.digest] = DeltaEntry(reports: current)
        }
    }

    /// Withdraws `source`'s reports of `digests` (stored); returns how many it had.
    mutating func applyWithdrawValues(source: UInt16, digests: [IndicatorDigest]) -> Int {
        var withdrawn = 0
        for digest in digests {
            var current = reports(digest)
            let before = current.count
            current.removeAll { $0.source == source }
            guard current.count != before else { continue }
            withdrawn += 1
            pending[digest] = DeltaEntry(reports: current)
        }
        return withdrawn
    }

    /// Withdraws every report `source` made in upload `number`; returns how many. Scans the
    /// delta, the snapshot and the reports table for that upload's digests (O(snapshot)).
    mutating func applyWithdrawUpload(source: UInt16, number: UInt32) -> Int {
        var candidates = Set<IndicatorDigest>()
        for (digest, entry) in pending where entry.reports.contains(where: { $0.source == source && $0.upload == number }) {
            candidates.insert(digest)
        }
        for layer in base.layers {
            for (digest, entry) in layer.entries where entry.reports.contains(where: { $0.source == source && $0.upload == number }) {
                candidates.insert(digest)
            }
        }
        base.snapshot?.forEachStoredEntry { digest, entry in
            if !entry.multi && entry.upload == number && entry.metadata.sourceID == source { candidates.insert(digest) }
        }
        for (digest, reports) in table.reports where reports.contains(where: { $0.source == source && $0.upload == number }) {
            candidates.insert(digest)
        }
        var withdrawn = 0
        for digest in candidates {
            var current = reports(digest)
            let before = current.count
            current.removeAll { $0.source == source && $0.upload == number }
            guard current.count != before else { continue }
            withdrawn += 1
            pending[digest] = DeltaEntry(reports: current)
        }
        return withdrawn
    }

    /// The layer built, nil when nothing changed.
    func layer() -> DeltaLayer? {
        pending.isEmpty ? nil : DeltaLayer(entries: pending, prefixes: prefixes)
    }
}
