import Darkroom
import Foundation
import MultipartKit
import NIOCore

/// A `multipart/form-data` body as OpenAI's edits route takes it, parsed with multipart-kit's
/// incremental `MultipartParser` under bounds of its own: at most ``Bounds/maxParts`` parts, a part's
/// headers at most ``Bounds/maxHeaderBytes``, a text field's value at most ``Bounds/maxFieldBytes``;
/// the whole body is already bounded by `--max-body-bytes`.
///
/// A part is a **file** when its name is one of `fileNames` (`image`, `image[]`, `mask`) and it
/// carries a `filename` or a `Content-Type` (the SDKs and curl's `-F name=@file` send both); any
/// other part is a **text field**, UTF-8, each name at most once. A file part under a text field's
/// name is refused (`invalid_type`), as is a text part under a file's name.
struct MultipartForm {
    /// One uploaded file, in the order it came.
    struct File {
        /// The part's name as sent: `image`, `image[]` or `mask`.
        var name: String
        var filename: String?
        var bytes: [UInt8]
    }

    struct Bounds {
        var maxParts = 64
        var maxHeaderBytes = 16 << 10
        var maxFieldBytes = 64 << 10
    }

    /// Text fields by name.
    var fields: [String: String] = [:]
    /// File parts, in order.
    var files: [File] = []

    /// The `boundary` parameter of a `multipart/form-data` content type, or a 400 naming what is wrong.
    static func boundary(contentType: String?) throws(APIError) -> String {
        let expected = "a multipart/form-data body (image or image[] file parts and text fields, as OpenAI's image edits take)"
        guard let contentType else { throw APIError.invalidValue("Content-Type", "no Content-Type: expected \(expected)") }
        let (type, parameters) = HeaderParameters.parse(contentType)
        guard type.lowercased() == "multipart/form-data" else {
            throw APIError.invalidValue("Content-Type", "Content-Type '\(ValueParser.printable(type, maxLength: 80))': expected \(expected)")
        }
        guard let boundary = parameters["boundary"], !boundary.isEmpty, boundary.utf8.count <= 200 else {
            throw APIError.invalidValue("Content-Type", "multipart/form-data without a boundary parameter")
        }
        return boundary
    }

