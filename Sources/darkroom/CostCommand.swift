import ArgumentParser
import Darkroom
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `darkroom cost`: the local megapixel bill for references + generated images.
struct CostCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cost",
        abstract: "Estimate the megapixel bill of a request (FLUX.2 gateway rules).",
        discussion: """
            Billed MP = ceil(w*h / 1,048,576) per image. Each reference counts at least 1 MP; a \
            reference over 4 MP (4,194,304 px) is counted after its resize to fit within 4 MP. The \
            output counts n times. A FILE reference is measured from its header (upright size).
            Example: darkroom cost --ref 4000x3000 --ref 512x512 --output 1024x1024 --n 2  → 7 MP
            """)

    @Option(name: .customLong("ref"), parsing: .unconditionalSingleValue, help: "A reference image: WxH or an image FILE. Repeatable.")
    var refs: [String] = []

    @Option(parsing: .unconditional, help: "Size of each generated image, WxH.")
    var output: String

    @Option(parsing: .unconditional, help: "Number of generated images (1-10).")
    var n: String = "1"

    @Option(parsing: .unconditional, help: "Price per input (reference) megapixel, 0 to 1000000.")
    var inputPrice: String?

    @Option(parsing: .unconditional, help: "Price per output megapixel, 0 to 1000000.")
    var outputPrice: String?

    @Flag(help: "Print the bill as JSON.")
    var json = false

    func run() throws {
        let outputSize: PixelSize
        let n: Int, inputPrice: Double?, outputPrice: Double?
        do {
            guard let o = PixelSize(parsing: output) else {
                throw DarkroomError.option(OptionError(name: "output", value: output,
                                                       expected: "WxH with sides 1-\(Limits.maxSide), e.g. 1024x1024"))
            }
            outputSize = o
            n = try ValueParser.integer(self.n, name: "n", in: GatewayRequest.nRange)
            // A reference written as a size (digits x digits) that is no file must be a valid size:
            // a usage error, not a missing file.
            for ref in refs where PixelSize(parsing: ref) == nil && Self.looksLikeSize(ref)
                && !FileManager.default.fileExists(atPath: ref) {
                throw DarkroomError.option(OptionError(name: "ref", value: ref,
                                                       expected: "WxH with sides 1-\(Limits.maxSide), or an image file"))
            }
            func price(_ text: String?, _ name: String) throws -> Double? {
                try text.map { try ValueParser.number($0, name: name, above: 0, includingLower: true, atMost: 1_000_000) }
            }
            inputPrice = try price(self.inputPrice, "input-price")
            outputPrice = try price(self.outputPrice, "output-price")
        } catch {
            Console.error(nil, error)
            throw ExitCode(ExitStatus.usage)
        }

        var references: [(source: String, size: PixelSize)] = []
        var failed = false
        for ref in refs {
            if let size = PixelSize(parsing: ref), !FileManager.default.fileExists(atPath: ref) {
                references.append((ref, size))
                continue
            }
            do {
                guard let data = FileManager.default.contents(atPath: ref) else {
                    throw DarkroomError.file(.io(path: ref, message: "cannot read file (and not a WxH size)"))
                }
                let header = try ImageDecoder.readHeader([UInt8](data))
                references.append((ref, PixelSize(width: header.uprightWidth, height: header.uprightHeight)))
            } catch {
                Console.error(ref, error)
                failed = true
            }
        }
        if failed { throw ExitCode(ExitStatus.someFailed) }

        let bill = try MegapixelBilling.estimate(references: references, output: outputSize, n: n,
                                             inputPricePerMP: inputPrice, outputPricePerMP: outputPrice)
        if json {
            Console.json(bill.json)
            return
        }
        for r in bill.references {
            let resized = r.resized ? " -> \(r.resizedWidth)x\(r.resizedHeight)" : ""
            Console.line("reference \(r.source): \(r.width)x\(r.height)\(resized) = \(r.billedMegapixels) MP")
        }
        Console.line("output \(outputSize) x \(n) = \(bill.output.billedMegapixels) MP")
        var total = "total \(bill.totalMegapixels) MP"
        if let price = bill.totalPrice { total += ", price \(price)" }
        Console.line(total)
    }

    /// `<digits>x<digits>` (also `×`, `*`, signs allowed): meant as a size.
    static func looksLikeSize(_ text: String) -> Bool {
        let parts = text.lowercased().split(omittingEmptySubsequences: false, whereSeparator: { $0 == "x" || $0 == "×" || $0 == "*" })
        return parts.count == 2 && parts.allSatisfy { part in
            let digits = part.drop { $0 == "-" || $0 == "+" }
            return !digits.isEmpty && part.count - digits.count <= 1 && digits.allSatisfy { ("0"..."9").contains($0) }
        }
    }
}
