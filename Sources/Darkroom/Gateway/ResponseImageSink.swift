/// Where ``ImagesResponseReader`` puts the decoded bytes of each `b64_json` string when its
/// ``ImagesResponseReader/imageSink`` is set, instead of into ``ResponseItem/decodedBytes``: a piece
/// at a time (at most 48 KiB), in order, as the text is read, so the image is never held whole.
///
/// A sink keeps its own failures (a write error, say) and reports them when the entry comes out:
/// the reader goes on reading the document either way.
public protocol ResponseImageSink: AnyObject {
    /// The next decoded bytes of the string; valid only during the call.
    func write(_ bytes: UnsafeRawBufferPointer)
}
