import ArgumentParser
import Darkroom

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "convert", abstract: "Convert images between formats.")
    func run() throws { throw ExitCode(2) }
}
