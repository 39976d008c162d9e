import Glibc

/// The loader's only I/O: listing a policy directory and reading its policy files.
extension PolicySet {
    /// Loads every `*.json` policy in `directory` (docs/POLICY.md, "The policy directory").
    /// All or nothing: any problem in any file throws, with every problem found.
    public static func load(directory: String) throws(PolicyLoadError) -> PolicySet {
        guard let stream = opendir(directory) else {
            throw PolicyLoadError([.directory(path: directory, reason: "opendir: \(errorText(errno))")])
        }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if isPolicyFileName(name) { names.append(name) }
        }
        closedir(stream)
        if names.count > maxFiles {
            throw PolicyLoadError([.directory(path: directory, reason: "\(names.count) policy files (at most \(maxFiles))")])
        }
        var files: [(name: String, bytes: [UInt8])] = []
        var problems: [PolicyError] = []
        for name in names.sorted() {
            let file = path(directory, name)
            switch readFile(file) {
            case .success(let bytes): files.append((name, bytes))
            case .failure(let problem): problems.append(problem)
            }
        }
        guard problems.isEmpty else {
            // Report the readable files' problems too, so one run shows everything to fix.
            do {
                _ = try parse(files: files, directory: directory)
            } catch {
                let parseProblems = error.problems.filter {
                    if case .directory = $0 { return false }
                    return true
                }
                throw PolicyLoadError(problems + parseProblems)
            }
            throw PolicyLoadError(problems)
        }
        return try parse(files: files, directory: directory)
    }

    /// The whole file, refusing anything but a regular file of at most `maxFileBytes`.
    private static func readFile(_ file: String) -> Result<[UInt8], PolicyError> {
        let descriptor = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { return .failure(.file(file: file, reason: "open: \(errorText(errno))")) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return .failure(.file(file: file, reason: "fstat: \(errorText(errno))")) }
        guard status.st_mode & S_IFMT == S_IFREG else {
            return .failure(.file(file: file, reason: "not a regular file"))
        }
        guard status.st_size <= maxFileBytes else {
            return .failure(.file(file: file, reason: "\(status.st_size) bytes; a policy file is at most \(maxFileBytes)"))
        }
        var bytes = [UInt8](repeating: 0, count: maxFileBytes + 1)
        var count = 0
        while count < bytes.count {
            let got = bytes.withUnsafeMutableBytes { raw in read(descriptor, raw.baseAddress! + count, raw.count - count) }
            if got < 0 {
                if errno == EINTR { continue }
                return .failure(.file(file: file, reason: "read: \(errorText(errno))"))
            }
            if got == 0 { break }
            count += got
        }
        guard count <= maxFileBytes else {
            return .failure(.file(file: file, reason: "grew past \(maxFileBytes) bytes while being read"))
        }
        return .success(Array(bytes[0..<count]))
    }

    private static func errorText(_ code: Int32) -> String {
        String(cString: strerror(code)).lowercased()
    }
}
