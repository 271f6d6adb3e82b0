extension ImageInspection {
    /// What the gateway bills for one image of this size, in megapixels of 1,048,576 px:
    /// `ceil(width·height / 1,048,576)` (``MegapixelBilling/billedMegapixels(width:height:)``), at
    /// least 1. As a reference image it is the same for up to 4 MP; a larger reference is resized
    /// first and billed 4 MP (``MegapixelBilling/referenceCost(width:height:source:)``).
    public var billedMegapixels: Int {
        max(1, MegapixelBilling.billed(PixelSize(width: storedWidth, height: storedHeight)))
    }
}
