/// The `response_format` request field: how generated images are delivered.
public enum ResponseFormat: String, Sendable, Hashable, CaseIterable {
    /// A link to the stored image (OpenAI: valid for 60 minutes).
    case url
    /// The image bytes, base64-encoded, inline in the response JSON.
    case b64JSON = "b64_json"
}
