// The measuring tool of scripts/measure-decode.sh: reads an images response through the library
// and writes each entry's image bytes, as `darkroom decode` does (without decoding the pixels).
//
//   measure-decode stream FILE [OUT_DIR]   ImagesResponseReader (b64_json decoded while read), one entry at a time
//   measure-decode whole FILE [OUT_DIR]    InputFile.read + ImagesResponse(parsing:) + contents(), as decode does today
//   measure-decode baseline                nothing: the process's own peak RSS
//   measure-decode inprocess FILE          best of 7 in-process timings: the first b64_json through
//                                          Foundation's and swift-extras-base64's decoders (whole and
//                                          in 64 KiB pieces), the reader, ImagesResponse(parsing:), JSONDecoder
// MEASURE_CHUNK=BYTES sets the reader's chunk size (default ImagesResponseReader.defaultChunkSize).
import Darkroom
import ExtrasBase64
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

let args = CommandLine.arguments
guard args.count >= 2 else { print("usage: measure-decode stream|whole|baseline FILE [OUT_DIR]"); exit(2) }
if args[1] == "baseline" { exit(0) }
guard args.count >= 3 else { print("usage: measure-decode stream|whole|baseline FILE [OUT_DIR]"); exit(2) }
let out = args.count > 3 ? args[3] : nil
var total = 0
var count = 0

@MainActor func keep(_ content: Result<ResponseItemContent, DarkroomError>, _ index: Int) throws {
    guard case let .image(bytes, format) = try content.get() else { return }
    total += bytes.count
    count += 1
    if let out { try OutputFile.write(bytes, to: "\(out)/item-\(index).\(format.fileExtension)", overwrite: true) }
}

func inProcess(_ path: String) throws {
    let file = try InputFile.read(path, image: false)
    let marker = Array(#""b64_json": ""#.utf8)
    var start = 0
    while !file[start..<(start + marker.count)].elementsEqual(marker) { start += 1 }
    start += marker.count
    let text = Array(file[start..<file[start...].firstIndex(of: UInt8(ascii: "\""))!])
    print("first b64_json: \(text.count) characters")
    func time(_ label: String, _ body: () throws -> Int) rethrows {
        var best = Duration.seconds(100)
        for _ in 0..<7 {
            let t0 = ContinuousClock.now
            _ = try body()
            best = min(best, ContinuousClock.now - t0)
        }
        let ms = Double(best.components.attoseconds) / 1e15 + Double(best.components.seconds) * 1000
        print("  \(label): \((ms * 10).rounded() / 10) ms")
    }
    let piece = 64 << 10
    try time("Foundation Data(base64Encoded:), whole") { Data(base64Encoded: Data(text))!.count }
    time("Foundation Data(base64Encoded:), 64 KiB pieces") {
        var out = [UInt8]()
        out.reserveCapacity(text.count / 4 * 3)
        for i in stride(from: 0, to: text.count, by: piece) {
            out.append(contentsOf: Data(base64Encoded: Data(text[i..<min(i + piece, text.count)]))!)
        }
        return out.count
    }
    try time("swift-extras-base64 Base64.decode(bytes:), whole") { try Base64.decode(bytes: text).count }
    try time("swift-extras-base64 Base64.decode(bytes:), 64 KiB pieces") {
        var out = [UInt8]()
        out.reserveCapacity(text.count / 4 * 3)
        for i in stride(from: 0, to: text.count, by: piece) {
            out.append(contentsOf: try Base64.decode(bytes: text[i..<min(i + piece, text.count)]))
        }
        return out.count
    }
    try time("ImagesResponseReader(path:), decode, every item") { try ImagesResponseReader(path: path).readAll().data.count }
    try time("ImagesResponse(parsing:) (keepText) of the bytes") { try ImagesResponse(parsing: Data(file)).data.count }
    try time("JSONValue(parsing:) (JSONDecoder) of the bytes") { try JSONValue(parsing: Data(file)) == .null ? 0 : 1 }
}

do {
    switch args[1] {
    case "stream":
        let chunk = getenv("MEASURE_CHUNK").flatMap { Int(String(cString: $0)) } ?? ImagesResponseReader.defaultChunkSize
        let reader = try ImagesResponseReader(path: args[2], chunkSize: chunk)
        while let item = try reader.next() {
            let index = reader.itemCount - 1
            try keep(Result { () throws(DarkroomError) in try item.content(index: index) }, index)
        }
    case "inprocess":
        try inProcess(args[2])
        exit(0)
    case "whole":
        let response = try ImagesResponse(parsing: Data(try InputFile.read(args[2], image: false)))
        for (index, content) in response.contents().enumerated() { try keep(content, index) }
    default:
        print("unknown mode \(args[1])")
        exit(2)
    }
} catch {
    print("measure-decode: \(error)")
    exit(1)
}
print("\(count) images, \(total) bytes")
