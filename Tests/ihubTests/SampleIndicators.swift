/// Known-valid values of every type, used to prove that none of them reaches disk.
enum Sample {
    static let values: [String] = [
        "192.0.2.44",
        "198.51.100.0/24",
        "2001:db8::bad:1",
        "phish-login.example",
        "*.malware-cdn.example",
        "http://evil-shop.example/pay/now.php?id=7",
        "refunds@scam-mail.example",
        "DE89 3704 0044 0532 0130 00",
        "+44 20 7946 0999",
        "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "44d88612fea8a8f36de82e1278abb02f",
        "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
        "telegram:@fake_support_bot",
    ]

    /// Substrings of the raw and canonical forms that must never appear in any file the hub writes.
    static let forbidden: [String] = [
        "192.0.2.44", "198.51.100", "2001:db8", "bad:1", "phish-login", "malware-cdn", "evil-shop",
        "now.php", "refunds", "scam-mail", "DE89370400440532013000", "DE89 3704", "442079460999",
        "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
        "5aAeb6053F3E94C9", "44d88612fea8a8f36de82e1278abb02f", "275a021bbfb6489e54d471899f7db9d1",
        "fake_support",
    ]

    /// Binary canonical forms (network-order addresses) that must not appear either.
    static let forbiddenBytes: [[UInt8]] = [
        [192, 0, 2, 44],
        [198, 51, 100, 0, 24],
        [0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0x0B, 0xAD, 0, 1],
    ]

    /// Values that are in no sample feed.
    static let absent: [String] = ["192.0.2.45", "good.example", "GB82 WEST 1234 5698 7654 32"]
}
