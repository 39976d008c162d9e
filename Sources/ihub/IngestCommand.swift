import FeedFormats
import Glibc
import HubPOSIX
import HubWire
import IndicatorKit
import IndicatorStore

/// `ihub ingest --data DIR --source NAME [--format auto|list|csv|stix|misp] [--defanged] [--strict] [defaults] FILE...`
///
/// Opens the live store under the data directory's writer lock (refused at once, naming the
/// holder, while a hub serves the directory: upload with `ihub push` then), digests every valid
/// record of the files into one upload and merges it with the snapshot and the journal's delta
/// into a new snapshot (`LiveStore.ingest`: one sequential write, `fsync`, atomic rename; the
/// upload gets an upload number and an upload index entry, so `ihub withdraw --upload` and
/// expiry treat it as a pushed upload). A file that cannot be read at all (missing, binary,
/// CSV without a value column) stops the ingest with
/// exit 2 before anything is written: the store is unchanged (only a new source name may have
/// been registered). A MISP feed directory (or its `manifest.json`) stands for the event files
/// its manifest lists. With `--strict`, any refused record refuses the whole upload: nothing is
/// written and the exit status is 1.
enum IngestCommand {
    static let usage = "ihub ingest --data DIR --source NAME [--format auto|list|csv|stix|misp] [--type T] [--defanged] [--strict] FILE|MISP-FEED-DIR..."

    static func run(_ arguments: [String]) throws(UsageError) -> ExitStatus {
        let args = try Arguments(
            arguments,
            valued: ["data", "source", "format", "type", "value-column", "category", "confidence", "tlp",
                     "action", "expires", "ttl"],
            booleans: ["json", "defanged", "strict"])
        let json = args.flag("json")
        let (directory, key) = try StoreFiles.open(try args.required("data"))
        let source = try args.required("source")
        let format = try parseFormat(args.value("format") ?? "auto")
        let type = try args.value("type").map { (name) throws(UsageError) in try CanonicalCommand.parseType(name) }
        guard !args.positionals.isEmpty else { throw UsageError("no feed files given (usage: \(usage))") }
        let now = Clock.unixSeconds()
        var defaults = try parseDefaults(args, now: now)

        let store: LiveStore
        do {
            store = try LiveStore.open(data: directory, keyID: key.id, verification: .full)
        } catch .storeInUse(let path, let pid) {
            throw UsageError(LiveStoreError.storeInUse(lockPath: path, pid: pid).description
                + "; while a hub serves this data directory, upload with 'ihub push' instead")
        } catch {
            throw UsageError(error.description)
        }
        defer { store.close() }
        do {
            defaults.sourceID = try directory.sourceID(for: source)
            let progress = Console.showsProgress(json: json)
            var batches = [LiveStore.IngestBatch(
                id: UploadID.random(), source: defaults.sourceID, format: format.map { UploadFormat($0).rawValue } ?? 0)]
            var digester = FeedDigester(key: key, defaults: defaults, now: now, defanged: args.flag("defanged"))
            defer { digester.release() }
            for argument in args.positionals {
                for (path, fileFormat) in try feedFiles(argument, format: format) {
                    if progress { Console.progress("reading \(path)…") }
                    var bytes = path == "-" ? Console.readStandardInput() : try FileBytes.read(path)
                    defer { bytes.wipe() }
                    if let lines = Self.lineCount(bytes, format: fileFormat) { batches[0].reserveCapacity(additional: lines) }
                    try bytes.withUnsafeBufferPointer { (buffer) throws(FeedError) in
                        try digester.add(buffer, file: path, format: fileFormat, type: type,
                                         valueColumn: args.value("value-column")) { entry in
                            batches[0].add(entry.digest, entry.metadata, form: entry.form)
                        }
                    }
                }
            }
            var report = digester.currentReport
            if args.flag("strict"), report.rejected > 0 {
                if progress { Console.endProgress() }
                printReport(report, json: json, entries: nil)
                return .someRefused
            }
            if progress { Console.progress("merging \(batches[0].count) records into the store…") }
            batches[0].refused = UInt32(clamping: report.rejected)
            let summary = try store.ingest(&batches, time: UInt64(now), now: now)
            report.countDuplicates(summary.receipts.reduce(0) { $0 + Int($1.duplicates) } + summary.existing)
            if progress { Console.endProgress() }
            printReport(report, json: json, entries: summary.compaction.entries, upload: summary.receipts.first.map {
                (number: $0.uploadNumber, id: batches[0].id)
            })
            return report.rejected > 0 ? .someRefused : .success
        } catch let error as UsageError {
            throw error
        } catch {
            throw UsageError(String(describing: error))
        }
    }

