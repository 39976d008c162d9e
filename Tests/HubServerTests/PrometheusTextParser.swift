import Foundation

/// A strict reader of the Prometheus text exposition format 0.0.4 as the hub writes it, for
/// the metrics tests: it refuses anything node_exporter's textfile collector could refuse or
/// misread, and the hub's own rules on top (`ihub_` prefix, `_total` on counters).
///
/// Checked: every line is `# HELP`, `# TYPE` or a sample (no blank lines, no other comments);
/// HELP and TYPE come once per family, before its samples, and a family's samples are
/// contiguous; metric and label names are valid; label values are quoted with valid escapes;
/// values parse, counters are finite and ≥ 0; no two samples have the same name and labels;
/// histogram buckets per series rise in `le`, are cumulative, end with `le="+Inf"` equal to
/// `_count`, and come with a `_sum`; the text ends with a newline.
struct PrometheusText {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct Invalid: Error, CustomStringConvertible {
        var line: Int
        var reason: String
        var description: String { "line \(line): \(reason)" }
    }

    var samples: [Sample] = []
    /// Family name → type (`counter`, `gauge`, `histogram`).
    var types: [String: String] = [:]
    var help: [String: String] = [:]

    /// The value of the sample `name` with exactly `labels`, if present.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    /// The sum of every sample named `name` whose labels include `matching`.
    func sum(_ name: String, matching: [String: String] = [:]) -> Double {
        samples.filter { sample in
            sample.name == name && matching.allSatisfy { sample.labels[$0.key] == $0.value }
        }.reduce(0) { $0 + $1.value }
    }

