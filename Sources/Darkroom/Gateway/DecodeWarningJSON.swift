extension DecodeWarning {
    /// `{"kind": "truncated" | "warning", "message": …, "count": N}`, as `--json` reports it.
    public var json: JSONValue {
        .object(["kind": .string(kind.rawValue), "message": .string(message), "count": .int(count)])
    }
}
