import FakeHub
import HubClient
import HubTLS
import HubWire
import IndicatorKit
import Testing

/// The request form every test query carries.
let fields = RequestFields(purpose: "payment-screening", legalBasis: "gdpr-6-1-f", reference: "TX-1",
                           priority: .urgent, timeZone: "Europe/Berlin")

/// A PKI, a partner identity and a fake hub answering on loopback.
struct Setup {
    let pki: FakePKI
    let identity: String
    let hub: FakeHub

    init(behaviour: FakeHub.Behaviour = FakeHub.Behaviour(), partner: String = "bank-a") throws {
        pki = try FakePKI()
        identity = try pki.issue(partner)
        hub = try FakeHub(context: try pki.serverContext(), behaviour: behaviour)
    }

    func connect(serverName: String? = nil) throws -> HubClient {
        try HubClient.connect(host: "127.0.0.1", port: hub.port, identityDirectory: identity,
                              options: HubClient.Options(connectTimeout: 5, ioTimeout: 5, serverName: serverName))
    }
}

/// What `FakeHub.standardAnswer` answers for a value.
func expected(_ value: String) -> Answer {
    switch FakeHub.standardAnswer(value) {
    case .miss: .miss
    case .hit(let fields): .hit(fields)
    case .refused(let refusal): .refused(refusal)
    }
}

@Suite struct HubClientTests {
    @Test func welcomeExposesTheHubsLimitsAndPartner() throws {
        let setup = try Setup()
        defer { setup.hub.stop() }
        let client = try setup.connect()
        defer { client.close() }
        #expect(client.welcome.maxBatchValues == 3)
        #expect(client.welcome.maxInFlight == 2)
        #expect(client.welcome.partner == "bank-a")
        #expect(client.welcome.policyVersion == 7)
        #expect(client.welcome.reveal == .all)
        #expect(setup.hub.partners == ["bank-a"])
    }

    @Test func thousandValuesArePipelinedInBatchesAndReassembledInOrder() throws {
        let setup = try Setup()
        defer { setup.hub.stop() }
        let client = try setup.connect()
        defer { client.close() }
        let values = (0..<1000).map { index in index % 7 == 0 ? "hit-\(index)" : index % 11 == 0 ? "bad-\(index)" : "miss-\(index)" }
        let answers = try client.query(values: values, fields: fields)
        #expect(answers.count == 1000)
        #expect(answers == values.map(expected))
        #expect(setup.hub.queriesReceived == 334)  // ceil(1000 / 3)
        #expect(setup.hub.maxInFlightSeen == 2)    // pipelined, never over the limit
        #expect(setup.hub.violations.isEmpty)
    }

    @Test func smallerBatchSizeIsHonouredAndLargerOneCapped() throws {
        let setup = try Setup()
        defer { setup.hub.stop() }
        let client = try setup.connect()
        defer { client.close() }
        let values = (0..<10).map { "hit-\($0)" }
        #expect(try client.query(values: values, fields: fields, batchSize: 1) == values.map(expected))
        #expect(setup.hub.queriesReceived == 10)
        #expect(try client.query(values: values, fields: fields, batchSize: 500) == values.map(expected))
        #expect(setup.hub.queriesReceived == 14)  // 10 + ceil(10 / 3)
        #expect(throws: ClientError.self) { try client.query(values: values, fields: fields, batchSize: 0) }
    }

    @Test func outOfOrderResultsAreMatchedByRequestID() throws {
        // Batches of one value, answered in reverse: value i must still get its own answer.
        var behaviour = FakeHub.Behaviour()
        behaviour.welcome.maxBatchValues = 1
        behaviour.welcome.maxInFlight = 8
        let setup = try Setup(behaviour: behaviour)
        defer { setup.hub.stop() }
        let client = try setup.connect()
        defer { client.close() }
        let values = (0..<40).map { $0 % 2 == 0 ? "hit-\($0)" : "miss-\($0)" }
        #expect(try client.query(values: values, fields: fields) == values.map(expected))
        #expect(setup.hub.maxInFlightSeen > 1)
        #expect(setup.hub.violations.isEmpty)
    }

    @Test func aRefusedBatchCarriesItsCodeAndReasonAndSparesTheOthers() throws {
        var behaviour = FakeHub.Behaviour()
        behaviour.refuse = { query in
            query.values.contains { String(decoding: $0.bytes, as: UTF8.self) == "refuse-me" }
                ? ErrorMessage(code: .rateLimited, reason: "over 10 batches/s; retry in 1 s") : nil
        }
        let setup = try Setup(behaviour: behaviour)
        defer { setup.hub.stop() }
        let client = try setup.connect()
        defer { client.close() }
        // Batches of 3: [hit-0, miss-1, refuse-me] is refused, [hit-3, x, y] answered.
        let answers = try client.query(values: ["hit-0", "miss-1", "refuse-me", "hit-3", "x", "y"], fields: fields)
        let refused = Answer.batchRefused(code: .rateLimited, reason: "over 10 batches/s; retry in 1 s")
        #expect(answers == [refused, refused, refused, expected("hit-3"), .miss, .miss])
        // The connection stays usable.
        #expect(try client.query(values: ["hit-9"], fields: fields) == [expected("hit-9")])
    }

    @Test func connectionLevelErrorInsteadOfWelcome() throws {
        let behaviour = FakeHub.Behaviour(connectionError: ErrorMessage(code: .notAuthorised, reason: "partner bank-a may not connect"))
        let setup = try Setup(behaviour: behaviour)
        defer { setup.hub.stop() }
        #expect(throws: ClientError.refusedByHub(code: .notAuthorised, reason: "partner bank-a may not connect")) {
            try setup.connect()
        }
    }

    @Test func tooLongValuesAreRefusedLocallyAndTheRestAnswered() throws {
        let setup = try Setup()
        defer { setup.hub.stop() }
        let client = try setup.connect()
        defer { client.close() }
        let long = String(repeating: "a", count: 70_000)
        let answers = try client.query(values: ["hit-1", long, "miss"], fields: fields)
        #expect(answers == [expected("hit-1"), .refused(.tooLong), .miss])
    }

    @Test func invalidRequestFieldsAreRefusedBeforeSending() throws {
        let setup = try Setup()
        defer { setup.hub.stop() }
        let client = try setup.connect()
        defer { client.close() }
        var bad = fields
        bad.purpose = ""
        let error = try #require(throws: ClientError.self) { try client.query(values: ["x"], fields: bad) }
        #expect(error.exitStatus == 2)
        #expect(error.description.contains("purpose"))
        #expect(setup.hub.queriesReceived == 0)
    }

    @Test func pingGetsItsPong() throws {
        let setup = try Setup()
        defer { setup.hub.stop() }
        let client = try setup.connect()
        let seconds = try client.ping()
        #expect(seconds >= 0 && seconds < 5)
        client.close()
        #expect(throws: ClientError.invalidUse("the client is closed")) { try client.ping() }
    }
}
