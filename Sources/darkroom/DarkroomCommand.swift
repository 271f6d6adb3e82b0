import ArgumentParser
import Darkroom

@main
struct DarkroomCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "darkroom",
        abstract: "Convert, resize and prepare images for an OpenAI-compatible image gateway.",
        subcommands: [
            ConvertCommand.self, DecodeCommand.self, PrepRefsCommand.self,
            SizeCommand.self, CostCommand.self, BenchCommand.self,
        ]
    )
}
