import Darkroom
import Testing

/// `--background` takes the CSS named colours (issue #17), case-insensitive, besides hex.
struct CSSColorTests {
    @Test(arguments: [("white", "#ffffff"), ("Black", "#000000"), ("rebeccapurple", "#663399"), ("navy", "#000080"),
                      ("LightGoldenRodYellow", "#fafad2"), ("#abc", "#aabbcc"), ("12ab3F", "#12ab3f"), (" tomato ", "#ff6347")])
    func namesAndHexParse(_ text: String, _ hex: String) throws {
        #expect(try RGBColor(parsing: text).description == hex)
    }

    @Test(arguments: ["", "#12", "nocolour", "#ggg", "transparent", "red1"])
    func othersAreRefusedNamingTheForms(_ text: String) {
        #expect(throws: DarkroomError.option(OptionError(name: "background", value: text,
                                                         expected: "#rrggbb, #rgb or a CSS colour name (white, black, navy, …)"))) {
            try RGBColor(parsing: text)
        }
    }
}
