/// Every partner's policy, loaded all or nothing from a directory of `NAME.json` files
/// (docs/POLICY.md, "The policy directory"). A server swaps its whole set on a successful reload
/// and keeps the old one when `load` throws.
public struct PolicySet: Equatable, Sendable {
    /// Policy files larger than this are refused unread (a policy is a few hundred bytes).
    public static let maxFileBytes = 64 * 1024
    /// Directories with more policy files than this are refused.
    public static let maxFiles = 10_000

    private let byName: [String: PartnerPolicy]

    /// Every policy, sorted by partner name.
    public let policies: [PartnerPolicy]

    /// A set of already validated policies; refuses two policies whose partner names are equal
    /// ignoring case (certificate names are compared exactly, but `Bank` and `bank` in one hub
    /// is a mistake waiting to happen).
    public init(_ policies: [PartnerPolicy]) throws(PolicyLoadError) {
        var problems: [PolicyError] = []
        var seen: [String: String] = [:]
        for policy in policies {
            let key = policy.partner.lowercased()
            if let earlier = seen[key] {
                problems.append(.file(file: policy.partner + ".json",
                                      reason: "partner \(PolicyText.quoted(policy.partner)) is already defined by "
                                              + "\(PolicyText.quoted(earlier + ".json")) (partner names must differ ignoring case)"))
            } else {
                seen[key] = policy.partner
            }
        }
        guard problems.isEmpty else { throw PolicyLoadError(problems) }
        self.policies = policies.sorted { $0.partner < $1.partner }
        self.byName = Dictionary(uniqueKeysWithValues: policies.map { ($0.partner, $0) })
    }

    /// The policy of the partner whose certificate bears `name` (exact match), if any.
    public subscript(partner name: String) -> PartnerPolicy? { byName[name] }

    /// Parses the files of a policy directory: `files` are (file name, contents) pairs; only
    /// names ending in `.json` and not starting with `.` are policies, the rest is ignored.
    /// `directory` prefixes file names in messages. Every problem in every file is reported.
    public static func parse(files: [(name: String, bytes: [UInt8])], directory: String) throws(PolicyLoadError) -> PolicySet {
        var problems: [PolicyError] = []
        var policies: [PartnerPolicy] = []
        let policyFiles = files.filter { isPolicyFileName($0.name) }.sorted { $0.name < $1.name }
        if policyFiles.isEmpty {
            throw PolicyLoadError([.directory(path: directory, reason: "no policy files (*.json) in this directory")])
        }
        for file in policyFiles {
            do {
                policies.append(try PartnerPolicy.parse(file.bytes, file: path(directory, file.name)))
            } catch {
                problems += error.problems
            }
        }
        let set: PolicySet
        do {
            set = try PolicySet(policies)
        } catch {
            let duplicates = error.problems.map { problem -> PolicyError in
                guard case .file(let name, let reason) = problem else { return problem }
                return .file(file: path(directory, name), reason: reason)
            }
            throw PolicyLoadError(problems + duplicates)
        }
        guard problems.isEmpty else { throw PolicyLoadError(problems) }
        return set
    }

    /// Checks that `next` may replace this set: a partner whose policy changes must have a
    /// higher version, and no version may go down (versions are what the audit trail records).
    public func checkSuccessor(_ next: PolicySet, directory: String) throws(PolicyLoadError) {
        var problems: [PolicyError] = []
        for policy in next.policies {
            guard let old = self[partner: policy.partner] else { continue }
            let file = Self.path(directory, policy.partner + ".json")
            if policy.version < old.version {
                problems.append(.field(file: file, path: "version",
                                       reason: "\(policy.version) is lower than the version in force (\(old.version))"))
            } else if policy.version == old.version && !policy.decidesLike(old) {
                problems.append(.field(file: file, path: "version",
                                       reason: "the policy changed but its version did not (still \(old.version)): raise it"))
            }
        }
        guard problems.isEmpty else { throw PolicyLoadError(problems) }
    }

    /// `*.json`, not hidden.
    public static func isPolicyFileName(_ name: String) -> Bool {
        name.hasSuffix(".json") && !name.hasPrefix(".")
    }

    static func path(_ directory: String, _ name: String) -> String {
        directory.isEmpty ? name : (directory.hasSuffix("/") ? directory + name : directory + "/" + name)
    }
}