    /// Parses `body`. Throws a 400 (`invalid_value`, `param` the part's name where there is one) for
    /// a body that is not well-formed or breaks a bound.
    init(body: [UInt8], boundary: String, fileNames: Set<String>, bounds: Bounds = Bounds()) throws(APIError) {
        if let offset = MultipartHeaderGuard.firstNonASCIIHeaderName(in: body, boundary: boundary) {
            throw APIError.invalidValue("multipart", "a part's header name holds a byte that is not ASCII (at byte \(offset)); header names are tokens")
        }
        let parser = MultipartParser(boundary: boundary)
        var headers: [(String, String)] = []
        var headerBytes = 0
        var partBody: [UInt8] = []
        var inPart = false
        var bodyStarted = false
        var partCount = 0
        var failure: APIError?
        var currentIsFile = false
        var currentName: String?
        var currentFilename: String?
        var fields: [String: String] = [:]
        var files: [File] = []

        func fail(_ error: APIError) { if failure == nil { failure = error } }

        /// Called when a part's first body byte arrives or it completes with none: its headers are all in.
        func beginBody() {
            guard !bodyStarted else { return }
            bodyStarted = true
            let disposition = headers.first { $0.0.lowercased() == "content-disposition" }?.1
            let (kind, parameters) = HeaderParameters.parse(disposition ?? "")
            guard kind.lowercased() == "form-data", let name = parameters["name"] else {
                fail(APIError.invalidValue("multipart", "part \(partCount) has no Content-Disposition: form-data; name=…"))
                return
            }
            currentName = name
            currentFilename = parameters["filename"]
            let contentType = headers.first { $0.0.lowercased() == "content-type" }?.1
            let looksLikeFile = currentFilename != nil || (contentType.map { !$0.lowercased().hasPrefix("text/plain") } ?? false)
            if fileNames.contains(name) {
                guard looksLikeFile else {
                    fail(APIError.invalidType(name, "Invalid type for '\(name)': expected a file, but got a string instead."))
                    return
                }
                currentIsFile = true
            } else {
                if currentFilename != nil {
                    fail(APIError.invalidType(name, "Invalid type for '\(ValueParser.printable(name, maxLength: 64))': expected a string, but got a file instead."))
                    return
                }
                currentIsFile = false
            }
        }

        parser.onHeader = { name, value in
            if !inPart {
                inPart = true
                partCount += 1
                if partCount > bounds.maxParts {
                    fail(APIError.invalidValue("multipart", "more than \(bounds.maxParts) parts in the form"))
                }
            }
            headerBytes += name.utf8.count + value.utf8.count + 4
            if headerBytes > bounds.maxHeaderBytes {
                fail(APIError.invalidValue("multipart", "part \(partCount)'s headers are over \(bounds.maxHeaderBytes) bytes"))
            }
            headers.append((name, value))
        }
        parser.onBody = { chunk in
            guard failure == nil else { return }
            if !inPart {  // a part with no headers at all
                inPart = true
                partCount += 1
            }
            beginBody()
            guard failure == nil else { return }
            if !currentIsFile, partBody.count + chunk.readableBytes > bounds.maxFieldBytes {
                fail(APIError.invalidValue(currentName ?? "multipart", "the field is over \(bounds.maxFieldBytes) bytes"))
                return
            }
            partBody.append(contentsOf: chunk.readableBytesView)
        }
        parser.onPartComplete = {
            if !inPart { partCount += 1 }
            beginBody()
            if failure == nil, let name = currentName {
                if currentIsFile {
                    files.append(File(name: name, filename: currentFilename, bytes: partBody))
                } else if fields[name] != nil {
                    fail(APIError.invalidValue(name, "the field '\(ValueParser.printable(name, maxLength: 64))' is given twice"))
                } else if let text = String(validating: partBody, as: UTF8.self) {
                    fields[name] = text
                } else {
                    fail(APIError.invalidValue(name, "the field '\(ValueParser.printable(name, maxLength: 64))' is not UTF-8 text"))
                }
            }
            headers = []
            headerBytes = 0
            partBody = []
            inPart = false
            bodyStarted = false
            currentIsFile = false
            currentName = nil
            currentFilename = nil
        }
        do {
            try parser.execute(ByteBuffer(bytes: body))
        } catch {
            fail(APIError.invalidValue("multipart", "the multipart body is malformed (a part's headers are not name: value lines)"))
        }
        if let failure { throw failure }
        if inPart {
            throw APIError.invalidValue("multipart", "the multipart body ends inside a part (no closing --\(ValueParser.printable(boundary, maxLength: 80))--)")
        }
        if partCount == 0 {
            throw APIError.invalidValue("multipart", "no parts found: the body holds no --\(ValueParser.printable(boundary, maxLength: 80)) boundary")
        }
        self.fields = fields
        self.files = files
    }
}

/// `type; name=value; name="quoted value"` (a `Content-Type` or `Content-Disposition` value), as
/// RFC 9110 §5.6.6 and RFC 7578 write parameters: names case-insensitive (lower-cased here),
/// values a token or a quoted string with `\` escapes.
enum HeaderParameters {
    static func parse(_ value: String) -> (value: String, parameters: [String: String]) {
        let scalars = Array(value.unicodeScalars)
        var i = 0
        func skipSpaces() { while i < scalars.count, scalars[i] == " " || scalars[i] == "\t" { i += 1 } }
        var head = ""
        while i < scalars.count, scalars[i] != ";" { head.unicodeScalars.append(scalars[i]); i += 1 }
        var parameters: [String: String] = [:]
        while i < scalars.count {
            i += 1  // the ';'
            skipSpaces()
            var name = ""
            while i < scalars.count, scalars[i] != "=", scalars[i] != ";" { name.unicodeScalars.append(scalars[i]); i += 1 }
            guard i < scalars.count, scalars[i] == "=" else { continue }
            i += 1
            skipSpaces()
            var text = ""
            if i < scalars.count, scalars[i] == "\"" {
                i += 1
                while i < scalars.count, scalars[i] != "\"" {
                    if scalars[i] == "\\", i + 1 < scalars.count { i += 1 }
                    text.unicodeScalars.append(scalars[i])
                    i += 1
                }
                i += 1  // the closing quote
                while i < scalars.count, scalars[i] != ";" { i += 1 }
            } else {
                while i < scalars.count, scalars[i] != ";" { text.unicodeScalars.append(scalars[i]); i += 1 }
                text = text.trimmingCharacters(in: .whitespaces)
            }
            let key = name.trimmingCharacters(in: .whitespaces).lowercased()
            if !key.isEmpty, parameters[key] == nil { parameters[key] = text }
        }
        return (head.trimmingCharacters(in: .whitespaces), parameters)
    }
}
