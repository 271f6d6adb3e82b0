import ArgumentParser
import Darkroom

// STUB: replaced by the issue that owns this command.
struct CostCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cost", abstract: "(not implemented yet)")
    func run() throws { throw ExitCode(2) }
}
