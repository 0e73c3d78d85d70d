import AirlockCore
@testable import AirlockEval
import Foundation
import Testing

@Suite struct PromptTemplateTests {
    @Test func fillsPlaceholders() throws {
        let text = try PromptTemplate.render("Q: {prompt}\nSubject: {subject}. Again: {prompt}", ["prompt": "2+2?", "subject": "maths"])
        #expect(text == "Q: 2+2?\nSubject: maths. Again: 2+2?")
    }

    @Test func doubledBracesAreLiteral() throws {
        #expect(try PromptTemplate.render("{{not a placeholder}} {x}", ["x": "1"]) == "{not a placeholder} 1")
        #expect(try PromptTemplate.render(#"JSON: {{"answer": "{x}"}}"#, ["x": "B"]) == #"JSON: {"answer": "B"}"#)
        #expect(try PromptTemplate.render("}}", [:]) == "}")
        // A lone closing brace is kept as it is.
        #expect(try PromptTemplate.render("a } b", [:]) == "a } b")
    }

    @Test func valuesAreNotExpandedAgain() throws {
        #expect(try PromptTemplate.render("{a}", ["a": "{b}", "b": "no"]) == "{b}")
        #expect(try PromptTemplate.render("{a}{b}", ["a": "{{", "b": "}}"]) == "{{}}")
    }

    @Test func textWithoutPlaceholdersIsUnchanged() throws {
        let text = "Plain text, ünïcödé, emoji 🙂, tabs\tand\nnewlines."
        #expect(try PromptTemplate.render(text, [:]) == text)
        #expect(try PromptTemplate.render("", ["x": "y"]) == "")
    }

    @Test func unknownPlaceholderIsASampleFailure() throws {
        let failure = try #require(throws: SampleFailure.self) {
            try PromptTemplate.render("Topic: {topic}", ["prompt": "p", "level": "2"])
        }
        #expect(failure.cause == .sample)
        #expect(failure.message.contains("{topic}"))
        #expect(failure.message.contains("{level}, {prompt}"))
    }

    @Test func emptyAndUnclosedPlaceholdersAreSampleFailures() throws {
        let empty = try #require(throws: SampleFailure.self) { try PromptTemplate.render("a {} b", ["x": "1"]) }
        #expect(empty.cause == .sample)
        let unclosed = try #require(throws: SampleFailure.self) { try PromptTemplate.render("Answer {prompt", ["prompt": "p"]) }
        #expect(unclosed.cause == .sample)
        #expect(unclosed.message.contains("'{'"))
        let trailing = try #require(throws: SampleFailure.self) { try PromptTemplate.render("ends with {", [:]) }
        #expect(trailing.cause == .sample)
    }

    @Test func valuesForAState() {
        let sample = Sample(
            id: "1",
            input: .messages([.system("sys"), .user("first question"), .assistant("a"), .user("follow-up")]),
            target: ["x"],
            metadata: ["level": .number(3), "topic": .string("history"), "tags": .array([.string("a"), .string("b")])]
        )
        let state = TaskState(sample: sample, epoch: 1)
        let values = PromptTemplate.values(for: state)
        #expect(values == ["level": "3", "topic": "history", "tags": "a, b", "prompt": "follow-up"])
    }

    @Test func promptComesFromTheLatestUserMessage() {
        var state = TaskState(sample: Sample(id: "1", input: .text("original"), target: []), epoch: 1)
        state.messages = [.user("rewritten")]
        #expect(PromptTemplate.values(for: state)["prompt"] == "rewritten")
        state.messages = [.system("no user")]
        #expect(PromptTemplate.values(for: state)["prompt"] == "original")
        // A metadata field named prompt is replaced by the prompt.
        let shadow = TaskState(sample: Sample(id: "2", input: .text("real"), target: [], metadata: ["prompt": .string("meta")]), epoch: 1)
        #expect(PromptTemplate.values(for: shadow)["prompt"] == "real")
    }
}

@Suite struct ChoiceAnswerTests {
    static let four = ["Paris", "London", "Berlin", "Madrid"]

    struct Case: Sendable, CustomTestStringConvertible {
        var text: String
        var expected: Int?
        var testDescription: String { text.debugDescription }
    }

    static let cases: [Case] = [
        .init(text: "ANSWER: B", expected: 1),
        .init(text: "Answer: b", expected: 1),
        .init(text: "answer:C", expected: 2),
        .init(text: "The answer is (C)", expected: 2),
        .init(text: "The answer is: D.", expected: 3),
        .init(text: "I think the answer is B because Paris is in France.", expected: 1),
        .init(text: "Let me reason step by step.\nLondon is in England.\n\nANSWER: A", expected: 0),
        .init(text: "answer: **D**", expected: 3),
        .init(text: "Answer - [A]", expected: 0),
        .init(text: "**D**", expected: 3),
        .init(text: "D", expected: 3),
        .init(text: "(B)", expected: 1),
        .init(text: "[C]", expected: 2),
        .init(text: "  A\n", expected: 0),
        .init(text: "B) because it is the capital", expected: 1),
        .init(text: "C. Berlin", expected: 2),
        .init(text: "A: Paris", expected: 0),
        .init(text: "Option A", expected: 0),
        .init(text: "I pick option (d)", expected: 3),
        .init(text: "choice B looks right", expected: 1),
        .init(text: "Berlin", expected: 2),
        .init(text: "Madrid.", expected: 3),
        .init(text: "london is the capital of the UK", expected: 1),
        .init(text: "I don't know", expected: nil),
        .init(text: "", expected: nil),
        .init(text: "None of these are right", expected: nil),
        .init(text: "ANSWER: E", expected: nil),
        .init(text: "Z", expected: nil),
        .init(text: "Option F", expected: nil),
    ]

    @Test(arguments: cases)
    func parses(_ test: Case) {
        #expect(ChoiceAnswer.parse(test.text, choices: Self.four) == test.expected)
    }

    /// Real answers in lower case: "b." is the letter B.
    @Test func lowercaseLetterAlone() {
        #expect(ChoiceAnswer.parse("b.", choices: Self.four) == 1)
        // Upper case is fine.
        #expect(ChoiceAnswer.parse("B.", choices: Self.four) == 1)
    }

    /// "The answer is a …" uses the article, not the letter A; the later explicit ANSWER line wins.
    @Test func articleAfterAnswerIsNotALetter() {
        #expect(ChoiceAnswer.parse("The answer is a little subtle.\nANSWER: C", choices: Self.four) == 2)
    }

    @Test func lettersBeyondTheChoicesAreIgnored() {
        #expect(ChoiceAnswer.parse("C", choices: ["yes", "no"]) == nil)
        #expect(ChoiceAnswer.parse("B", choices: ["yes", "no"]) == 1)
        // Later matches of the same pattern are tried: the first letter is out of range, the second is not.
        #expect(ChoiceAnswer.parse("Answer: E is not an option. Answer: B", choices: Self.four) == 1)
    }

    @Test func ambiguousChoiceTextIsNotGuessed() {
        // Both "Paris" and "Paris, Texas" are prefixes of the answer.
        #expect(ChoiceAnswer.parse("Paris, Texas", choices: ["Paris", "Paris, Texas"]) == nil)
        #expect(ChoiceAnswer.parse("Lyon", choices: ["Paris", "Lyon"]) == 1)
    }

    @Test func manyChoices() {
        let letters = (0..<26).map { "choice \($0)" }
        #expect(ChoiceAnswer.parse("ANSWER: Z", choices: letters) == 25)
        #expect(ChoiceAnswer.parse("J", choices: letters) == 9)
    }
}
