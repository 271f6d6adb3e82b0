import ArgumentParser
import Darkroom
import Foundation

@main
struct DarkroomCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "darkroom",
        abstract: "Convert, resize and prepare images for an OpenAI-compatible image gateway.",
        discussion: "Exit status: 0 all inputs succeeded, 1 some input failed, 2 usage error.",
        version: CodecLibraries.versionText,
        subcommands: [
            ConvertCommand.self, DecodeCommand.self, PrepRefsCommand.self,
            SizeCommand.self, CostCommand.self, BenchCommand.self,
        ]
    )

    /// Runs the command, mapping ArgumentParser's usage errors to exit status 2.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success || error is ExitCode { exit(withError: error) }
            let message = fullMessage(for: error)
            if !message.isEmpty { FileHandle.standardError.write(Data((message + "\n").utf8)) }
            Foundation.exit(code == .validationFailure ? ExitStatus.usage : code.rawValue)
        }
    }
}
