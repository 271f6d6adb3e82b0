import ArgumentParser
import Darkroom

// STUB: replaced by the issue that owns this command.
struct SizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "size", abstract: "(not implemented yet)")
    func run() throws { throw ExitCode(2) }
}