    /// The number of lines of a file that is not JSON (at most one record each), to size the
    /// upload's records once; nil for STIX/MISP (their lines say nothing about their records).
    static func lineCount(_ bytes: [UInt8], format: FeedFormat?) -> Int? {
        guard format != .stix && format != .misp else { return nil }
        let first = bytes.first { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }
        guard first != UInt8(ascii: "{") && first != UInt8(ascii: "[") else { return nil }
        return bytes.withUnsafeBytes { raw in
            // Eight bytes at a time: a byte of `word ^ 0x0A…` is zero where a newline is;
            // `(b & 0x7F) + 0x7F | b` has its top bit set exactly for the non-zero bytes.
            var lines = 1
            var offset = 0
            let low: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
            while offset + 8 <= raw.count {
                let word = raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self) ^ 0x0A0A_0A0A_0A0A_0A0A
                let nonZero = ((word & low) &+ low | word) & ~low
                lines += 8 - nonZero.nonzeroBitCount
                offset += 8
            }
            while offset < raw.count {
                if raw[offset] == 0x0A { lines += 1 }
                offset += 1
            }
            return lines
        }
    }

    /// The report; `entries` nil means nothing was written (`--strict` with refused records).
    static func printReport(
        _ report: FeedDigester.Report, json: Bool, entries: Int?, upload: (number: UInt32, id: UploadID)? = nil
    ) {
        let skippedReasons = report.skippedByReason.sorted { $0.key < $1.key }
        if json {
            let errors: [JSON.Value] = report.problems.map {
                var fields: [(String, JSON.Value)] = [("file", .string($0.file)), ("line", .int($0.line))]
                if let path = $0.path { fields.append(("path", .string(path))) }
                fields.append(("reason", .string($0.reason)))
                return .object(fields)
            }
            var fields: [(String, JSON.Value)] = [
                ("accepted", .int(entries == nil ? 0 : report.accepted)), ("duplicates", .int(report.duplicates)),
                ("rejected", .int(report.rejected)), ("skipped", .int(report.skipped)),
                ("skipped_reasons", .object(skippedReasons.map { ($0.key, .int($0.value)) })),
                ("withdrawals", .int(report.withdrawals)), ("written", .bool(entries != nil)),
            ]
            if let upload {
                fields.append(("upload_number", .int(Int(upload.number))))
                fields.append(("upload_id", .string(upload.id.hex)))
            }
            fields.append(("errors", .array(errors)))
            Console.out(JSON.encode(.object(fields)))
            return
        }
        var summary = "accepted \(entries == nil ? 0 : report.accepted), duplicates \(report.duplicates), rejected \(report.rejected)"
        if report.skipped > 0 {
            summary += ", skipped \(report.skipped) (" + skippedReasons.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + ")"
        }
        if let entries {
            summary += "; the store now holds \(entries) entries"
            if let upload { summary += "; upload \(upload.number), id \(upload.id.hex)" }
        } else {
            summary += "; --strict: nothing written (\(report.accepted) good records were not taken)"
        }
        Console.out(summary)
        for problem in report.problems { Console.out(problem.description) }
    }

    /// The files an argument stands for: itself, or for a MISP feed directory (or its
    /// `manifest.json`) every event file the manifest lists, read as MISP.
    static func feedFiles(_ argument: String, format: FeedFormat?) throws -> [(String, FeedFormat?)] {
        var directory: String?
        var info = stat()
        if argument != "-", stat(argument, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
            directory = argument
        } else if argument.hasSuffix("/manifest.json") || argument == "manifest.json", format == nil || format == .misp {
            directory = POSIX.directory(of: argument)
        }
        guard let directory else { return [(argument, format)] }
        guard format == nil || format == .misp else {
            throw UsageError("\(argument) is a directory; only a MISP feed directory (with manifest.json) can be read")
        }
        let manifest = directory + "/manifest.json"
        guard POSIX.exists(manifest) else {
            throw UsageError("\(argument) is a directory without manifest.json (not a MISP feed)")
        }
        var bytes = try FileBytes.read(manifest)
        defer { bytes.wipe() }
        let events = try bytes.withUnsafeBufferPointer { (buffer) throws(FeedError) in
            try MISPReader.manifestEvents(buffer, file: manifest)
        }
        return events.map { (directory + "/" + $0 + ".json", FeedFormat.misp) }
    }

    static func parseFormat(_ name: String) throws(UsageError) -> FeedFormat? {
        if name == "auto" { return nil }
        guard let format = FeedFormat(rawValue: name) else {
            throw UsageError("unknown --format '\(name)' (one of: auto, list, csv, stix, misp)")
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
