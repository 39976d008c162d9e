import Foundation

/// Reads a file from this target's Fixtures directory.
func fixture(_ name: String) throws -> [UInt8] {
    guard let base = Bundle.module.resourceURL else { throw FixtureMissing(name: name) }
    let url = base.appendingPathComponent("Fixtures").appendingPathComponent(name)
    return Array(try Data(contentsOf: url))
}

struct FixtureMissing: Error { var name: String }

/// Runs `body` over `text`'s UTF-8 bytes.
func withBytes<R>(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
    try Array(text.utf8).withUnsafeBufferPointer(body)
}
