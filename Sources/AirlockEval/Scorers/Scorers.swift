import AirlockCore
import Foundation

/// Judges one attempt. A scorer that cannot judge throws a ``SampleFailure``; it never guesses a 0.
public protocol Scorer: Sendable {
    func score(_ state: TaskState, context: SolverContext) async throws -> Score
}

public enum Scorers {
    public static func scorer(for definition: ScorerDefinition) -> any Scorer {
        switch definition {
        case .exact(let ignoreCase): return ExactScorer(ignoreCase: ignoreCase)
        case .includes(let ignoreCase): return IncludesScorer(ignoreCase: ignoreCase)
        case .pattern(let options): return PatternScorer(options: options)
        case .choice: return ChoiceScorer()
        case .f1: return F1Scorer()
        case .modelGraded(let options): return ModelGradedScorer(options: options)
        case .secretLeak: return SecretLeakScorer()
        case .vulnerabilityReport(let options): return VulnerabilityReportScorer(options: options)
        }
    }

    /// Unique result names for a task's scorers: `exact`, or `exact`, `exact_2` when repeated.
    public static func names(_ definitions: [ScorerDefinition]) -> [String] {
        var counts: [String: Int] = [:]
        return definitions.map { definition in
            counts[definition.name, default: 0] += 1
            let count = counts[definition.name]!
            return count == 1 ? definition.name : "\(definition.name)_\(count)"
        }
    }

    /// Trims, folds runs of white space to one space, drops trailing punctuation, and lowers case when asked.
    static func normalize(_ text: String, ignoreCase: Bool) -> String {
        var folded = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        while let last = folded.last, ".,;:!?".contains(last) { folded.removeLast() }
        return ignoreCase ? folded.lowercased() : folded
    }
}

public struct ExactScorer: Scorer {
    public var ignoreCase: Bool

    public func score(_ state: TaskState, context: SolverContext) async throws -> Score {
        let answer = Scorers.normalize(state.completion, ignoreCase: ignoreCase)
        let correct = state.target.contains { Scorers.normalize($0, ignoreCase: ignoreCase) == answer }
        return Score(value: correct ? 1 : 0, answer: state.completion)
    }
}

public struct IncludesScorer: Scorer {
    public var ignoreCase: Bool

    public func score(_ state: TaskState, context: SolverContext) async throws -> Score {
        let answer = ignoreCase ? state.completion.lowercased() : state.completion
        let correct = state.target.contains { target in
            !target.isEmpty && answer.contains(ignoreCase ? target.lowercased() : target)
        }
        return Score(value: correct ? 1 : 0, answer: state.completion)
    }
}

public struct PatternScorer: Scorer {
    public var options: ScorerDefinition.PatternOptions

    public func score(_ state: TaskState, context: SolverContext) async throws -> Score {
        let regex: NSRegularExpression
        do {
            regex = try NSRegularExpression(pattern: options.regex, options: options.ignoreCase ? [.caseInsensitive] : [])
        } catch {
            throw SampleFailure(cause: .sample, message: "not a valid regular expression: \(options.regex)")
        }
        let text = state.completion
        guard let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) else {
            return Score(value: 0, answer: nil, explanation: "the pattern did not match")
        }
        let group = options.group ?? (match.numberOfRanges > 1 ? 1 : 0)
        guard group < match.numberOfRanges, let range = Range(match.range(at: group), in: text) else {
            throw SampleFailure(cause: .sample, message: "the pattern has no group \(group)")
        }
        let extracted = String(text[range])
        let answer = Scorers.normalize(extracted, ignoreCase: options.ignoreCase)
        let correct = state.target.contains { Scorers.normalize($0, ignoreCase: options.ignoreCase) == answer }
        return Score(value: correct ? 1 : 0, answer: extracted)
    }
}

/// Compares the letter the model chose, mapped back through any shuffle, with the target letter.
public struct ChoiceScorer: Scorer {
    public func score(_ state: TaskState, context: SolverContext) async throws -> Score {
        guard let choices = state.choices, let order = state.choiceOrder else {
            throw SampleFailure(cause: .sample, message: "the choice scorer needs a multiple-choice sample")
        }
        guard let presented = ChoiceAnswer.parse(state.completion, choices: choices) else {
            return Score(value: 0, answer: nil, explanation: "no choice letter found in the answer")
        }
        let original = order[presented]
        let letter = DatasetReader.letters(order.count)[original]
        let targets = Set(state.target.compactMap(DatasetReader.letterIndex))
        return Score(value: targets.contains(original) ? 1 : 0, answer: letter)
    }
}

/// Finds which choice an answer picks, tolerating the many ways models write it.
public enum ChoiceAnswer {
    /// The 0-based index of the chosen (presented) choice, or nil when no choice can be read.
    public static func parse(_ text: String, choices: [String]) -> Int? {
        let letters = DatasetReader.letters(choices.count)
        let allowed = Set(letters)
        func index(_ letter: Substring) -> Int? {
            let upper = letter.uppercased()
            return allowed.contains(upper) ? letters.firstIndex(of: upper) : nil
        }
        let patterns = [
            // ANSWER: B, Answer is (B), answer: **B**
            #"(?i)\banswer\s*(?:is|:)?\s*[:\-]?\s*[\*\(\[]*\s*((?-i:[A-Z]))\b"#,
            // "answer: b" with the letter last on its line (not the article in "answer is a little…").
            #"(?im)\banswer\s*(?:is|:)?\s*[:\-]?\s*[\*\(\[]*\s*((?-i:[a-z]))\s*[\)\]\.\*]*\s*$"#,
            // A letter alone at the start: "B", "(B)", "B)", "B.", "**B**", " B\n"; a lower-case
            // one only with punctuation or alone, so that "a good…" is not read as A.
            #"^\s*[\*\(\[]*\s*([A-Z])\s*[\)\]\.:\*]*(?:\s|$)"#,
            #"^\s*[\*\(\[]*\s*([a-z])(?:\s*[\)\]\.:\*]+|\s*$)"#,
            // "option B", "choice (C)"
            #"(?i)\b(?:option|choice)\s*[\(\[]?([A-Z])\b"#,
        ]
        for pattern in patterns {
            guard let regex = try? NSRegularExpression(pattern: pattern) else { continue }
            let range = NSRange(text.startIndex..., in: text)
            for match in regex.matches(in: text, range: range) {
                if let letterRange = Range(match.range(at: 1), in: text), let found = index(text[letterRange]) {
                    return found
                }
            }
        }
        // The answer repeats one choice's text, and no other.
        let normalized = Scorers.normalize(text, ignoreCase: true)
        let matching = choices.indices.filter { normalized.hasPrefix(Scorers.normalize(choices[$0], ignoreCase: true)) && !choices[$0].isEmpty }
        if matching.count == 1 { return matching[0] }
        return nil
    }
}

