import Foundation
import Testing
@testable import Darkroom

/// The helpers that replace full-Foundation APIs in the library (issue #9): same results as
/// the Foundation calls they replace.
@Suite struct FoundationFreeTests {
    @Test func jsonObjectFromJSONSerializationKeepsTypes() throws {
        let text = #"{"a":[1,2.5,true,false,null,"s/t"],"b":{"c":12345678901234},"d":0}"#
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        let value = try JSONValue(jsonObject: object)
        #expect(value == (try JSONValue(parsing: Data(text.utf8))))
        #expect(value.description == #"{"a":[1,2.5,true,false,null,"s/t"],"b":{"c":12345678901234},"d":0}"#)
    }

    @Test func jsonObjectFromSwiftValues() throws {
        let value = try JSONValue(jsonObject: ["n": 1, "t": true, "f": 0.5, "s": "x", "nil": Optional<Int>.none as Any,
                                               "list": [1, "2"] as [Any], "null": NSNull(), "num": NSNumber(value: 7)] as [String: Any])
        #expect(value == .object(["n": .int(1), "t": .bool(true), "f": .double(0.5), "s": .string("x"), "nil": .null,
                                  "list": .array([.int(1), .string("2")]), "null": .null, "num": .int(7)]))
        // And back: jsonObject's nil for null is what JSONSerialization writes as null.
        let data = try JSONSerialization.data(withJSONObject: value.jsonObject, options: [.sortedKeys])
        #expect(try JSONValue(parsing: data) == value)
        #expect(throws: DarkroomError.self) { try JSONValue(jsonObject: ["x": Double.nan]) }
        #expect(throws: DarkroomError.self) { try JSONValue(jsonObject: ["x": Date()]) }
    }

    @Test func trimmingSpacesMatchesFoundation() {
        for s in ["", " ", " a ", "\ta b\t", "\u{00A0}x\u{3000}", "\nx\n", " é ", "a"] {
            #expect(s.trimmingSpaces() == s.trimmingCharacters(in: .whitespaces), "\(s.debugDescription)")
        }
    }

    @Test func pathTextMatchesNSString() {
        for (dir, name) in [("out", "a.png"), ("out/", "a.png"), ("/", "a.png"), (".", "x"), ("a/b", ".dr-1-00000000.tmp")] {
            #expect(PathText.join(dir, name) == (dir as NSString).appendingPathComponent(name))
        }
        for path in ["a.png", "dir/a.b.webp", "/x/y", "noext", "dir.d/file", "a.png/", ".hidden", "r.json"] {
            #expect(PathText.lastComponent(path) == (path as NSString).lastPathComponent, "\(path)")
            #expect(PathText.pathExtension(path) == (path as NSString).pathExtension, "\(path)")
            #expect(PathText.deletingExtension(path) == (path as NSString).deletingPathExtension, "\(path)")
        }
    }
}
