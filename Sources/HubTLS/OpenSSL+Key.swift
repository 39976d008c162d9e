internal import COpenSSL

/// An owned OpenSSL private key (`EVP_PKEY *`), ECDSA P-256 (docs/PKI.md, "Key types").
/// OpenSSL wipes the private scalar when the last reference is freed (`EVP_PKEY_free`).
final class PrivateKey {
    let pointer: OpaquePointer

    private init(pointer: OpaquePointer) { self.pointer = pointer }

    deinit { EVP_PKEY_free(pointer) }

    /// A fresh P-256 key from OpenSSL's CSPRNG (`EVP_PKEY_keygen` with group `P-256`).
    static func generate() throws(PKIError) -> PrivateKey {
        OpenSSLErrors.clear()
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else {
            throw .openSSL(operation: "EVP_PKEY_CTX_new_from_name(EC)", reasons: OpenSSLErrors.reasons())
        }
        defer { EVP_PKEY_CTX_free(context) }
        try OpenSSLErrors.check(EVP_PKEY_keygen_init(context) == 1, "EVP_PKEY_keygen_init")
        try OpenSSLErrors.check(EVP_PKEY_CTX_set_group_name(context, "P-256") == 1, "EVP_PKEY_CTX_set_group_name(P-256)")
        var key: OpaquePointer?
        try OpenSSLErrors.check(EVP_PKEY_generate(context, &key) == 1, "EVP_PKEY_generate")
        guard let key else { throw .openSSL(operation: "EVP_PKEY_generate", reasons: []) }
        return PrivateKey(pointer: key)
    }

    /// Parses a PEM private key read from `path` (PKCS#8 or traditional EC).
    convenience init(pem: SecretBytes, path: String) throws(PKIError) {
        OpenSSLErrors.clear()
        let key: OpaquePointer? = pem.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        guard let key else {
            throw .corrupt(path: path, line: nil, reason: "not a PEM private key (" + OpenSSLErrors.reasons().joined(separator: "; ") + ")")
        }
        self.init(pointer: key)
    }

    /// The key as unencrypted PKCS#8 PEM, in memory OpenSSL wipes when freed
    /// (`BIO_s_secmem`), copied into bytes that are wiped when released.
    func pem() throws(PKIError) -> SecretBytes {
        OpenSSLErrors.clear()
        guard let bio = BIO_new(BIO_s_secmem()) else {
            throw .openSSL(operation: "BIO_new(secmem)", reasons: OpenSSLErrors.reasons())
        }
        defer { BIO_free(bio) }
        try OpenSSLErrors.check(PEM_write_bio_PrivateKey(bio, pointer, nil, nil, 0, nil, nil) == 1, "PEM_write_bio_PrivateKey")
        return SecretBytes(taking: BIOBytes.contents(of: bio))
    }
}

/// Reading the contents of a memory BIO.
enum BIOBytes {
    static func contents(of bio: OpaquePointer) -> [UInt8] {
        var data: UnsafeMutablePointer<CChar>?
        let count = COpenSSL_BIO_get_mem_data(bio, &data)
        guard count > 0, let data else { return [] }
        return Array(UnsafeRawBufferPointer(start: data, count: count))
    }
}
