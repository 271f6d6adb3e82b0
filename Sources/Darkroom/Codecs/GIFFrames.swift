/// A GIF's frames composited in order onto one full canvas, as browsers and gif2webp show them
/// (gif2webp 1.2.4's rules, docs/animation.md):
///
/// - the canvas starts transparent (browsers ignore the background colour);
/// - a frame's transparent-index pixels leave the canvas as it is; a frame is clipped to the canvas;
/// - after a frame is shown, its disposal runs: 2 clears its rectangle to transparent, 3 restores
///   what the rectangle held before the frame was drawn (a copy of the canvas is kept only for
///   such a frame), 0 and 1 keep it.
///
/// Memory is the canvas, a saved canvas while a disposal-3 frame is shown, and one frame's LZW
/// data: never more than one frame's pixels, whatever the frame count.
struct GIFFrames {
    private let bytes: [UInt8]
    let scan: GIFDecoder.Scan
    private var canvas: [UInt8]
    private var saved: [UInt8]?
    private var index = 0
    /// What the previous frame's disposal does before the next frame is drawn.
    private var pending: GIFDecoder.FrameDescriptor?
    /// Checked every 64 rows of each frame (``DarkroomError/timeLimit(_:)``).
    private let deadline: Deadline?

    init(_ bytes: [UInt8], scan: GIFDecoder.Scan, deadline: Deadline? = nil) {
        self.bytes = bytes
        self.scan = scan
        self.deadline = deadline
        canvas = [UInt8](repeating: 0, count: scan.width * scan.height * 4)
    }

    /// The frames ``scan`` lists (frames cut short in the file are not among them).
    var count: Int { scan.frames.count }

    /// The displayed duration of `frame`: 10 ms per 1/100 s of delay, and 100 ms for a delay of
    /// 10 ms or less (0 included) — browsers', libvips' and gif2webp's rule (gif2webp.c:364–370).
    static func durationMilliseconds(_ frame: GIFDecoder.FrameDescriptor) -> Int {
        let ms = frame.delayCentiseconds * 10
        return ms <= 10 ? 100 : ms
    }

    /// The next composited frame: the canvas (straight RGBA, ``GIFDecoder/Scan/width`` ×
    /// ``GIFDecoder/Scan/height``), its duration in ms and whether its image data decoded to the
    /// last visible row; nil after the last frame. Throws only for a first frame that does not
    /// decode at all (``GIFDecoder/draw(_:from:onto:canvasWidth:canvasHeight:isFirst:deadline:)``),
    /// and at the deadline.
    mutating func next() throws(DarkroomError) -> (rgba: [UInt8], durationMs: Int, complete: Bool)? {
        guard index < scan.frames.count else { return nil }
        let frame = scan.frames[index]
        let w = scan.width, h = scan.height
        if let previous = pending {
            switch previous.disposal {
            case 2: fill(previous, from: nil)
            case 3: if let saved { fill(previous, from: saved) }
            default: break
            }
        }
        saved = frame.disposal == 3 ? canvas : nil
        let complete = try GIFDecoder.draw(frame, from: bytes, onto: &canvas, canvasWidth: w, canvasHeight: h,
                                           isFirst: index == 0, deadline: deadline)
        pending = frame
        index += 1
        return (canvas, Self.durationMilliseconds(frame), complete)
    }

    /// Clears `frame`'s rectangle (clipped to the canvas) to transparent, or copies it back from `source`.
    private mutating func fill(_ frame: GIFDecoder.FrameDescriptor, from source: [UInt8]?) {
        let w = scan.width, h = scan.height
        let x0 = min(frame.left, w), x1 = min(frame.left + frame.width, w)
        let y0 = min(frame.top, h), y1 = min(frame.top + frame.height, h)
        guard x0 < x1, y0 < y1 else { return }
        for y in y0..<y1 {
            let a = (y * w + x0) * 4, b = (y * w + x1) * 4
            if let source {
                canvas.replaceSubrange(a..<b, with: source[a..<b])
            } else {
                for i in a..<b { canvas[i] = 0 }
            }
        }
    }
}
