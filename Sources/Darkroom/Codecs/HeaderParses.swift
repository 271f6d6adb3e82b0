/// A test hook that counts header parses, per format: every codec entry point that parses a
/// file's header (or container) calls ``count(_:)``. Tests check that a conversion parses its
/// input's header once (the plan is computed once).
enum HeaderParses {
    typealias Counter = EventCounter<ImageFormat>
    @TaskLocal static var counter: Counter?

    static func count(_ format: ImageFormat) { counter?.add(format) }
}