    init(_ text: String) throws {
        guard text.hasSuffix("\n") else { throw Invalid(line: 0, reason: "does not end with a newline") }
        var current: String?  // the family whose samples may follow
        var finished: Set<String> = []
        var seen: Set<String> = []
        for (offset, line) in text.dropLast().split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            func fail(_ reason: String) -> Invalid { Invalid(line: number, reason: "\(reason): \(line)") }
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2, Self.isMetricName(parts[0]) else { throw fail("malformed comment") }
                let family = String(parts[0])
                guard family.hasPrefix("ihub_") else { throw fail("family without the ihub_ prefix") }
                if line.hasPrefix("# HELP ") {
                    guard help[family] == nil, types[family] == nil else { throw fail("HELP repeated or after TYPE") }
                    guard !parts[1].isEmpty else { throw fail("empty HELP") }
                    help[family] = String(parts[1])
                } else {
                    guard help[family] != nil else { throw fail("TYPE without HELP before it") }
                    guard types[family] == nil else { throw fail("TYPE repeated") }
                    let type = String(parts[1])
                    guard ["counter", "gauge", "histogram"].contains(type) else { throw fail("unknown type") }
                    if type == "counter" && !family.hasSuffix("_total") { throw fail("counter without _total") }
                    if type != "counter" && family.hasSuffix("_total") { throw fail("_total on a \(type)") }
                    types[family] = type
                }
                if let current, current != family { finished.insert(current) }
                guard !finished.contains(family) else { throw fail("family's lines not contiguous") }
                current = family
                continue
            }
            guard !line.hasPrefix("#"), !line.isEmpty else { throw fail("blank line or unknown comment") }
            let sample = try Self.parseSample(line, line: number)
            let family = Self.family(of: sample.name, types: types)
            guard family == current, let type = types[family] else {
                throw fail("sample without HELP and TYPE of its family just before")
            }
            if type != "histogram" && sample.name != family { throw fail("suffix on a \(type)") }
            guard sample.value.isFinite || sample.labels["le"] == nil else { throw fail("non-finite value") }
            if type == "counter" || type == "histogram" {
                guard sample.value.isFinite, sample.value >= 0 else { throw fail("counter below 0 or not finite") }
            }
            let key = sample.name + "{" + sample.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                .joined(separator: ",") + "}"
            guard seen.insert(key).inserted else { throw fail("duplicate series") }
            samples.append(sample)
        }
        try checkHistograms()
    }

    /// The family a sample name belongs to: itself, or a histogram's name without `_bucket`,
    /// `_sum` or `_count`.
    static func family(of name: String, types: [String: String]) -> String {
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if types[base] == "histogram" { return base }
        }
        return name
    }

    private func checkHistograms() throws {
        for (family, type) in types where type == "histogram" {
            var series: [[String: String]: [(Double, Double)]] = [:]
            for sample in samples where sample.name == family + "_bucket" {
                guard let le = sample.labels["le"], let bound = le == "+Inf" ? Double.infinity : Double(le) else {
                    throw Invalid(line: 0, reason: "\(family): bucket without a valid le")
                }
                var labels = sample.labels
                labels["le"] = nil
                series[labels, default: []].append((bound, sample.value))
            }
            guard !series.isEmpty else { throw Invalid(line: 0, reason: "\(family): no buckets") }
            for (labels, buckets) in series {
                for (previous, next) in zip(buckets, buckets.dropFirst()) {
                    guard next.0 > previous.0 else { throw Invalid(line: 0, reason: "\(family)\(labels): le not rising") }
                    guard next.1 >= previous.1 else { throw Invalid(line: 0, reason: "\(family)\(labels): not cumulative") }
                }
                guard buckets.last?.0 == .infinity else { throw Invalid(line: 0, reason: "\(family)\(labels): no +Inf") }
                guard let count = value(family + "_count", labels), count == buckets.last?.1 else {
                    throw Invalid(line: 0, reason: "\(family)\(labels): _count missing or not the +Inf bucket")
                }
                guard value(family + "_sum", labels) != nil else { throw Invalid(line: 0, reason: "\(family)\(labels): no _sum") }
            }
        }
    }

    static func isMetricName<S: StringProtocol>(_ name: S) -> Bool {
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { isWordScalar($0) || $0 == ":" }
    }

    static func isLabelName<S: StringProtocol>(_ name: S) -> Bool {
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first), !name.hasPrefix("__") else { return false }
        return name.unicodeScalars.allSatisfy(isWordScalar)
    }

    /// `[a-zA-Z0-9_]`.
    static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "_"
    }

    /// `name{label="value",…} value` (no timestamp: the textfile collector refuses them).
    static func parseSample(_ line: Substring, line number: Int) throws -> Sample {
        func fail(_ reason: String) -> Invalid { Invalid(line: number, reason: "\(reason): \(line)") }
        var rest = line[...]
        let nameEnd = rest.firstIndex { $0 == "{" || $0 == " " } ?? rest.endIndex
        let name = String(rest[..<nameEnd])
        guard isMetricName(name) else { throw fail("bad metric name") }
        rest = rest[nameEnd...]
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                guard let equals = rest.firstIndex(of: "=") else { throw fail("label without =") }
                let label = String(rest[..<equals])
                guard isLabelName(label), labels[label] == nil else { throw fail("bad or repeated label name") }
                rest = rest[rest.index(after: equals)...]
                guard rest.first == "\"" else { throw fail("unquoted label value") }
                rest = rest.dropFirst()
                var value = ""
                while true {
                    guard let character = rest.first else { throw fail("unterminated label value") }
                    rest = rest.dropFirst()
                    if character == "\"" { break }
                    if character == "\\" {
                        guard let escaped = rest.first, ["\\", "\"", "n"].contains(escaped) else { throw fail("bad escape") }
                        rest = rest.dropFirst()
                        value.append(escaped == "n" ? "\n" : escaped)
                    } else {
                        value.append(character)
                    }
                }
                labels[label] = value
                if rest.first == "," { rest = rest.dropFirst() } else if rest.first != "}" { throw fail("expected , or }") }
            }
            rest = rest.dropFirst()
        }
        guard rest.first == " " else { throw fail("no space before the value") }
        let text = rest.dropFirst()
        guard !text.contains(" ") else { throw fail("extra field (timestamp?)") }
        let value: Double
        switch text {
        case "+Inf": value = .infinity
        case "-Inf": value = -.infinity
        case "NaN": value = .nan
        default:
            guard let parsed = Double(text) else { throw fail("value is not a number") }
            value = parsed
        }
        return Sample(name: name, labels: labels, value: value)
    }
}
