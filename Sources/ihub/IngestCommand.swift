import FeedFormats
import IndicatorKit
import IndicatorStore

/// `ihub ingest --data DIR --source NAME [--format auto|list|csv] [defaults] FILE...`
///
/// Under the data directory's writer lock: the current snapshot is opened (fully verified), its
/// live entries and every valid record of the files go into one `SnapshotWriter`, which merges
/// equal digests, drops expired entries and replaces the snapshot atomically. A file that
/// cannot be read at all (missing, binary, CSV without a value column) stops the ingest with
/// exit 2 before anything is written: the store is unchanged (only a new source name may have
/// been registered).
enum IngestCommand {
    static let usage = "ihub ingest --data DIR --source NAME [--format auto|list|csv] [--type T] FILE..."

    static func run(_ arguments: [String]) throws(UsageError) -> ExitStatus {
        let args = try Arguments(
            arguments,
            valued: ["data", "source", "format", "type", "value-column", "category", "confidence", "tlp",
                     "action", "expires", "ttl"],
            booleans: ["json"])
        let json = args.flag("json")
        let (directory, key) = try StoreFiles.open(try args.required("data"))
        let source = try args.required("source")
        let format = try parseFormat(args.value("format") ?? "auto")
        let type = try args.value("type").map { (name) throws(UsageError) in try CanonicalCommand.parseType(name) }
        guard !args.positionals.isEmpty else { throw UsageError("no feed files given (usage: \(usage))") }
        let now = Clock.unixSeconds()
        var defaults = try parseDefaults(args, now: now)

        do {
            return try directory.withWriterLock { () throws -> ExitStatus in
                defaults.sourceID = try directory.sourceID(for: source)
                let progress = Console.showsProgress(json: json)
                if progress { Console.progress("opening the store…") }
                directory.removeStaleTemporaryFiles()
                let existing = try Snapshot.open(directory.snapshotPath, key: key, verification: .full)
                var writer = SnapshotWriter(key: key, reservingCapacity: existing.entryCount)
                try writer.add(contentsOf: existing, liveAt: now)
                var digester = FeedDigester(key: key, defaults: defaults, now: now)
                defer { digester.release() }
                for path in args.positionals {
                    if progress { Console.progress("reading \(path)…") }
                    var bytes = path == "-" ? Console.readStandardInput() : try FileBytes.read(path)
                    defer { bytes.wipe() }
                    try bytes.withUnsafeBufferPointer { (buffer) throws(FeedError) in
                        try digester.add(buffer, file: path, format: format, type: type,
                                         valueColumn: args.value("value-column")) { entry in
                            writer.add(entry.digest, entry.metadata, form: entry.form)
                        }
                    }
                }
                if progress { Console.progress("writing the snapshot (\(writer.count) entries before merging)…") }
                let summary = try writer.write(to: directory.snapshotPath, droppingExpiredAt: now)
                // Old entries are unique among themselves, so every merge involved a new record.
                var report = digester.currentReport
                report.countDuplicates(summary.duplicates)
                if progress { Console.endProgress() }
                printReport(report, json: json, entries: summary.entries)
                return report.rejected > 0 ? .someRefused : .success
            }
        } catch let error as UsageError {
            throw error
        } catch {
            throw UsageError(String(describing: error))
        }
    }

    static func printReport(_ report: FeedDigester.Report, json: Bool, entries: Int) {
        if json {
            let errors: [JSON.Value] = report.problems.map {
                .object([("file", .string($0.file)), ("line", .int($0.line)), ("reason", .string($0.reason))])
            }
            Console.out(JSON.encode(.object([
                ("accepted", .int(report.accepted)), ("duplicates", .int(report.duplicates)),
                ("rejected", .int(report.rejected)), ("errors", .array(errors)),
            ])))
            return
        }
        Console.out("accepted \(report.accepted), duplicates \(report.duplicates), rejected \(report.rejected); the store now holds \(entries) entries")
        for problem in report.problems { Console.out(problem.description) }
    }

    static func parseFormat(_ name: String) throws(UsageError) -> FeedFormat? {
        if name == "auto" { return nil }
        guard let format = FeedFormat(rawValue: name) else {
            throw UsageError("unknown --format '\(name)' (one of: auto, list, csv; STIX and MISP arrive with the feeds issue)")
        }
        return format
    }

    /// The metadata every record gets unless its feed says otherwise.
    static func parseDefaults(_ args: Arguments, now: UInt32) throws(UsageError) -> EntryMetadata {
        var defaults = EntryMetadata()
        let today = UInt16(now / 86_400)
        defaults.firstSeenDay = today
        defaults.lastSeenDay = today
        func option<T>(_ name: String, _ parse: (String) throws(FieldParsers.FieldError) -> T?)
            throws(UsageError) -> T?
        {
            guard let text = args.value(name) else { return nil }
            do {
                return try parse(text)
            } catch {
                throw UsageError("--\(name): \(error.reason)")
            }
        }
        if let category = try option("category", FieldParsers.category) { defaults.category = category }
        if let confidence = try option("confidence", FieldParsers.confidence) { defaults.confidence = confidence }
        if let tlp = try option("tlp", FieldParsers.tlp) { defaults.tlp = tlp }
        if let action = try option("action", FieldParsers.action) { defaults.action = action }
        if let expires = try option("expires", FieldParsers.timestamp) { defaults.expires = expires }
        if let text = args.value("ttl") {
            guard let days = UInt32(text), days > 0, days <= 36_500 else {
                throw UsageError("--ttl '\(text)' must be a whole number of days from 1 to 36500")
            }
            guard args.value("expires") == nil else { throw UsageError("give --ttl or --expires, not both") }
            defaults.expires = now + days * 86_400
        }
        return defaults
    }
}

extension Array where Element == UInt8 {
    /// Overwrites the bytes (feed files hold raw indicators) before the memory is released.
    mutating func wipe() {
        withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }
}
