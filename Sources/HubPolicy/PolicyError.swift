/// One problem with a policy file or directory. `description` is the line an operator reads:
/// `Policies/bank-a.json: field "rate.per_second": must be a positive integer, got -5`.
public enum PolicyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A field is missing, unknown, of the wrong JSON type or has a value outside its rules.
    /// `path` is dotted with list indexes: `rate.burst`, `types[2]`.
    case field(file: String, path: String, reason: String)
    /// The file is not valid JSON (RFC 8259); line and column are 1-based.
    case syntax(file: String, line: Int, column: Int, reason: String)
    /// The file as a whole: unreadable, too large, not a JSON object, a duplicate partner.
    case file(file: String, reason: String)
    /// The directory: missing, unreadable, or holding no policy.
    case directory(path: String, reason: String)

    /// The file (or directory) the problem is in.
    public var file: String {
        switch self {
        case .field(let file, _, _), .syntax(let file, _, _, _), .file(let file, _): file
        case .directory(let path, _): path
        }
    }

    /// The field path for `.field`, else nil.
    public var fieldPath: String? {
        if case .field(_, let path, _) = self { return path }
        return nil
    }

    /// The reason without the file and field.
    public var reason: String {
        switch self {
        case .field(_, _, let reason), .file(_, let reason), .directory(_, let reason): reason
        case .syntax(_, let line, let column, let reason): "invalid JSON at line \(line), column \(column): \(reason)"
        }
    }

    public var description: String {
        switch self {
        case .field(let file, let path, let reason): "\(file): field \"\(path)\": \(reason)"
        case .syntax(let file, _, _, _), .file(let file, _): "\(file): \(reason)"
        case .directory(let path, let reason): "\(path): \(reason)"
        }
    }
}

/// Why a policy file or a policy set was refused: every problem found, in file order.
/// A set is loaded all or nothing, so a server that gets this error keeps its old set.
public struct PolicyLoadError: Error, Equatable, Sendable, CustomStringConvertible {
    public var problems: [PolicyError]

    public init(_ problems: [PolicyError]) {
        precondition(!problems.isEmpty, "a load error has at least one problem")
        self.problems = problems
    }

    /// One problem per line.
    public var description: String {
        problems.map(\.description).joined(separator: "\n")
    }
}
