import AirlockCore

/// Fills `{name}` placeholders; `{{` and `}}` stand for literal braces.
public enum PromptTemplate {
    public static func render(_ template: String, _ values: [String: String]) throws -> String {
        var result = ""
        result.reserveCapacity(template.utf8.count)
        var index = template.startIndex
        while index < template.endIndex {
            let character = template[index]
            let next = template.index(after: index)
            if character == "{" {
                if next < template.endIndex, template[next] == "{" {
                    result.append("{")
                    index = template.index(after: next)
                    continue
                }
                guard let close = template[next...].firstIndex(of: "}") else {
                    throw SampleFailure(cause: .sample, message: "the template has a '{' without a '}' (write '{{' for a brace)")
                }
                let name = String(template[next..<close])
                guard let value = values[name] else {
                    let known = values.keys.sorted().map { "{\($0)}" }.joined(separator: ", ")
                    throw SampleFailure(cause: .sample, message: "the template uses {\(name)}, which this sample does not have (known: \(known))")
                }
                result += value
                index = template.index(after: close)
            } else if character == "}" {
                result.append("}")
                index = (next < template.endIndex && template[next] == "}") ? template.index(after: next) : next
            } else {
                result.append(character)
                index = next
            }
        }
        return result
    }

    /// The values every template may use: `{prompt}` and each metadata field.
    static func values(for state: TaskState) -> [String: String] {
        var values: [String: String] = [:]
        for (key, value) in state.sample.metadata { values[key] = value.text }
        values["prompt"] = state.messages.last(where: { $0.role == .user })?.content ?? state.question
        return values
    }
}
