import FakeHub
import HubClient
import HubTLS
import HubWire
import IndicatorKit
import Testing

/// A CERT identity and a fake hub speaking version 2.
struct PushSetup {
    let pki: FakePKI
    let identity: String
    let hub: FakeHub

    init(behaviour: FakeHub.Behaviour = FakeHub.Behaviour(welcome: Welcome(maxPayloadBytes: 4096, policyVersion: 1, partner: "cert-a")),
         role: PartnerRole = .cert) throws {
        pki = try FakePKI()
        identity = try pki.issue("cert-a", role: role)
        hub = try FakeHub(context: try pki.serverContext(), behaviour: behaviour)
    }

    func connect() throws(ClientError) -> HubClient {
        try HubClient.connect(host: "127.0.0.1", port: hub.port, identityDirectory: identity,
                              options: HubClient.Options(connectTimeout: 5, ioTimeout: 5, serverName: "hub.example"))
    }
}

func records(_ count: Int, prefix: String = "198.51.100.") -> [PushRecord] {
    (0..<count).map { PushRecord(type: nil, "\(prefix)\($0)", fields: UploadFields(confidence: UInt8($0 % 101))) }
}

@Suite struct PushTests {
    @Test func anUploadIsStreamedInChunksAndAnsweredOnce() throws {
        let setup = try PushSetup()
        defer { setup.hub.stop() }
        let client = try setup.connect()
        defer { client.close() }
        #expect(client.welcome.version == 2)
        var batch = records(2000)
        batch.append(PushRecord(type: .domain, "bad.example"))
        batch.append(PushRecord(type: nil, "198.51.100.7"))
        let id = UploadID.random()
        let outcome = try client.push(records: batch, format: .list, uploadID: id)
        guard case .answered(let result) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        #expect(result.uploadID == id && result.uploadNumber == 1 && !result.alreadyApplied)
        #expect(result.accepted == 2000 && result.duplicates == 1 && result.rejected == 1)
        #expect(result.rejections == [Rejection(index: 2000, reason: .invalidValue)])
        // 4 KiB frames: many chunks between one BEGIN and one COMMIT.
        let frames = setup.hub.uploadFrames
        #expect(frames.first == .uploadBegin && frames.last == .uploadCommit)
        #expect(frames.filter { $0 == .uploadRecords }.count > 5)
        #expect(setup.hub.violations.isEmpty)
        // The same connection still answers queries.
        #expect(try client.ping() >= 0)
    }

    @Test func aRetryWithTheSameIDIsAnsweredAlreadyAppliedAndAnotherContentIsRefused() throws {
        let setup = try PushSetup()
        defer { setup.hub.stop() }
        let id = UploadID.random()
        let first = try setup.connect().push(records: records(10), uploadID: id)
        let again = try setup.connect().push(records: records(10), uploadID: id)
        guard case .answered(let one) = first, case .answered(let two) = again else {
            Issue.record("\(first) \(again)")
            return
        }
        #expect(!one.alreadyApplied && two.alreadyApplied && two.uploadNumber == one.uploadNumber && two.accepted == 10)
        #expect(setup.hub.appliedUploads == 1)
        let other = try setup.connect().push(records: records(11), uploadID: id)
        guard case .refused(let code, _) = other else {
            Issue.record("\(other)")
            return
        }
        #expect(code == .uploadIDReused)
    }

    @Test func aPartnerWithoutTheCertRoleIsRefusedAndTheConnectionStaysUsable() throws {
        let setup = try PushSetup(role: .bank)
        defer { setup.hub.stop() }
        let client = try setup.connect()
        defer { client.close() }
        let outcome = try client.push(records: records(3000), uploadID: .random())
        guard case .refused(let code, let reason) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        #expect(code == .operationNotAllowed && reason.contains("bank"))
        // The connection goes on, and the COMMIT was still sent (it frees the id; the PONG
        // comes after the hub has read it).
        #expect(try client.ping() >= 0)
        #expect(setup.hub.uploadFrames.last == .uploadCommit)
        #expect(try client.withdraw(values: ["x"]) == .refused(code: .operationNotAllowed, reason: "role bank may not withdraw"))
        #expect(setup.hub.appliedUploads == 0)
    }

