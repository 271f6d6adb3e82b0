import FuzzHarness

// libFuzzer entry point; built with -parse-as-library, so libFuzzer's main() runs it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    try? FuzzHarness.run("animation", bytes)
    return 0
}
