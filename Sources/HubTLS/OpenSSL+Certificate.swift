internal import COpenSSL
import Glibc
import IndicatorKit

/// An owned X.509 certificate (`X509 *`) and what HubTLS reads from it.
final class Certificate {
    let pointer: OpaquePointer

    /// Takes ownership of one reference.
    init(owning pointer: OpaquePointer) { self.pointer = pointer }

    /// Takes a new reference to a certificate OpenSSL owns (`X509_up_ref`).
    convenience init(borrowing pointer: OpaquePointer) {
        X509_up_ref(pointer)
        self.init(owning: pointer)
    }

    deinit { X509_free(pointer) }

    /// Parses the first PEM certificate in `pem` (read from `path`, named in errors).
    convenience init(pem: [UInt8], path: String) throws(PKIError) {
        OpenSSLErrors.clear()
        let certificate: OpaquePointer? = pem.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_X509(bio, nil, nil, nil)
        }
        guard let certificate else {
            throw .corrupt(path: path, line: nil, reason: "not a PEM certificate (" + OpenSSLErrors.reasons().joined(separator: "; ") + ")")
        }
        self.init(owning: certificate)
    }

    static func load(_ path: String) throws(PKIError) -> Certificate {
        try Certificate(pem: try Files.read(path, limit: 256 << 10), path: path)
    }

    func pem() throws(PKIError) -> [UInt8] {
        OpenSSLErrors.clear()
        guard let bio = BIO_new(BIO_s_mem()) else { throw .openSSL(operation: "BIO_new", reasons: OpenSSLErrors.reasons()) }
        defer { BIO_free(bio) }
        try OpenSSLErrors.check(PEM_write_bio_X509(bio, pointer) == 1, "PEM_write_bio_X509")
        return BIOBytes.contents(of: bio)
    }

    /// The serial number, or 0 when it does not fit 64 bits (never for certificates we issue).
    var serial: UInt64 {
        var value: UInt64 = 0
        guard let integer = X509_get_serialNumber(pointer), ASN1_INTEGER_get_uint64(&value, integer) == 1 else { return 0 }
        return value
    }

    /// SHA-256 of the DER encoding: the fingerprint the audit trail records.
    var fingerprint: [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard X509_digest(pointer, EVP_sha256(), &digest, &length) == 1 else { return [] }
        return Array(digest.prefix(Int(length)))
    }

    var subject: String { Self.describe(X509_get_subject_name(pointer)) }
    var issuer: String { Self.describe(X509_get_issuer_name(pointer)) }
    var commonName: String? { Self.field(X509_get_subject_name(pointer), nid: NID_commonName) }
    var organizationalUnit: String? { Self.field(X509_get_subject_name(pointer), nid: NID_organizationalUnitName) }
    var notBefore: String { Self.timestamp(X509_get0_notBefore(pointer)) }
    var notAfter: String { Self.timestamp(X509_get0_notAfter(pointer)) }

    /// A name as `CN=bank-a, OU=bank, O=IndicatorHub` (most specific first, as RFC 4514),
    /// with control characters of hostile names replaced and the length bounded.
    static func describe(_ name: OpaquePointer?) -> String {
        guard let name else { return "(no name)" }
        var parts: [String] = []
        let count = X509_NAME_entry_count(name)
        for index in stride(from: count - 1, through: 0, by: -1) {
            guard let entry = X509_NAME_get_entry(name, index) else { continue }
            let nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry))
            let key = OBJ_nid2sn(nid).map { String(cString: $0) } ?? "?"
            parts.append(key + "=" + (utf8(X509_NAME_ENTRY_get_data(entry)) ?? "?"))
        }
        let text = parts.isEmpty ? "(empty name)" : parts.joined(separator: ", ")
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }

    /// The first entry of `nid` in `name`, as UTF-8, or nil.
    static func field(_ name: OpaquePointer?, nid: Int32) -> String? {
        guard let name else { return nil }
        let index = X509_NAME_get_index_by_NID(name, nid, -1)
        guard index >= 0, let entry = X509_NAME_get_entry(name, index) else { return nil }
        return utf8(X509_NAME_ENTRY_get_data(entry), sanitise: false)
    }

    private static func utf8(_ string: UnsafeMutablePointer<ASN1_STRING>?, sanitise: Bool = true) -> String? {
        guard let string else { return nil }
        var output: UnsafeMutablePointer<UInt8>?
        let length = ASN1_STRING_to_UTF8(&output, string)
        guard length >= 0, let output else { return nil }
        defer { COpenSSL_OPENSSL_free(output) }
        let text = String(decoding: UnsafeBufferPointer(start: output, count: Int(length)), as: UTF8.self)
        guard sanitise else { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : $0 }))
    }

    static func timestamp(_ time: UnsafePointer<ASN1_TIME>?) -> String {
        var parts = tm()
        guard let time, ASN1_TIME_to_tm(time, &parts) == 1 else { return "(invalid time)" }
        let days = CivilDate.days(year: Int(parts.tm_year) + 1900, month: Int(parts.tm_mon) + 1, day: Int(parts.tm_mday))
        let seconds = Int(parts.tm_hour) * 3600 + Int(parts.tm_min) * 60 + Int(parts.tm_sec)
        return Files.timestamp(Int64(days * 86_400 + seconds))
    }
}
