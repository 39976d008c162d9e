import HubAudit
import HubPolicy
import HubWire
import IndicatorKit

/// The parts of a partner's policy that `QueryService.match` consults per value, as bit sets:
/// a lookup is a shift and a mask instead of hashing into a `Set` (docs/POLICY.md, "Decisions":
/// the same rules as `PartnerPolicy.mayQuery(type:)` and `PartnerPolicy.mayLearn(_:)`).
struct PolicyView {
    let types: IndicatorTypeSet
    let reveal: RevealMask
    private let mayQuery: Bool
    private let categoryBits: UInt32
    private let tlpCeiling: TLP

    init(_ policy: PartnerPolicy) {
        types = IndicatorTypeSet(policy.types)
        var mask: RevealMask = []
        for field in policy.reveals { mask.insert(QueryService.revealBit(field)) }
        reveal = mask
        mayQuery = policy.role.mayQuery
        var bits: UInt32 = 0
        for category in policy.categories { bits |= 1 << UInt32(category.rawValue) }
        categoryBits = bits
        tlpCeiling = policy.tlpCeiling
    }

    /// `PartnerPolicy.mayLearn`: the category is allowed and the TLP at or below the ceiling.
    @inline(__always)
    func mayLearn(_ metadata: EntryMetadata) -> Bool {
        mayQuery && categoryBits & (1 << UInt32(metadata.category.rawValue)) != 0 && metadata.tlp <= tlpCeiling
    }
}

/// Values per indicator type in one batch, in fixed slots (slot 0: type unknown, slots 1–13:
/// the type byte). Filled per value; copied into `AuditRecord.countsByType` once per batch.
struct TypeCounters {
    private var slots = SIMD16<Int32>()

    @inline(__always)
    mutating func add(_ type: IndicatorType?) {
        slots[Int(type?.rawValue ?? 0)] &+= 1
    }

    /// Replaces the record's counts (per type and unknown) with these.
    func store(into record: inout AuditRecord) {
        var byType: [IndicatorType: Int] = [:]
        for raw in 1..<slots.scalarCount where slots[raw] != 0 {
            if let type = IndicatorType(rawValue: UInt8(raw)) { byType[type] = Int(slots[raw]) }
        }
        record.countsByType = byType
        record.unknownTypeCount = Int(slots[0])
    }
}

/// Values refused individually in one batch, by `ValueRefusal` raw value (1–5).
struct RefusalCounters {
    private var slots = SIMD8<Int32>()

    @inline(__always)
    mutating func add(_ refusal: ValueRefusal) {
        slots[Int(refusal.rawValue)] &+= 1
    }

    /// Adds these counts to the record's `refusedValues` (by refusal name).
    func store(into record: inout AuditRecord) {
        guard slots != SIMD8() else { return }
        for raw in 0..<slots.scalarCount where slots[raw] != 0 {
            if let refusal = ValueRefusal(rawValue: UInt8(raw)) {
                record.refusedValues[refusal.name, default: 0] += Int(slots[raw])
            }
        }
    }
}
