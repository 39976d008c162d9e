// The child process of the live-store crash test (Tests/IndicatorStoreTests/
// LiveStoreCrashSafetyTests.swift): opens the store in `argv[1]`, performs round `argv[2]`
// of `CrashScript` one operation at a time (an upload at every fourth index as a local
// ingest) — writing the operation's index and a newline to stdout only after the store
// acknowledged it — while a second thread compacts again and again. The parent SIGKILLs it
// at a random moment.
import Foundation
import IndicatorStore
import LiveCrashScript

let arguments = CommandLine.arguments
guard arguments.count == 4, let round = Int(arguments[2]), let keyID = UInt64(arguments[3], radix: 16) else {
    FileHandle.standardError.write("usage: LiveStoreCrashChild STORE_DIR ROUND KEY_ID_HEX\n".data(using: .utf8)!)
    exit(2)
}
let store: LiveStore
do {
    store = try LiveStore.open(storeDirectory: arguments[1], keyID: keyID)
} catch {
    FileHandle.standardError.write("open: \(error)\n".data(using: .utf8)!)
    exit(1)
}

func acknowledge(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    bytes.withUnsafeBytes { raw in _ = write(1, raw.baseAddress, raw.count) }
}

let compactor = Thread {
    var turn = 0
    while true {
        usleep(UInt32(2_000 + (turn * 7_919) % 25_000))
        do {
            try store.compact(now: 1_700_000_000)
        } catch {
            FileHandle.standardError.write("compact: \(error)\n".data(using: .utf8)!)
            exit(1)
        }
        turn += 1
    }
}
compactor.start()

for index in 0..<CrashScript.operationsPerRound {
    do {
        switch CrashScript.operation(round: round, index: index) {
        case .upload(let request, let time) where index % 4 == 3:
            // Every fourth operation (if an upload) as a local ingest: merged straight into a
            // new snapshot, never journaled.
            _ = try store.ingest([request], time: time, now: 1_700_000_000)
        case .upload(let request, let time): _ = try store.upload(request, time: time)
        case .withdrawValues(let values, let source): _ = try store.withdraw(values: values, source: source)
        case .withdrawUpload(let id, let source): _ = try store.withdraw(upload: id, source: source)
        }
    } catch {
        FileHandle.standardError.write("operation \(index): \(error)\n".data(using: .utf8)!)
        exit(1)
    }
    acknowledge(String(index))
}
acknowledge("done")
exit(0)
