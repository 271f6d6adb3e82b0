import Foundation

/// A JSON value that is `Sendable` and `Equatable`: how the gateway keeps fields it does not
/// interpret (unknown request parameters, `usage`) so they can be re-emitted untouched.
public enum JSONValue: Sendable, Equatable, Codable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let i = try? c.decode(Int.self) { self = .int(i); return }
        if let d = try? c.decode(Double.self) { self = .double(d); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let a = try? c.decode([JSONValue].self) { self = .array(a); return }
        self = .object(try c.decode([String: JSONValue].self))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case let .bool(b): try c.encode(b)
        case let .int(i): try c.encode(i)
        case let .double(d): try c.encode(d)
        case let .string(s): try c.encode(s)
        case let .array(a): try c.encode(a)
        case let .object(o): try c.encode(o)
        }
    }

    /// Parses a JSON document (any top-level value).
    public init(parsing data: Data) throws {
        self = try JSONDecoder().decode(JSONValue.self, from: data)
    }

    /// Converts a `JSONSerialization`-style value (`[String: Any]`, `[Any]`, `String`, `NSNumber`, …).
    /// Round-trips through JSON text so that booleans and numbers keep their JSON types on every platform.
    public init(jsonObject: Any) throws {
        let data = try JSONSerialization.data(withJSONObject: [jsonObject], options: [.fragmentsAllowed])
        guard case let .array(values) = try JSONValue(parsing: data), let first = values.first else {
            self = .null
            return
        }
        self = first
    }

    /// The value as `JSONSerialization` objects (`[String: Any]`, `[Any]`, `String`, `Int`, `Double`, `Bool`, `NSNull`).
    public var jsonObject: Any {
        switch self {
        case .null: NSNull()
        case let .bool(b): b
        case let .int(i): i
        case let .double(d): d
        case let .string(s): s
        case let .array(a): a.map(\.jsonObject)
        case let .object(o): o.mapValues(\.jsonObject)
        }
    }

    /// Compact JSON text, keys sorted.
    public func jsonData() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)) ?? Data("null".utf8)
    }

    public var description: String { String(decoding: jsonData(), as: UTF8.self) }

    public var stringValue: String? { if case let .string(s) = self { s } else { nil } }
    public var intValue: Int? { if case let .int(i) = self { i } else { nil } }
    public var objectValue: [String: JSONValue]? { if case let .object(o) = self { o } else { nil } }
    public var arrayValue: [JSONValue]? { if case let .array(a) = self { a } else { nil } }

    /// A short name of the JSON type, for error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .double: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
