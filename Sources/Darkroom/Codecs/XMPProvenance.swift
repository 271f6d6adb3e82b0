/// The one XMP field Darkroom reads and writes itself: the IPTC `DigitalSourceType`
/// (`Iptc4xmpExt:DigitalSourceType`, IPTC Photo Metadata Extension), the provenance label of an
/// image — `http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia` for one made
/// by a generative model, on which the EU AI Act's marking duty relies.
///
/// ``digitalSourceType(in:)`` reads it with a small namespace-aware XML scanner (the prefix is
/// whatever the packet binds to the Iptc4xmpExt namespace; the value may be an attribute of
/// `rdf:Description`, an element's text or its `rdf:resource`); ``packet(digitalSourceType:)``
/// writes the minimal packet that ``MetadataKeep/provenance`` keeps. Every read is bounded: the
/// packet is at most ``Limits/maxXMPBytes``, the nesting ``maxDepth``, the value ``maxValueLength``.
enum XMPProvenance {
    /// The IPTC Photo Metadata Extension namespace.
    static let namespace = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
    /// RDF's namespace (`rdf:resource`).
    static let rdfNamespace = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    /// The longest label read or written, in characters (the IPTC terms are under 80).
    static let maxValueLength = 1024
    /// The deepest element nesting read (an XMP packet is a few levels deep).
    static let maxDepth = 256

    /// The `DigitalSourceType` of `xmp` (UTF-8 XML), or nil when absent, malformed or longer than
    /// ``maxValueLength``. The first one found wins.
    static func digitalSourceType(in xmp: [UInt8]) -> String? {
        read(xmp).label
    }

    /// ``digitalSourceType(in:)``, and when it is nil although the packet has a `DigitalSourceType`,
    /// why that value is not read: `of 2000 characters is over the 1024-character limit`, `holds a
    /// control character (U+0007)`, `has a malformed character reference`.
    static func read(_ xmp: [UInt8]) -> (label: String?, refused: String?) {
        var scanner = Scanner(xmp)
        let label = scanner.run()
        return (label, label == nil ? scanner.refused : nil)
    }

    /// A minimal XMP packet holding only `value` as `Iptc4xmpExt:DigitalSourceType`.
    static func packet(digitalSourceType value: String) -> [UInt8] {
        let text = """
            <?xpacket begin="\u{FEFF}" id="W5M0MpCehiHzreSzNTczkc9d"?>
            <x:xmpmeta xmlns:x="adobe:ns:meta/">
             <rdf:RDF xmlns:rdf="\(rdfNamespace)">
              <rdf:Description rdf:about="" xmlns:Iptc4xmpExt="\(namespace)">
               <Iptc4xmpExt:DigitalSourceType>\(escaped(value))</Iptc4xmpExt:DigitalSourceType>
              </rdf:Description>
             </rdf:RDF>
            </x:xmpmeta>
            <?xpacket end="w"?>
            """
        return Array(text.utf8)
    }

