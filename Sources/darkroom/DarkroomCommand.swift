import ArgumentParser
import Darkroom
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

@main
struct DarkroomCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "darkroom",
        abstract: "Convert, resize and prepare images for an OpenAI-compatible image gateway.",
        discussion: ExitStatus.summary,
        version: CodecLibraries.versionText,
        subcommands: [
            ConvertCommand.self, DecodeCommand.self, PrepRefsCommand.self,
            SizeCommand.self, CostCommand.self, InspectCommand.self, BenchCommand.self,
        ]
    )

    /// Runs the command, mapping ArgumentParser's usage errors to exit status 2. Standard
    /// streams are checked (``StandardStreams``) and SIGINT/SIGTERM remove temporaries (``Signals``).
    static func main() {
        StandardStreams.prepare()
        Signals.install()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if let exit = error as? ExitCode { Glibc.exit(exit.rawValue) }
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {  // --help, --version
                if !message.isEmpty { StandardStreams.outLine(message) }
                Glibc.exit(0)
            }
            // One error style for every usage error: "darkroom: <what>" (as the commands' own
            // errors), then ArgumentParser's usage lines.
            let text = message.hasPrefix("Error: ") ? "darkroom: " + message.dropFirst(7) : Substring(message)
            // ArgumentParser echoes values and unknown option names as given: each argument with a
            // control character is escaped where it appears, then what is left line by line.
            var echoed = String(text)
            for argument in CommandLine.arguments.dropFirst() where Console.hasControlCharacters(argument) {
                echoed = echoed.replacing(argument, with: Console.printable(argument))
            }
            let lines = echoed.split(separator: "\n", omittingEmptySubsequences: false).map { Console.printable(String($0)) }
            if !text.isEmpty { StandardStreams.err(lines.joined(separator: "\n") + "\n") }
            Glibc.exit(code == .validationFailure ? ExitStatus.usage : code.rawValue)
        }
    }
}
