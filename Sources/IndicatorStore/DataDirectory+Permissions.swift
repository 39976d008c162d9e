import HubPOSIX

/// A file or directory of a data directory whose permissions are wider than `ihub init` makes
/// them (docs/OPERATIONS.md, "Hardening"): what it is, its mode, and the `chmod` that fixes it.
public struct PermissionFinding: Sendable, Equatable, CustomStringConvertible {
    /// What the hub does about it.
    public enum Level: String, Sendable {
        /// `ihub serve` refuses to start (and every loader of that key refuses it).
        case refuse
        /// Logged (`level=warn event=insecure_permissions`) or printed on stderr; nothing refused.
        case warn
    }

    /// What was found.
    public enum Kind: Sendable, Equatable {
        /// A secret key file (`digest.key`, `tls/ca.key`, `tls/server.key`) that group or
        /// others may read, write or execute (`mode & 0o077 != 0`, as ssh judges private keys).
        case secretKey
        /// A directory of the data directory that group or others may write to: they could
        /// replace a key, the snapshot or the journal (sshd's `StrictModes` refuses this too).
        case writableDirectory
        /// A directory that group or others may list or enter (`mode & 0o055 != 0`, not writable):
        /// wider than the 0700 `ihub init` makes, but nothing in it is readable through it
        /// unless its files are too.
        case openDirectory
    }

    public var path: String
    /// The permission bits found (`st_mode & 0o7777`).
    public var mode: UInt32
    public var kind: Kind

    public init(path: String, mode: UInt32, kind: Kind) {
        self.path = path
        self.mode = mode
        self.kind = kind
    }

    public var level: Level { kind == .openDirectory ? .warn : .refuse }

    /// The mode `ihub init` gives it: 0600 for keys, 0700 for directories.
    public var expected: UInt32 { kind == .secretKey ? 0o600 : 0o700 }

    /// The command that fixes it: `chmod 600 /var/lib/ihub/digest.key`.
    public var fix: String { "chmod \(String(expected, radix: 8)) \(path)" }

    /// Four octal digits: `0644`.
    public var modeText: String { POSIX.modeText(mode) }

    /// Who may do what, in words.
    public var problem: String {
        switch kind {
        case .secretKey: "lets \(Self.who(mode)) read a secret key"
        case .writableDirectory: "lets \(Self.who(mode & 0o022)) replace files in a hub data directory"
        case .openDirectory: "lets \(Self.who(mode)) enter a hub data directory"
        }
    }

    /// `/var/lib/ihub/digest.key: mode 0644 lets group and others read a secret key; chmod 600 /var/lib/ihub/digest.key`
    public var description: String { "\(path): mode \(modeText) \(problem); \(fix)" }

    static func who(_ mode: UInt32) -> String {
        switch (mode & 0o070 != 0, mode & 0o007 != 0) {
        case (true, true): "group and others"
        case (true, false): "its group"
        default: "others"
        }
    }
}

extension DataDirectory {
    /// The secret key files of a data directory: the digest key and the TLS private keys of
    /// the hub's PKI (docs/DATA-DIRECTORY.md, docs/PKI.md).
    public var secretKeyPaths: [String] { [keyPath, path + "/tls/ca.key", path + "/tls/server.key"] }

    /// The directories `ihub init` and the hub create mode 0700.
    public var privateDirectoryPaths: [String] {
        [path, storeDirectory, path + "/tls", path + "/tls/partners", path + "/audit"]
    }

    /// Every secret key file and private directory whose mode is wider than `ihub init` makes
    /// it, in the order of `secretKeyPaths` then `privateDirectoryPaths`. Missing files are
    /// skipped (whoever needs one reports its absence). Reads nothing but `stat(2)`.
    public func permissionFindings() -> [PermissionFinding] {
        var findings: [PermissionFinding] = []
        for key in secretKeyPaths {
            guard let status = POSIX.status(key), !status.isDirectory else { continue }
            let mode = UInt32(status.mode)
            if mode & 0o077 != 0 { findings.append(PermissionFinding(path: key, mode: mode, kind: .secretKey)) }
        }
        for directory in privateDirectoryPaths {
            guard let status = POSIX.status(directory), status.isDirectory else { continue }
            let mode = UInt32(status.mode)
            if mode & 0o022 != 0 {
                findings.append(PermissionFinding(path: directory, mode: mode, kind: .writableDirectory))
            } else if mode & 0o055 != 0 {
                findings.append(PermissionFinding(path: directory, mode: mode, kind: .openDirectory))
            }
        }
        return findings
    }
}
