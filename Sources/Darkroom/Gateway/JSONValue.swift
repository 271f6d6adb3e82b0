#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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

    /// Parses a JSON document (any top-level value). Throws ``DarkroomError/gateway(_:)``
    /// (``GatewayError/wrongType(field:value:expected:)``) for text that is not JSON.
    public init(parsing data: Data) throws(DarkroomError) {
        do {
            self = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw .gateway(.wrongType(field: "JSON document", value: "(not valid JSON)", expected: "JSON text (RFC 8259)"))
        }
    }

    /// Converts a `JSONSerialization`-style value (`[String: Any]`, `[Any]`, `String`, `Int`, `Double`,
    /// `Bool`, `nil`, and Foundation's `NSNumber`, `NSNull`, `NSString`, … when the caller uses them).
    /// Plain Swift (no Foundation): numbers and booleans keep their JSON types on every platform.
    /// Throws ``DarkroomError/gateway(_:)`` (``GatewayError/wrongType(field:value:expected:)``) for a value JSON cannot hold
    /// (NaN, infinity, a non-string key, another type).
    public init(jsonObject: Any) throws(DarkroomError) {
        self = try Self.converting(jsonObject, depth: 0)
    }

    private static func converting(_ x: Any, depth: Int) throws(DarkroomError) -> JSONValue {
        func refuse(_ what: String) -> DarkroomError {
            .gateway(.wrongType(field: "JSON value", value: what, expected: "a JSON-compatible value"))
        }
        guard depth < 512 else { throw refuse("nested too deeply") }
        // Optionals (`nil as Any?`, `Optional(3) as Any`): null or the wrapped value.
        let mirror = Mirror(reflecting: x)
        if mirror.displayStyle == .optional {
            guard let wrapped = mirror.children.first?.value else { return .null }
            return try converting(wrapped, depth: depth + 1)
        }
        // Foundation classes, named rather than imported: NSNumber bridges to every numeric type
        // (and to Bool), so its kind decides.
        let typeName = String(reflecting: type(of: x))
        if typeName.hasPrefix("Foundation.") {
            if typeName.hasSuffix("NSNull") { return .null }
            if typeName.hasSuffix("NSCFBoolean"), let b = x as? Bool { return .bool(b) }
            if typeName.hasSuffix("NSNumber") || typeName.hasSuffix("NSDecimalNumber") {
                if let i = x as? Int { return .int(i) }
                if let d = x as? Double { return try finite(d) }
            }
        }
        // Exact type first: with Foundation loaded, some platforms bridge `1 as Any` to `true`.
        if type(of: x) == Bool.self, let b = x as? Bool { return .bool(b) }
        switch x {
        case let v as JSONValue: return v
        case let v as Int: return .int(v)
        case let v as Int8: return .int(Int(v))
        case let v as Int16: return .int(Int(v))
        case let v as Int32: return .int(Int(v))
        case let v as Int64: return .int(Int(v))
        case let v as UInt8: return .int(Int(v))
        case let v as UInt16: return .int(Int(v))
        case let v as UInt32: return .int(Int(v))
        case let v as UInt:
            if let i = Int(exactly: v) { return .int(i) }
            return try finite(Double(v))
        case let v as UInt64:
            if let i = Int(exactly: v) { return .int(i) }
            return try finite(Double(v))
        case let v as Double: return try finite(v)
        case let v as Float: return try finite(Double(v))
        case let v as String: return .string(v)
        case let v as Substring: return .string(String(v))
        case let v as [String: Any]:
            var o: [String: JSONValue] = [:]
            for (key, value) in v { o[key] = try converting(value, depth: depth + 1) }
            return .object(o)
        case let v as [Any]:
            var a: [JSONValue] = []
            for value in v { a.append(try converting(value, depth: depth + 1)) }
            return .array(a)
        case let v as [AnyHashable: Any]:
            var o: [String: JSONValue] = [:]
            for (key, value) in v {
                guard let k = key.base as? String else { throw refuse("a non-string key") }
                o[k] = try converting(value, depth: depth + 1)
            }
            return .object(o)
        default:
            throw refuse(typeName)
        }
    }

    private static func finite(_ d: Double) throws(DarkroomError) -> JSONValue {
        guard d.isFinite else {
            throw DarkroomError.gateway(.wrongType(field: "JSON value", value: "\(d)", expected: "a finite number"))
        }
        return .double(d)
    }

    /// The value as `JSONSerialization`-style objects (`[String: Any]`, `[Any]`, `String`, `Int`,
    /// `Double`, `Bool`; `null` is `nil as Any?`, which `JSONSerialization` writes as `null`).
    public var jsonObject: Any {
        switch self {
        case .null: Optional<Any>.none as Any
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

/// Literals build JSON directly: `["width": 384, "format": "webp", "resized": true]`.
extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { $1 }))
    }
    public init(nilLiteral: ()) { self = .null }
}