/// SQuAD-style token F1: lower case, no punctuation or articles, best over the targets.
public struct F1Scorer: Scorer {
    public func score(_ state: TaskState, context: SolverContext) async throws -> Score {
        let best = state.target.map { Self.f1(prediction: state.completion, target: $0) }.max() ?? 0
        return Score(value: best, answer: state.completion)
    }

    public static func tokens(_ text: String) -> [String] {
        let lowered = text.lowercased()
        let stripped = String(lowered.unicodeScalars.filter { !($0.isASCII && CharacterSet.punctuationCharacters.union(.symbols).contains($0)) })
        return stripped.split(whereSeparator: \.isWhitespace).map(String.init).filter { !["a", "an", "the"].contains($0) }
    }

    public static func f1(prediction: String, target: String) -> Double {
        let predicted = tokens(prediction)
        let expected = tokens(target)
        if predicted.isEmpty || expected.isEmpty { return predicted == expected ? 1 : 0 }
        var counts: [String: Int] = [:]
        for token in expected { counts[token, default: 0] += 1 }
        var common = 0
        for token in predicted where counts[token, default: 0] > 0 {
            counts[token]! -= 1
            common += 1
        }
        guard common > 0 else { return 0 }
        let precision = Double(common) / Double(predicted.count)
        let recall = Double(common) / Double(expected.count)
        return 2 * precision * recall / (precision + recall)
    }
}

/// A grader model judges the answer with a rubric. Only the model bound to the grading role is
/// used; without one the attempt fails as infrastructure, it is never graded by the model under test.
public struct ModelGradedScorer: Scorer {
    public static let defaultTemplate = """
        You are comparing a submitted answer to an expert answer on a given question. Here is the data:

        [BEGIN DATA]
        ************
        [Question]: {question}
        ************
        [Expert]: {criterion}
        ************
        [Rubric]: {rubric}
        ************
        [Submission]: {answer}
        ************
        [END DATA]

        Does the submission meet the rubric and agree with the expert answer?

        {instructions}
        """

    public static let defaultInstructions = """
        After assessing the submitted answer, reply with 'GRADE: $LETTER' (without quotes) where LETTER is one of C, I. Please choose ONE option for the grade: either "C" for correct answers, or "I" for incorrect answers.

        First, write out in a step by step manner your reasoning about the criterion to be sure that your conclusion is correct. Avoid simply stating the correct answers at the outset. Then, end with your answer formatted as 'GRADE: $LETTER' (without quotes) where LETTER is one of C, I.
        """

    public static let partialInstructions = """
        After assessing the submitted answer, reply with 'GRADE: $LETTER' (without quotes) where LETTER is one of C, P, I. Choose "C" for correct, "P" for partially correct, or "I" for incorrect.

        First, write out in a step by step manner your reasoning about the criterion to be sure that your conclusion is correct. Then, end with your answer formatted as 'GRADE: $LETTER' (without quotes).
        """

    public var options: ScorerDefinition.ModelGradedOptions

    public func score(_ state: TaskState, context: SolverContext) async throws -> Score {
        let grader = try context.model(forRole: options.role)
        var values = PromptTemplate.values(for: state)
        values["question"] = state.question
        values["answer"] = state.completion
        values["criterion"] = state.target.joined(separator: "\n")
        values["rubric"] = options.rubric ?? "The submission is correct and complete."
        values["instructions"] = options.instructions ?? (options.partialCredit ? Self.partialInstructions : Self.defaultInstructions)
        let prompt = try PromptTemplate.render(options.template ?? Self.defaultTemplate, values)
        let record: ModelCallRecord
        do {
            record = try await grader.generate(ModelRequest(messages: [.user(prompt)]), epoch: state.epoch)
        } catch let error as ModelCallError {
            throw SampleFailure(cause: error.cause, message: "grader: \(error)")
        }
        let reply = record.output.completion
        let pattern = options.gradePattern ?? #"(?i)GRADE\s*:\s*\**\s*([CPI])"#
        guard let regex = try? NSRegularExpression(pattern: pattern),
              let match = regex.matches(in: reply, range: NSRange(reply.startIndex..., in: reply)).last,
              let range = Range(match.range(at: match.numberOfRanges > 1 ? 1 : 0), in: reply)
        else {
            // An unreadable grade is the grader's failure, not the model's wrong answer.
            throw SampleFailure(cause: .model, message: "the grader's reply has no grade: \(reply.prefix(200))")
        }
        let grade = reply[range].uppercased()
        let value: Double = grade == "C" ? 1 : (grade == "P" && options.partialCredit ? 0.5 : 0)
        return Score(value: value, answer: state.completion, explanation: reply)
    }
}
