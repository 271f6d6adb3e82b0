// The measuring tool of scripts/measure-decode.sh: reads an images response through the library
// and writes each entry's image bytes, as `darkroom decode` does (without decoding the pixels).
//
//   measure-decode stream FILE [OUT_DIR]   ImagesResponseReader (b64_json decoded while read), one entry at a time
//   measure-decode whole FILE [OUT_DIR]    InputFile.read + ImagesResponse(parsing:) + contents(), as decode does today
//   measure-decode baseline                nothing: the process's own peak RSS
// MEASURE_CHUNK=BYTES sets the reader's chunk size (default ImagesResponseReader.defaultChunkSize).
import Darkroom
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

do {
    switch args[1] {
    case "stream":
        let chunk = getenv("MEASURE_CHUNK").flatMap { Int(String(cString: $0)) } ?? ImagesResponseReader.defaultChunkSize
        let reader = try ImagesResponseReader(path: args[2], chunkSize: chunk)
        while let item = try reader.next() {
            let index = reader.itemCount - 1
            try keep(Result { () throws(DarkroomError) in try item.content(index: index) }, index)
        }
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