    /// `text` with `&`, `<`, `>` and `"` as XML entities.
    static func escaped(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    /// `xmp` with every `tiff:Orientation` value (attribute `tiff:Orientation="6"` or element
    /// `<tiff:Orientation>6<`) set to 1, in place, as Pillow finds it: a kept XMP must not turn
    /// pixels that are already stored upright (Pillow's `exif_transpose` reads it when EXIF has no
    /// orientation).
    static func resettingOrientation(_ xmp: [UInt8]) -> [UInt8] {
        let key = Array("tiff:Orientation".utf8)
        var out = xmp
        var i = 0
        while i + key.count + 1 < out.count {
            if out[i] == key[0], out[i..<(i + key.count)].elementsEqual(key) {
                var j = i + key.count
                if out[j] == UInt8(ascii: "=") && j + 1 < out.count && (out[j + 1] == UInt8(ascii: "\"") || out[j + 1] == UInt8(ascii: "'")) {
                    j += 2
                } else if out[j] == UInt8(ascii: ">") {
                    j += 1
                } else {
                    i += 1
                    continue
                }
                while j < out.count && (out[j] == 0x20 || out[j] == 0x0A || out[j] == 0x0D || out[j] == 0x09) { j += 1 }
                if j < out.count && (UInt8(ascii: "2")...UInt8(ascii: "8")).contains(out[j])
                    && (j + 1 == out.count || !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(out[j + 1])) {
                    out[j] = UInt8(ascii: "1")
                }
                i = j
            } else {
                i += 1
            }
        }
        return out
    }

    /// The scanner: tags, attributes, text, comments, CDATA, processing instructions; namespace
    /// declarations scoped per element.
    private struct Scanner {
        let b: [UInt8]
        var i = 0
        /// Prefix → namespace bindings, one frame per open element (only the declarations it adds).
        var scopes: [[String: String]] = []
        /// Per open element: whether it is the DigitalSourceType element whose text is the value.
        var capturing: [Bool] = []
        var text: [UInt8] = []
        var failed = false
        /// Why the first `DigitalSourceType` value met was not taken, if one was refused.
        var refused: String?

        init(_ bytes: [UInt8]) { b = bytes }

        func namespace(of prefix: String) -> String? {
            for scope in scopes.reversed() { if let uri = scope[prefix] { return uri } }
            return nil
        }

        /// Splits `qname` into its namespace and local name (nil namespace: unbound or none).
        func resolve(_ qname: String, isAttribute: Bool) -> (namespace: String?, local: String) {
            guard let colon = qname.firstIndex(of: ":") else {
                return (isAttribute ? nil : namespace(of: ""), qname)
            }
            return (namespace(of: String(qname[..<colon])), String(qname[qname.index(after: colon)...]))
        }

        mutating func run() -> String? {
            while i < b.count && !failed {
                if b[i] != UInt8(ascii: "<") {
                    let start = i
                    while i < b.count && b[i] != UInt8(ascii: "<") { i += 1 }
                    if capturing.last == true {
                        guard text.count + (i - start) <= XMPProvenance.maxValueLength * 4 else { return tooLong(text.count + i - start) }
                        text += b[start..<i]
                    }
                    continue
                }
                if starts("<!--") { skip(past: "-->"); continue }
                if starts("<![CDATA[") {
                    i += 9
                    let start = i
                    skip(past: "]]>")
                    if capturing.last == true, i >= start + 3 {
                        guard text.count + (i - 3 - start) <= XMPProvenance.maxValueLength * 4 else { return tooLong(text.count + i - 3 - start) }
                        // CDATA is literal: escape `&` so the entity decoding below leaves it as it is.
                        for byte in b[start..<(i - 3)] { text += byte == UInt8(ascii: "&") ? Array("&amp;".utf8) : [byte] }
                    }
                    continue
                }
                if starts("<?") || starts("<!") { skip(past: starts("<?") ? "?>" : ">"); continue }
                if starts("</") {
                    i += 2
                    skip(past: ">")
                    guard !capturing.isEmpty else { return nil }
                    if capturing.removeLast(), let value = value(text) { return value }
                    scopes.removeLast()
                    continue
                }
                if let found = startTag() { return found }
            }
            return nil
        }

        /// Reads a start tag at `i` (after its `<`); returns the value when the tag gives it (an
        /// attribute, or `rdf:resource` of the element). Pushes the element unless it closes itself.
        mutating func startTag() -> String? {
            i += 1
            let name = readName()
            guard !name.isEmpty else { failed = true; return nil }
            var attributes: [(String, String)] = []
            var declared: [String: String] = [:]
            var selfClosing = false
            while true {
                skipSpace()
                guard i < b.count else { failed = true; return nil }
                if b[i] == UInt8(ascii: ">") { i += 1; break }
                if b[i] == UInt8(ascii: "/") {
                    guard i + 1 < b.count, b[i + 1] == UInt8(ascii: ">") else { failed = true; return nil }
                    i += 2
                    selfClosing = true
                    break
                }
                let attribute = readName()
                skipSpace()
                guard !attribute.isEmpty, i < b.count, b[i] == UInt8(ascii: "=") else { failed = true; return nil }
                i += 1
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: "\"") || b[i] == UInt8(ascii: "'") else { failed = true; return nil }
                let quote = b[i]
                i += 1
                let start = i
                while i < b.count && b[i] != quote { i += 1 }
                guard i < b.count, i - start <= Limits.maxXMPBytes else { failed = true; return nil }
                let raw = Array(b[start..<i])
                i += 1
                if attribute == "xmlns" {
                    declared[""] = Self.decoded(raw) ?? ""
                } else if attribute.hasPrefix("xmlns:") {
                    declared[String(attribute.dropFirst(6))] = Self.decoded(raw) ?? ""
                } else {
                    attributes.append((attribute, String(decoding: raw, as: UTF8.self)))
                }
            }
            guard scopes.count < XMPProvenance.maxDepth else { failed = true; return nil }
            scopes.append(declared)
            let element = resolve(name, isAttribute: false)
            let isLabel = element.namespace == XMPProvenance.namespace && element.local == "DigitalSourceType"
            for (attribute, raw) in attributes {
                let resolved = resolve(attribute, isAttribute: true)
                let labelAttribute = resolved.namespace == XMPProvenance.namespace && resolved.local == "DigitalSourceType"
                let resource = isLabel && resolved.namespace == XMPProvenance.rdfNamespace && resolved.local == "resource"
                if labelAttribute || resource, let value = value(Array(raw.utf8)) { return value }
            }
            if selfClosing {
                scopes.removeLast()
            } else {
                capturing.append(isLabel)
                if isLabel { text = [] }
            }
            return nil
        }

        /// The trimmed, entity-decoded value, if it is one: not empty, at most ``maxValueLength``
        /// characters, no control characters; otherwise nil, and the first such refusal noted in
        /// ``refused`` (an empty value is no label: nothing is noted).
        mutating func value(_ raw: [UInt8]) -> String? {
            guard raw.count <= XMPProvenance.maxValueLength * 4 else { return tooLong(raw.count) }
            guard let decoded = Self.decoded(raw) else { return refuse("has a malformed character reference") }
            // XML white space around the value (an element's text is often on a line of its own).
            let value = String(decoded.unicodeScalars.drop { [" ", "\t", "\n", "\r"].contains($0) }.reversed()
                .drop { [" ", "\t", "\n", "\r"].contains($0) }.reversed().map(Character.init))
            guard !value.isEmpty else { return nil }
            guard value.count <= XMPProvenance.maxValueLength else {
                return refuse("of \(value.count) characters is over the \(XMPProvenance.maxValueLength)-character limit")
            }
            if let control = value.unicodeScalars.first(where: needsEscape) {
                let hex = String(control.value, radix: 16, uppercase: true)
                return refuse("holds a control character (U+\(String(repeating: "0", count: max(0, 4 - hex.count)) + hex))")
            }
            return value
        }

        /// Notes `reason` as the refusal, unless an earlier value's is noted; nil.
        mutating func refuse(_ reason: String) -> String? {
            if refused == nil { refused = reason }
            return nil
        }

        /// A value of `bytes` UTF-8 bytes, more than the longest label can take: refused, and the
        /// scan ends (nil).
        mutating func tooLong(_ bytes: Int) -> String? {
            refuse("of \(bytes) bytes is over the \(XMPProvenance.maxValueLength)-character limit")
        }

        /// `raw` with the five XML entities and numeric character references decoded; nil for an
        /// unknown or malformed reference.
        static func decoded(_ raw: [UInt8]) -> String? {
            let text = String(decoding: raw, as: UTF8.self)
            guard text.contains("&") else { return text }
            var out = ""
            var rest = Substring(text)
            while let amp = rest.firstIndex(of: "&") {
                out += rest[..<amp]
                guard let semi = rest[amp...].firstIndex(of: ";"), rest.distance(from: amp, to: semi) <= 10 else { return nil }
                let entity = rest[rest.index(after: amp)..<semi]
                switch entity {
                case "amp": out += "&"
                case "lt": out += "<"
                case "gt": out += ">"
                case "quot": out += "\""
                case "apos": out += "'"
                default:
                    guard entity.hasPrefix("#") else { return nil }
                    let digits = entity.dropFirst()
                    let code = digits.hasPrefix("x") ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits, radix: 10)
                    guard let code, let scalar = Unicode.Scalar(code) else { return nil }
                    out.unicodeScalars.append(scalar)
                }
                rest = rest[rest.index(after: semi)...]
            }
            return out + rest
        }

        func starts(_ text: String) -> Bool {
            let t = Array(text.utf8)
            return i + t.count <= b.count && b[i..<(i + t.count)].elementsEqual(t)
        }

        /// Moves `i` past the next `end` (to the end of the input when there is none).
        mutating func skip(past end: String) {
            let t = Array(end.utf8)
            while i < b.count {
                if b[i] == t[0], i + t.count <= b.count, b[i..<(i + t.count)].elementsEqual(t) { i += t.count; return }
                i += 1
            }
        }

        mutating func skipSpace() {
            while i < b.count && (b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0A || b[i] == 0x0D) { i += 1 }
        }

        /// An XML name (anything up to space, `=`, `>`, `/`), at most 256 bytes.
        mutating func readName() -> String {
            let start = i
            while i < b.count, i - start < 256 {
                let c = b[i]
                if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == UInt8(ascii: "=") || c == UInt8(ascii: ">")
                    || c == UInt8(ascii: "/") || c == UInt8(ascii: "<") { break }
                i += 1
            }
            return String(decoding: b[start..<i], as: UTF8.self)
        }
    }
}
