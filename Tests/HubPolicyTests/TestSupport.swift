import Foundation
import HubPolicy
import IndicatorKit

/// Builds policy file texts: a valid bank policy whose fields can be replaced (with raw JSON
/// text), removed or added, so each test changes exactly one thing.
struct PolicyFile {
    static let baseFields: [(String, String)] = [
        ("partner", #""bank-a""#),
        ("role", #""bank""#),
        ("version", "1"),
        ("types", #"["iban", "email"]"#),
        ("categories", #"["fraud", "mule-account"]"#),
        ("purposes", #"["payment-screening"]"#),
        ("legal_bases", #"["psd2-art-94"]"#),
        ("reveal", #"["category"]"#),
        ("max_batch", "100"),
        ("rate", #"{"per_second": 10, "burst": 100}"#),
        ("daily_quota", "1000"),
        ("tlp_ceiling", #""amber""#),
        ("priorities", #"["routine", "urgent"]"#),
    ]

    var fields = PolicyFile.baseFields

    func replacing(_ name: String, with json: String) -> PolicyFile {
        var copy = self
        if let index = copy.fields.firstIndex(where: { $0.0 == name }) {
            copy.fields[index].1 = json
        } else {
            copy.fields.append((name, json))
        }
        return copy
    }

    func removing(_ names: String...) -> PolicyFile {
        var copy = self
        copy.fields.removeAll { names.contains($0.0) }
        return copy
    }

    func adding(_ name: String, _ json: String) -> PolicyFile {
        var copy = self
        copy.fields.append((name, json))
        return copy
    }

    var text: String {
        "{\n" + fields.map { "  \"\($0.0)\": \($0.1)" }.joined(separator: ",\n") + "\n}\n"
    }
}

/// The problems `PartnerPolicy.parse` reports for `text` (as printed), or [] when it parses.
func problems(_ text: String, file: String = "Policies/bank-a.json") -> [String] {
    do {
        _ = try PartnerPolicy.parse(Array(text.utf8), file: file)
        return []
    } catch {
        return error.problems.map(\.description)
    }
}

func parsed(_ text: PolicyFile, file: String = "Policies/bank-a.json") throws -> PartnerPolicy {
    try PartnerPolicy.parse(Array(text.text.utf8), file: file)
}

/// A fresh temporary directory, removed when the value is released.
final class TemporaryDirectory {
    let url: URL
    var path: String { url.path }

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("hubpolicy-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    @discardableResult
    func write(_ name: String, _ contents: String) throws -> String {
        let file = url.appendingPathComponent(name)
        try Data(contents.utf8).write(to: file)
        return file.path
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}

func fixtureURL(_ relativePath: String) -> URL {
    Bundle.module.resourceURL!.appendingPathComponent("Fixtures").appendingPathComponent(relativePath)
}
