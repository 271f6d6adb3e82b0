import Testing
@testable import Darkroom

/// Issue #17: `--max-bytes` sizes. Decimal units are 1000-based, IEC units 1024-based, any case;
/// the value is rounded down to whole bytes and bounded 1...2^40.
@Suite struct ByteSizeParserTests {
    @Test(arguments: [
        ("200k", 200_000), ("1.5M", 1_500_000), ("1500000", 1_500_000), ("2MiB", 2_097_152), ("64KiB", 65_536),
        ("1g", 1_000_000_000), ("1GiB", 1_073_741_824), ("1kb", 1000), ("1KB", 1000), ("1 MB", 1_000_000),
        (" 300 b ", 300), ("1", 1), (".5k", 500), ("1.k", 1000), ("1.0009k", 1000),
        ("1.999999999", 1), ("0.1mib", 104_857), ("1099511627776", 1 << 40), ("1024GiB", 1 << 40),
        ("0.000000001g", 1),
    ])
    func accepts(_ text: String, _ bytes: Int) throws {
        #expect(try ValueParser.byteSize(text, name: "max-bytes") == bytes)
    }

    @Test(arguments: ["", " ", "0", "0k", "k", ".", "1..5k", "1.2.3", "-1k", "+1k", "1e6", "1e3k", "0x10", "inf", "nan",
                      "1kk", "1 k b", "1tb", "1T", "5 bytes", "1099511627777", "1025GiB", "1100G",
                      "99999999999999999999", "9223372036854775807", "1.0000000001k", "0.0005k", "1,5M", "１k", "1mb2"])
    func refuses(_ text: String) {
        let expected = "a size from 1 byte to 1099511627776 bytes: a number with an optional unit k, M, G (1000-based)"
            + " or KiB, MiB, GiB (1024-based), e.g. 200k or 1.5M"
        #expect(throws: DarkroomError.option(OptionError(name: "max-bytes", value: text, expected: expected))) {
            try ValueParser.byteSize(text, name: "max-bytes")
        }
    }

    @Test func targetSizeValidatesItsNumbers() throws {
        try TargetSize(maxBytes: 1, minQuality: 0).validate()
        try TargetSize(maxBytes: Limits.maxByteCount, minQuality: 100).validate()
        #expect(TargetSize(maxBytes: 5).minQuality == 30)
        #expect(throws: DarkroomError.option(OptionError(name: "max-bytes", value: "0", expected: "an integer from 1 to 1099511627776"))) {
            try TargetSize(maxBytes: 0).validate()
        }
        #expect(throws: DarkroomError.option(OptionError(name: "min-quality", value: "101", expected: "an integer from 0 to 100"))) {
            try ConvertOptions(targetSize: TargetSize(maxBytes: 1000, minQuality: 101)).validate()
        }
        // The converter validates before it reads a byte.
        #expect(throws: DarkroomError.option(OptionError(name: "max-bytes", value: "-5", expected: "an integer from 1 to 1099511627776"))) {
            try Converter(options: ConvertOptions(targetSize: TargetSize(maxBytes: -5))).convert([UInt8]())
        }
    }
}
