/// What the gateway layer rejects: request fields, combinations, reference counts and
/// response documents. Every case carries the offending value and, where there is a fixed
/// set, the accepted values, so a gateway can return a precise 400 and tests can assert the case.
public enum GatewayError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A field has a value outside a fixed set, e.g. `output_format: "bmp"`.
    case invalidValue(field: String, value: String, accepted: [String])
    /// An integer field is outside its range, e.g. `n: 11`.
    case outOfRange(field: String, value: String, range: ClosedRange<Int>)
    /// A field has the wrong JSON type, e.g. `n: "two"` where a number is needed.
    case wrongType(field: String, value: String, expected: String)
    /// Two fields that cannot go together (OpenAI's error `code` when it has one).
    case incompatible(code: String, message: String)
    /// More reference images than the limit; checked before any image is touched.
    case tooManyReferences(count: Int, limit: Int)
    /// The response document is not an images response (not JSON, no `data` array, …).
    case malformedResponse(String)
    /// One `data[]` item of a response could not be used.
    case badItem(index: Int, reason: String)

    public var description: String {
        switch self {
        case let .invalidValue(field, value, accepted):
            "invalid \(field) '\(printableText(value))': accepted values are \(accepted.joined(separator: ", "))"
        case let .outOfRange(field, value, range):
            "invalid \(field) '\(printableText(value))': expected \(rangeText(range))"
        case let .wrongType(field, value, expected):
            "invalid \(field) \(printableText(value)): expected \(expected)"
        case let .incompatible(code, message):
            "\(message) (\(code))"
        case let .tooManyReferences(count, limit):
            "\(count) reference images given, at most \(limit) are accepted"
        case let .malformedResponse(reason):
            "not an images response: \(reason)"
        case let .badItem(index, reason):
            "item \(index): \(reason)"
        }
    }
}
