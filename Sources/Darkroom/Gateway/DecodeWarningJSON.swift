extension MetadataWarning {
    /// `{"kind": "metadata", "block": "icc", "reason": "mismatch", "message": …, "count": 1}`, as
    /// `--json` and the HTTP sidecar report it beside the decoder's warnings.
    public var json: JSONValue {
        .object(["kind": "metadata", "block": .string(block.rawValue), "reason": .string(reason.rawValue),
                 "message": .string(message), "count": .int(1)])
    }
}

extension DecodeWarning {
    /// `{"kind": "truncated" | "warning", "message": …, "count": N}`, as `--json` reports it.
    public var json: JSONValue {
        .object(["kind": .string(kind.rawValue), "message": .string(message), "count": .int(count)])
    }
}
