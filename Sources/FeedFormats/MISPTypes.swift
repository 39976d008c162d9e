public import IndicatorKit

/// Which MISP attribute types (PyMISP `describeTypes.json`) the hub lists, and how. Every other
/// type is skipped (reported, not refused). `link` is skipped on purpose: MISP uses it for
/// references to reports (a VirusTotal page, a blog post), not for malicious URLs.
public enum MISPTypes {
    public enum Mapping: Equatable, Sendable {
        /// The value is one indicator; nil type = IPv4 or IPv6, told apart per value.
        case single(IndicatorType?)
        /// `a|b`: the indicator is `a` (`ip-dst|port`).
        case left(IndicatorType?)
        /// `a|b`: the indicator is `b` (`filename|sha256`).
        case right(IndicatorType?)
        /// `a|b`: both are indicators (`domain|ip`).
        case both(IndicatorType?, IndicatorType?)
    }

    public static let mapping: [String: Mapping] = [
        "ip-src": .single(nil), "ip-dst": .single(nil),
        "ip-src|port": .left(nil), "ip-dst|port": .left(nil),
        "domain": .single(.domain), "hostname": .single(.domain),
        "hostname|port": .left(.domain), "domain|ip": .both(.domain, nil),
        "url": .single(.url),
        "email": .single(.email), "email-src": .single(.email), "email-dst": .single(.email),
        "md5": .single(.md5), "sha1": .single(.sha1), "sha256": .single(.sha256), "sha512": .single(.sha512),
        "filename|md5": .right(.md5), "filename|sha1": .right(.sha1),
        "filename|sha256": .right(.sha256), "filename|sha512": .right(.sha512),
        "iban": .single(.iban), "btc": .single(.wallet), "phone-number": .single(.phone),
    ]
}
