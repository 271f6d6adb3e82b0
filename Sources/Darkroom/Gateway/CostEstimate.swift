#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A local megapixel bill: references, output, totals. See ``MegapixelBilling``.
public struct CostEstimate: Sendable, Equatable {
    public var references: [ReferenceCost]
    public var output: OutputCost
    public var inputPricePerMP: Double?
    public var outputPricePerMP: Double?

    public init(references: [ReferenceCost], output: OutputCost, inputPricePerMP: Double?, outputPricePerMP: Double?) {
        self.references = references
        self.output = output
        self.inputPricePerMP = inputPricePerMP
        self.outputPricePerMP = outputPricePerMP
    }

    /// Billed megapixels of all references.
    public var referenceMegapixels: Int { references.reduce(0) { Self.saturatingSum($0, $1.billedMegapixels) } }
    /// References plus output.
    public var totalMegapixels: Int { Self.saturatingSum(referenceMegapixels, output.billedMegapixels) }

    private static func saturatingSum(_ a: Int, _ b: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? Int.max : sum
    }

    /// `input price · reference MP + output price · output MP`, rounded to 1e-9; nil when no price was given.
    /// A missing price counts as 0 when the other one is given.
    public var totalPrice: Double? {
        guard inputPricePerMP != nil || outputPricePerMP != nil else { return nil }
        let total = Double(referenceMegapixels) * (inputPricePerMP ?? 0) + Double(output.billedMegapixels) * (outputPricePerMP ?? 0)
        return (total * 1e9).rounded() / 1e9
    }

    /// `{"references":[…],"output":{…},"total_mp":N,"total_price":X|null}`.
    public var json: JSONValue {
        .object(["references": .array(references.map(\.json)), "output": output.json,
                 "total_mp": .int(totalMegapixels), "total_price": totalPrice.map { .double($0) } ?? .null])
    }
}
