/// Where row `y` of an image lives in a buffer of `ringRows` rows (0: a whole image, row `y`
/// itself): the one addressing rule of a ring of rows, shared by the resampler that writes the
/// output ring, the pipeline and the JPEG row encoder that empties it.
@inline(__always) func ringSlot(_ y: Int, ringRows: Int) -> Int { ringRows == 0 ? y : y % ringRows }
