public import IndicatorKit

/// CSV feeds with a header row naming the value column (see `CSVHeader`). Lines starting `#`
/// before the header are a banner; a commented header (`# id,dateadded,url,…`, URLhaus) is
/// used when the first uncommented line is data. `#` lines after the header are skipped
/// (Feodo Tracker's `# END 28 entries`).
public enum CSVReader {
    /// Reads `bytes` (the file `file`). Calls `body` for each good record and `problem` for
    /// each refused one. `type` forces every value's type. Throws only when the file has no
    /// usable header.
    public static func read(
        _ bytes: UnsafeBufferPointer<UInt8>, file: String, type: IndicatorType?,
        valueColumn: String? = nil,
        _ body: (FeedRecord) -> Void, problem: (FeedProblem) -> Void
    ) throws(FeedError) {
        var parser = CSVParser()
        var header: CSVHeader?
        var headerLine = 0
        var lastComment: (line: Int, text: UnsafeBufferPointer<UInt8>)?
        var offset = bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0
        var line = 1
        while offset < bytes.count {
            let lineEnd = bytes[offset...].firstIndex(of: 0x0A) ?? bytes.count
            let text = LineScanner.trim(UnsafeBufferPointer(rebasing: bytes[offset..<lineEnd]))
            if text.isEmpty || text.first == 0x23 {
                if header == nil, !text.isEmpty { lastComment = (line, text) }
                offset = lineEnd + 1
                line += 1
                continue
            }
            let next: Int
            let spanned: Int
            do {
                (next, spanned) = try parser.parseRecord(bytes, at: offset, line: line)
            } catch {
                switch error {
                case .unterminatedQuote(let at):
                    problem(FeedProblem(file: file, line: at, reason: "quoted field never closes"))
                    return  // the rest of the file is inside the open quote
                case .textAfterQuote(let at):
                    problem(FeedProblem(file: file, line: at, reason: "text after a closing quote"))
                    offset = lineEnd + 1
                    line += 1
                    continue
                }
            }
            defer {
                offset = next
                line += spanned
            }
            guard let mapping = header else {
                let cells = (0..<parser.fieldCount).map { parser.fieldString($0) }
                if let found = CSVHeader(cells: cells, valueColumnName: valueColumn) {
                    header = found
                    headerLine = line
                    continue
                }
                if let comment = lastComment,
                   let found = CSVHeader(cells: CSVParser.splitSimple(CSVHeader.stripCommentMarker(comment.text)),
                                         valueColumnName: valueColumn)
                {
                    header = found
                    headerLine = comment.line
                    emit(parser, line: line, header: found, headerLine: headerLine, file: file, type: type,
                         body, problem: problem)
                    continue
                }
                throw .noValueColumn(file: file, line: line, header: cells)
            }
            emit(parser, line: line, header: mapping, headerLine: headerLine, file: file, type: type,
                 body, problem: problem)
        }
        if header == nil {
            throw .noValueColumn(file: file, line: line, header: [])
        }
    }

    private static func emit(
        _ parser: CSVParser, line: Int, header: CSVHeader, headerLine: Int, file: String,
        type forced: IndicatorType?, _ body: (FeedRecord) -> Void, problem: (FeedProblem) -> Void
    ) {
        guard parser.fieldCount == header.names.count else {
            problem(FeedProblem(
                file: file, line: line,
                reason: "row has \(parser.fieldCount) fields; the header (line \(headerLine)) has \(header.names.count)"))
            return
        }
        var fields = RecordFields()
        var declared: IndicatorType? = forced
        for (column, role) in header.roles where role != .value {
            let text = parser.fieldString(column).trimmingASCIISpaces()
            do throws(FieldParsers.FieldError) {
                switch role {
                case .value: break
                case .type:
                    if forced == nil, !text.isEmpty {
                        guard let named = FeedTypeNames.type(named: text) else {
                            throw FieldParsers.FieldError(reason: "type '\(text)' is not a supported indicator type")
                        }
                        declared = named
                    }
                case .category: fields.category = try FieldParsers.category(text)
                case .confidence: fields.confidence = try FieldParsers.confidence(text)
                case .tlp: fields.tlp = try FieldParsers.tlp(text)
                case .action: fields.action = try FieldParsers.action(text)
                case .firstSeen: fields.firstSeenDay = try FieldParsers.day(text)
                case .lastSeen: fields.lastSeenDay = try FieldParsers.day(text)
                case .expires: fields.expires = try FieldParsers.timestamp(text)
                }
            } catch {
                problem(FeedProblem(file: file, line: line,
                                    reason: "column '\(header.names[column])': \(error.reason)"))
                return
            }
        }
        parser.withField(header.valueColumn) { raw in
            let value = LineScanner.trim(raw)
            if value.isEmpty {
                problem(FeedProblem(file: file, line: line,
                                    reason: "empty value in column '\(header.names[header.valueColumn])'"))
                return
            }
            if declared == nil {
                switch header.impliedType {
                case .none: break
                case .exactly(let implied): declared = implied
                case .ipAddress: declared = value.contains(0x3A) ? .ipv6 : .ipv4
                }
            }
            body(FeedRecord(line: line, value: value, type: declared, fields: fields))
        }
    }
}

/// Type names feeds use, mapped to ours: our own names plus common MISP / STIX-ish spellings.
public enum FeedTypeNames {
    public static func type(named name: String) -> IndicatorType? {
        if let own = IndicatorType(name: name) { return own }
        switch name.lowercased() {
        case "ip", "ip-src", "ip-dst", "ipv4-addr", "ipv4_addr": return .ipv4
        case "ipv6-addr", "ipv6_addr": return .ipv6
        case "hostname", "domain-name", "fqdn": return .domain
        case "uri", "link": return .url
        case "email-src", "email-dst", "email-addr", "e-mail": return .email
        case "phone-number", "phone_number", "msisdn": return .phone
        case "btc", "bitcoin", "eth", "ethereum", "crypto-wallet": return .wallet
        case "bank-account", "bank_account": return .iban
        default: return nil
        }
    }
}
