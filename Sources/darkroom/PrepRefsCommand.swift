import ArgumentParser
import Darkroom

// STUB: replaced by the issue that owns this command.
struct PrepRefsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prep-refs", abstract: "(not implemented yet)")
    func run() throws { throw ExitCode(2) }
}
