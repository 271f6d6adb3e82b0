import Foundation
import Testing
@testable import Darkroom

/// Issue #16: one error value, rendered by each door in its own vocabulary.
@Suite struct ErrorVocabularyTests {
    static let damaged = DarkroomError.decoding(.damaged(.jpeg, warning: DecodeWarning(kind: .truncated, message: "Premature end of JPEG file"),
                                                         failOn: .truncated))

    @Test func eachDoorNamesItsOwnSetting() {
        let prefix = "jpeg data is truncated or corrupt: Premature end of JPEG file"
        #expect(Self.damaged.message(for: .commandLine)
                == prefix + " (--fail-on truncated; use --fail-on none to convert what can be decoded)")
        #expect(Self.damaged.message(for: .http)
                == prefix + " (fail_on=truncated; send fail_on=none to convert what can be decoded)")
        #expect(Self.damaged.message(for: .swift)
                == prefix + " (failOn: .truncated; set DecodeOptions.failOn to .none to convert what can be decoded)")
        #expect(Self.damaged.description == Self.damaged.message(for: .swift))

        let tooMany = DarkroomError.decoding(.tooManyPixels(width: 20_000, height: 20_000, limit: 1000))
        #expect(tooMany.message(for: .commandLine).hasSuffix("(raise it with --max-pixels)"))
        #expect(tooMany.message(for: .http).hasSuffix("(the server's limit, set by darkroom-server --max-pixels)"))
        #expect(tooMany.message(for: .swift).hasSuffix("(raise DecodeOptions.maxPixels)"))
        let exists = DarkroomError.file(.outputExists(path: "a.png"))
        #expect(exists.message(for: .commandLine) == "a.png already exists (use --overwrite to replace it)")
        #expect(exists.message(for: .swift) == "a.png already exists (pass overwrite: true to replace it)")
        let big = DarkroomError.file(.inputTooLarge(path: "x", size: 10, limit: 5))
        #expect(big.message(for: .commandLine).hasSuffix("(raise it with --max-input-bytes)"))
        #expect(big.message(for: .swift).hasSuffix("(raise the maxInputBytes argument)"))
    }

    @Test func noLibraryOrHTTPMessageNamesACommandLineFlag() {
        let errors: [DarkroomError] = [
            Self.damaged,
            .decoding(.tooManyPixels(width: 1, height: 2, limit: 1)),
            .encoding(.tooManyPixels(width: 1, height: 2, limit: 1)),
            .file(.outputExists(path: "a")),
            .file(.inputTooLarge(path: "a", size: nil, limit: 1)),
        ]
        for error in errors {
            for vocabulary in [ErrorVocabulary.swift, .http] {
                #expect(!error.message(for: vocabulary).contains("--fail-on") && !error.message(for: vocabulary).contains("--overwrite")
                        && !error.message(for: vocabulary).contains("--max-input-bytes")
                        && !error.message(for: vocabulary).contains("with --max-pixels"), "\(vocabulary): \(error.message(for: vocabulary))")
            }
        }
    }
}
