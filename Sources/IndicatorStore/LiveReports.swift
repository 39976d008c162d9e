package import IndicatorKit

/// One source's live statement about one digest (docs/LIVE-UPDATES.md, "Reports and
/// entries"). A source has at most one report per digest: a later upload of the same value
/// by the same source replaces its earlier report.
package struct Report: Equatable, Hashable, Sendable {
    package var source: UInt16
    /// The upload that made it (24 bits; 0 = an entry from before live updates).
    package var upload: UInt32
    /// Its metadata; `sourceID` is `source`.
    package var metadata: EntryMetadata

    package init(source: UInt16, upload: UInt32, metadata: EntryMetadata) {
        self.source = source
        self.upload = upload
        self.metadata = metadata
        self.metadata.sourceID = source
    }
}

/// The merge of a digest's reports into the entry the matcher answers from.
package enum ReportMerge {
    /// The entry of `reports` (non-empty; any order — the result does not depend on it):
    /// earliest non-zero first seen, latest last seen, highest confidence; category and
    /// action of the report with the highest confidence (ties: the lowest source id); latest
    /// expiry (0, never, wins); the *strictest* TLP; covers subdomains if any does; the lowest
    /// source id.
    package static func entry(_ reports: [Report]) -> EntryMetadata {
        precondition(!reports.isEmpty, "an entry needs a report")
        var leader = reports[0]
        for report in reports.dropFirst()
        where report.metadata.confidence > leader.metadata.confidence
            || (report.metadata.confidence == leader.metadata.confidence && report.source < leader.source) {
            leader = report
        }
        var result = leader.metadata
        result.sourceID = reports.map(\.source).min()!
        result.tlp = reports.map(\.metadata.tlp).max()!
        result.lastSeenDay = reports.map(\.metadata.lastSeenDay).max()!
        result.firstSeenDay = reports.map(\.metadata.firstSeenDay).filter { $0 != 0 }.min() ?? 0
        result.expires = reports.contains { $0.metadata.expires == 0 } ? 0 : reports.map(\.metadata.expires).max()!
        result.coversSubdomains = reports.contains { $0.metadata.coversSubdomains }
        return result
    }
}

/// What the delta knows of one digest: its merged entry, or a tombstone (nil: the snapshot's
/// entry, if any, must not match), and its live reports sorted by source.
package struct DeltaEntry: Equatable, Sendable {
    package var entry: EntryMetadata?
    package var reports: [Report]

    package init(reports: [Report]) {
        self.reports = reports.sorted { $0.source < $1.source }
        self.entry = reports.isEmpty ? nil : ReportMerge.entry(reports)
    }
}

/// One immutable layer of the delta: the digests changed by one group of journal records (or
/// several layers merged), keyed by stored digest (`Slot.stored`).
package final class DeltaLayer: Sendable {
    package let entries: [IndicatorDigest: DeltaEntry]
    /// Network prefix lengths of the uploads applied (for the matcher and the next snapshot).
    package let prefixes: NetworkPrefixes
    /// Some entry of the layer covers its subdomains (a superset after merging: the flag only
    /// makes a matcher probe parents, it never makes one match).
    package let hasSubdomainEntries: Bool
    /// What lookups probe (`entries` serves the writer and compaction).
    let index: DeltaIndex

    package init(entries: [IndicatorDigest: DeltaEntry], prefixes: NetworkPrefixes, hasSubdomainEntries: Bool? = nil) {
        self.entries = entries
        self.index = DeltaIndex(entries)
        self.prefixes = prefixes
        self.hasSubdomainEntries = hasSubdomainEntries ?? entries.values.contains { $0.entry?.coversSubdomains == true }
    }

    /// `older` with `newer`'s entries replacing its own.
    package static func merging(_ older: DeltaLayer, _ newer: DeltaLayer) -> DeltaLayer {
        var prefixes = older.prefixes
        prefixes.formUnion(newer.prefixes)
        return DeltaLayer(
            entries: older.entries.merging(newer.entries) { _, new in new }, prefixes: prefixes,
            hasSubdomainEntries: older.hasSubdomainEntries || newer.hasSubdomainEntries)
    }

    /// Appends `layer` as the newest of `layers` (newest first) and merges neighbours while
    /// the older one is at most twice the newer, so there are O(log n) layers and each entry
    /// is copied O(log n) times over its life (a binary-counter LSM).
    package static func pushing(_ layer: DeltaLayer, onto layers: [DeltaLayer]) -> [DeltaLayer] {
        var result = [layer] + layers
        while result.count >= 2 && result[1].entries.count <= 2 * result[0].entries.count {
            let merged = merging(result[1], result[0])
            result.replaceSubrange(0...1, with: [merged])
        }
        return result
    }
}

/// The reports of every multi-report digest of the snapshot (`store/reports.*`), in memory:
/// read by the writer (to merge new reports into multi entries) and by compaction, never by
/// queries. Immutable; replaced at compaction.
package final class ReportsTable: Sendable {
    package let reports: [IndicatorDigest: [Report]]

    package init(_ reports: [IndicatorDigest: [Report]] = [:]) { self.reports = reports }

    /// Reports in the table (those of multi-report entries).
    var reportCount: Int { reports.values.reduce(0) { $0 + $1.count } }
}
