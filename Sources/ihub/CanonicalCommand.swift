import IndicatorKit

/// `ihub canonical [--type T] [--json] VALUE...|-`: how each value will be matched, or why it
/// is refused. Never touches the data directory.
enum CanonicalCommand {
    static let usage = "ihub canonical [--type T] [--json] VALUE...|-"

    static func run(_ arguments: [String]) throws(UsageError) -> ExitStatus {
        let args = try Arguments(arguments, valued: ["type"], booleans: ["json"])
        let type = try args.value("type").map { (name) throws(UsageError) in try parseType(name) }
        let values = Console.values(from: args.positionals)
        guard !values.isEmpty else { throw UsageError("no values given (usage: \(usage))") }
        var refused = 0
        var rows: [[String]] = []
        for value in values {
            do {
                let (form, bytes) = try Canonicalizer.canonical(value, as: type)
                let text = Canonicalizer.display(form, bytes: bytes)
                var fields: [(String, JSON.Value)] = [
                    ("input", .string(value)), ("type", .string(form.type.name)), ("canonical", .string(text)),
                ]
                if form.coversSubdomains { fields.append(("covers_subdomains", .bool(true))) }
                if args.flag("json") {
                    Console.out(JSON.encode(.object(fields)))
                } else {
                    rows.append([value, form.type.name, text + (form.coversSubdomains ? "  (and subdomains)" : "")])
                }
            } catch {
                refused += 1
                if args.flag("json") {
                    Console.out(JSON.encode(.object([("input", .string(value)), ("error", .string(error.description))])))
                } else {
                    rows.append([value, "refused", error.description])
                }
            }
        }
        if !args.flag("json") {
            Table.print(header: ["INPUT", "TYPE", "CANONICAL"], rows: rows)
        }
        return refused > 0 ? .someRefused : .success
    }

    static func parseType(_ name: String) throws(UsageError) -> IndicatorType {
        guard let type = IndicatorType(name: name) else {
            let names = IndicatorType.allCases.map(\.name).joined(separator: ", ")
            throw UsageError("unknown --type '\(name)' (one of: \(names))")
        }
        return type
    }
}

/// Plain aligned text tables for humans.
enum Table {
    static func print(header: [String], rows: [[String]]) {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count - 1 {
                widths[index] = max(widths[index], min(cell.count, 60))
            }
        }
        func line(_ cells: [String]) -> String {
            var text = ""
            for (index, cell) in cells.enumerated() {
                if index == cells.count - 1 {
                    text += cell
                } else {
                    text += cell + String(repeating: " ", count: max(1, widths[index] - cell.count + 2))
                }
            }
            return text
        }
        Console.out(line(header))
        for row in rows { Console.out(line(row)) }
    }
}
