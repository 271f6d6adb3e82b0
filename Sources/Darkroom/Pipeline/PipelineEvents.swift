/// A test hook that counts what the pipeline chose, by name (e.g. `"restart-bands"`), so a test
/// can check that the path it compares really ran.
enum PipelineEvents {
    typealias Counter = EventCounter<String>
    @TaskLocal static var counter: Counter?

    static func count(_ event: String) { counter?.add(event) }
}