    @Test func aConnectionLostMidUploadIsRetriedWithTheSameIDAndAppliedOnce() throws {
        var behaviour = FakeHub.Behaviour(welcome: Welcome(maxPayloadBytes: 4096, policyVersion: 1, partner: "cert-a"))
        behaviour.dropUploads = 2
        behaviour.dropAfterChunks = 2
        let setup = try PushSetup(behaviour: behaviour)
        defer { setup.hub.stop() }
        let id = UploadID.random()
        // One attempt only: the lost connection is reported as transient.
        #expect(throws: ClientError.self) { try HubClient.push(records: records(1000), uploadID: id, attempts: 1, connect: setup.connect) }
        #expect(setup.hub.appliedUploads == 0)  // nothing of a dropped upload is applied
        let outcome = try HubClient.push(records: records(1000), uploadID: id, attempts: 3, connect: setup.connect)
        guard case .answered(let result) = outcome else {
            Issue.record("\(outcome)")
            return
        }
        #expect(result.accepted == 1000 && result.uploadID == id)
        #expect(setup.hub.uploadsDropped == 2 && setup.hub.appliedUploads == 1)
    }

    @Test func uploadInProgressIsAskedAgainWithTheSameID() throws {
        var behaviour = FakeHub.Behaviour(welcome: Welcome(policyVersion: 1, partner: "cert-a"))
        behaviour.busyCommits = 1
        let setup = try PushSetup(behaviour: behaviour)
        defer { setup.hub.stop() }
        let id = UploadID.random()
        #expect(try HubClient.push(records: records(3), uploadID: id, attempts: 1, connect: setup.connect)
            == .refused(code: .uploadInProgress, reason: "upload \(id) is still being applied"))
        setup.hub.stop()
        let again = try PushSetup(behaviour: behaviour)
        defer { again.hub.stop() }
        guard case .answered(let result) = try HubClient.push(records: records(3), uploadID: id, attempts: 2,
                                                               connect: again.connect) else {
            Issue.record("not answered")
            return
        }
        #expect(result.accepted == 3 && again.hub.uploadFrames.filter { $0 == .uploadCommit }.count == 2)
    }

    @Test func withdrawalsByValueAndByUpload() throws {
        let setup = try PushSetup()
        defer { setup.hub.stop() }
        let client = try setup.connect()
        defer { client.close() }
        let id = UploadID.random()
        _ = try client.push(records: records(5), uploadID: id)
        let byValue = try client.withdraw(values: ["198.51.100.1", "203.0.113.9", "bad-value"])
        #expect(byValue == .answered(WithdrawResult(requestID: 0, withdrawn: 1, notFound: 1,
                                                    refusals: [Rejection(index: 2, reason: .invalidValue)])))
        #expect(try client.withdraw(uploadID: id) == .answered(WithdrawResult(requestID: 3, withdrawn: 4, notFound: 0)))
        #expect(try client.withdraw(uploadID: .random()).isRefused(.unknownUpload))
        #expect(setup.hub.liveValues(of: "cert-a").isEmpty)
    }

    @Test func aVersionOneHubHasNoUploads() throws {
        let setup = try PushSetup(behaviour: FakeHub.Behaviour(welcome: Welcome(version: 1, policyVersion: 1, partner: "cert-a")))
        defer { setup.hub.stop() }
        let client = try setup.connect()
        defer { client.close() }
        #expect {
            try client.push(records: records(1), uploadID: .random())
        } throws: { error in
            guard let error = error as? ClientError, case .notSupported(let reason) = error else { return false }
            return reason.contains("version 1") && error.exitStatus == 3
        }
        #expect(setup.hub.uploadFrames.isEmpty)
    }
}

extension WithdrawOutcome {
    func isRefused(_ code: ErrorCode) -> Bool {
        if case .refused(let refused, _) = self { return refused == code }
        return false
    }
}
