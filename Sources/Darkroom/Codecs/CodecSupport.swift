import CDarkroom

/// Reads a C error buffer filled by the shims.
func shimMessage(_ err: [CChar]) -> String {
    let bytes = err.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return bytes.isEmpty ? "unknown error" : String(decoding: bytes, as: UTF8.self)
}

/// The error of a shim entry point's failure code `rc`: ``DarkroomError/timeLimit(_:)`` for
/// `DARKROOM_TIME_LIMIT` (the deadline stopped the codec at `stage`), else `other`.
func shimFailure(_ rc: Int32, _ stage: TimeLimitError.Stage, _ format: ImageFormat,
                 else other: @autoclosure () -> DarkroomError) -> DarkroomError {
    rc == DARKROOM_TIME_LIMIT ? .timeLimit(TimeLimitError(stage: stage, format: format)) : other()
}

/// Copies a malloc'd C buffer into a Swift array (nil for NULL/empty) and frees it.
func takeCBuffer(_ pointer: UnsafeMutablePointer<UInt8>?, count: Int) -> [UInt8]? {
    guard let pointer else { return nil }
    defer { darkroom_free(pointer) }
    guard count > 0 else { return nil }
    return Array(UnsafeBufferPointer(start: pointer, count: count))
}

/// Checks a declared size against the pixel limit before anything is allocated.
func checkPixelLimit(width: Int, height: Int, limit: Int) throws(DarkroomError) {
    guard width > 0, height > 0 else { throw DarkroomError.decoding(.invalidDimensions(width: width, height: height)) }
    let (product, overflow) = width.multipliedReportingOverflow(by: height)
    if overflow || product > limit {
        throw DarkroomError.decoding(.tooManyPixels(width: width, height: height, limit: limit))
    }
}

/// A decoder's raw result, before orientation and colour conversion.
struct RawDecode {
    var image: Image
    var metadata: ImageMetadata
}

extension darkroom_warnings {
    /// The shim's warning record as Darkroom warnings: one entry, of kind truncated when any
    /// warning meant missing pixels, carrying the first such message and the total count.
    var decodeWarnings: [DecodeWarning] {
        guard count > 0 else { return [] }
        var copy = message
        let text = withUnsafeBytes(of: &copy) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return [DecodeWarning(kind: truncated > 0 ? .truncated : .warning,
                              message: text.isEmpty ? "the decoder warned" : text, count: Int(count))]
    }
}
