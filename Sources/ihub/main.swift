import Glibc

/// `ihub`: the one command-line program (PRODUCT.md, "The command line").
nonisolated(unsafe) let commands: [(name: String, summary: String, run: ([String]) throws(UsageError) -> ExitStatus)] = [
    ("init", "create a data directory: digest key and configuration", InitCommand.run),
    ("partner", "issue, renew, revoke and list partner client certificates", PartnerCommand.run),
    ("canonical", "show how values will be matched, or why they are refused", CanonicalCommand.run),
    ("ingest", "add feed files to the local store", IngestCommand.run),
    ("lookup", "look values up in the local store (operator side)", LookupCommand.run),
    ("compact", "fold the journal into a new snapshot (offline; a hub compacts on SIGUSR1)", CompactCommand.run),
    ("verify", "check a data directory's store end to end", VerifyCommand.run),
    ("query", "ask a hub about values (partner side, mutual TLS)", QueryCommand.run),
    ("push", "upload feed files to a hub (CERT side, mutual TLS)", PushCommand.run),
    ("withdraw", "withdraw your own reports from a hub, by value or by upload", WithdrawCommand.run),
    ("policy", "validate partner policies and print what each partner may do", PolicyCommand.run),
    ("serve", "serve partners over mutual TLS (SIGHUP reloads, SIGTERM stops)", ServeCommand.run),
    ("demo", "the whole story on a built-in sample, in a temporary directory", DemoCommand.run),
]

func printUsage() {
    Console.err("usage: ihub COMMAND [OPTIONS]\n\ncommands:")
    for command in commands {
        Console.err("  " + command.name + String(repeating: " ", count: max(1, 10 - command.name.count)) + command.summary)
    }
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard let name = arguments.first, name != "--help", name != "-h", name != "help" else {
    printUsage()
    exit(arguments.isEmpty ? ExitStatus.usage.rawValue : ExitStatus.success.rawValue)
}
guard let command = commands.first(where: { $0.name == name }) else {
    Console.err("ihub: unknown command '\(name)'")
    printUsage()
    exit(ExitStatus.usage.rawValue)
}
let status: ExitStatus
do {
    status = try command.run(Array(arguments.dropFirst()))
} catch {
    Console.err("ihub \(name): \(error.description)")
    status = .usage
}
Console.flush()
exit(status.rawValue)
