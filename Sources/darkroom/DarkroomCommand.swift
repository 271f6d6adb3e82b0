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
            SizeCommand.self, CostCommand.self, InspectCommand.self, ReportCommand.self, BenchCommand.self,
        ]
    )

    /// Runs the command, mapping ArgumentParser's usage errors to exit status 2. Standard
    /// streams are checked (``StandardStreams``) and SIGINT/SIGTERM remove temporaries (``Signals``).
    static func main() {
        StandardStreams.prepare()
        Signals.install()
        // The arguments as the system gave them: a name that is not UTF-8 survives
        // (``FileSystemName``); `CommandLine.arguments` would replace its bytes.
        let arguments = (1..<Int(CommandLine.argc)).map { i in
            FileSystemName.string(UnsafeBufferPointer(start: UnsafeRawPointer(CommandLine.unsafeArgv[i]!).assumingMemoryBound(to: UInt8.self),
                                                      count: strlen(CommandLine.unsafeArgv[i]!)))
        }
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch {
            if let exit = error as? ExitCode { Glibc.exit(exit.rawValue) }
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {  // --help, --version
                // Help that no standalone -h/--help asked for came from a cluster of short flags
                // such as a file named '-photo.jpg' (-p -h -o …): a usage error, never help with 0.
                if let cluster = strayCluster(arguments) {
                    StandardStreams.err("darkroom: unknown option '\(Console.printable(cluster))'\(dashAdvice(cluster))\n")
                    Glibc.exit(ExitStatus.usage)
                }
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
            // An unknown option that is a file's name: say how to pass it.
            if let named = arguments.prefix(while: { $0 != "--" }).first(where: { $0.hasPrefix("-") && $0.count > 1 && fsExists($0) }),
               text.contains("nknown option") {
                let usage = echoed.split(separator: "\n").drop(while: { !$0.hasPrefix("Usage:") }).joined(separator: "\n")
                echoed = "darkroom: unknown option '\(named)'\(dashAdvice(named))\n" + usage
            }
            let lines = echoed.split(separator: "\n", omittingEmptySubsequences: false).map { Console.printable(String($0)) }
            if !text.isEmpty { StandardStreams.err(lines.joined(separator: "\n") + "\n") }
            Glibc.exit(code == .validationFailure ? ExitStatus.usage : code.rawValue)
        }
    }

    /// A single-dash argument of several letters (before any `--`) when no argument asked for
    /// help or the version on its own.
    static func strayCluster(_ arguments: [String]) -> String? {
        let options = arguments.prefix(while: { $0 != "--" })
        let asked: Set<String> = ["-h", "--help", "help", "--version", "--experimental-dump-help"]
        if options.contains(where: { asked.contains($0) || $0.hasPrefix("--generate-completion-script") }) { return nil }
        return options.first { $0.hasPrefix("-") && !$0.hasPrefix("--") && $0.count > 2 }
    }

    /// How to pass a file whose name starts with '-'.
    static func dashAdvice(_ name: String) -> String {
        let shown = Console.printable(name)
        let command = CommandLine.arguments.dropFirst().first.map { $0.hasPrefix("-") ? "" : " " + Console.printable($0) } ?? ""
        return "; a file whose name starts with '-' goes after '--' (darkroom\(command) … -- \(shown)) or as ./\(shown)"
    }
}
