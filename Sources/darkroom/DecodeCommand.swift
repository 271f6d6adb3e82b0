import ArgumentParser
import Darkroom

// STUB: replaced by the issue that owns this command.
struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "decode", abstract: "(not implemented yet)")
    func run() throws { throw ExitCode(2) }
}
