import ArgumentParser
import Darkroom

// STUB: replaced by the issue that owns this command.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "(not implemented yet)",
                                                    subcommands: [BenchEncodeCommand.self])
}
