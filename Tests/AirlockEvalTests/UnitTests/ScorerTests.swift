import AirlockCore
@testable import AirlockEval
import Foundation
import Logging
import Testing

/// A provider that must never be called: these scorers judge text without a model.
private struct UnreachableProvider: ModelProvider {
    struct Called: Error {}
    var modelName: String { "test/unreachable" }
    var baseURL: String { "http://127.0.0.1:9" }
    func generate(_ request: ModelRequest, timeout: Duration) async throws -> ModelOutput {
        Issue.record("a scorer called the model")
        throw Called()
    }
}

/// A context whose model fails the test if used.
private func offlineContext(roles: [String: ModelEndpoint] = [:]) -> SolverContext {
    let endpoint = ModelEndpoint(provider: UnreachableProvider(), maxConnections: 1, logger: Logger(label: "airlock.unit-tests"))
    return SolverContext(model: endpoint, roles: roles, settings: GenerationSettings(), limits: SampleLimits(), seed: 0)
}

/// A state whose model answered `answer`.
private func answered(_ answer: String, target: [String], choices: [String]? = nil, input: String = "Question?") -> TaskState {
    var state = TaskState(sample: Sample(id: "s", input: .text(input), target: target, choices: choices), epoch: 1)
    state.output = ModelOutput(message: .assistant(answer))
    return state
}

@Suite struct ExactScorerTests {
    let context = offlineContext()

    @Test func matchesAfterNormalising() async throws {
        let scorer = ExactScorer(ignoreCase: true)
        #expect(try await scorer.score(answered("Paris", target: ["Paris"]), context: context).value == 1)
        #expect(try await scorer.score(answered("  paris.  ", target: ["Paris"]), context: context).value == 1)
        #expect(try await scorer.score(answered("New   York\nCity!", target: ["new york city"]), context: context).value == 1)
        #expect(try await scorer.score(answered("42", target: ["41", "42"]), context: context).value == 1)
    }

    @Test func rejectsOtherAnswers() async throws {
        let scorer = ExactScorer(ignoreCase: true)
        #expect(try await scorer.score(answered("Paris, France", target: ["Paris"]), context: context).value == 0)
        #expect(try await scorer.score(answered("The answer is Paris", target: ["Paris"]), context: context).value == 0)
        #expect(try await scorer.score(answered("", target: ["Paris"]), context: context).value == 0)
        #expect(try await scorer.score(answered("Paris", target: []), context: context).value == 0)
    }

    @Test func caseSensitiveWhenAsked() async throws {
        let scorer = ExactScorer(ignoreCase: false)
        #expect(try await scorer.score(answered("paris", target: ["Paris"]), context: context).value == 0)
        #expect(try await scorer.score(answered("Paris.", target: ["Paris"]), context: context).value == 1)
    }

    @Test func answerIsTheRawCompletion() async throws {
        let score = try await ExactScorer(ignoreCase: true).score(answered("  Paris. ", target: ["Paris"]), context: context)
        #expect(score.answer == "  Paris. ")
    }

    @Test func stateWithoutOutputScoresEmpty() async throws {
        let state = TaskState(sample: Sample(id: "s", input: .text("q"), target: [""]), epoch: 1)
        #expect(state.completion == "")
        #expect(try await ExactScorer(ignoreCase: true).score(state, context: context).value == 1)
    }

    @Test func normalize() {
        #expect(Scorers.normalize("  Hello,\t World!?. ", ignoreCase: true) == "hello, world")
        #expect(Scorers.normalize("Keep CASE.", ignoreCase: false) == "Keep CASE")
        #expect(Scorers.normalize("...", ignoreCase: true) == "")
        #expect(Scorers.normalize("3.14", ignoreCase: true) == "3.14")
    }
}

@Suite struct IncludesScorerTests {
    let context = offlineContext()

    @Test func findsTheTargetInside() async throws {
        let scorer = IncludesScorer(ignoreCase: true)
        #expect(try await scorer.score(answered("The capital is PARIS, of course.", target: ["paris"]), context: context).value == 1)
        #expect(try await scorer.score(answered("It is Lyon.", target: ["Paris", "Lyon"]), context: context).value == 1)
        #expect(try await scorer.score(answered("It is Marseille.", target: ["Paris", "Lyon"]), context: context).value == 0)
    }

    @Test func emptyTargetNeverMatches() async throws {
        #expect(try await IncludesScorer(ignoreCase: true).score(answered("anything", target: [""]), context: context).value == 0)
    }

    @Test func caseSensitiveWhenAsked() async throws {
        let scorer = IncludesScorer(ignoreCase: false)
        #expect(try await scorer.score(answered("the capital is paris", target: ["Paris"]), context: context).value == 0)
        #expect(try await scorer.score(answered("the capital is Paris", target: ["Paris"]), context: context).value == 1)
    }
}

@Suite struct PatternScorerTests {
    let context = offlineContext()

    @Test func extractsTheFirstGroup() async throws {
        let scorer = PatternScorer(options: .init(regex: #"ANSWER:\s*(\S+)"#))
        let score = try await scorer.score(answered("Working... 6*7 = 42\nANSWER: 42.", target: ["42"]), context: context)
        #expect(score.value == 1)
        #expect(score.answer == "42.")
        let wrong = try await scorer.score(answered("ANSWER: 41", target: ["42"]), context: context)
        #expect(wrong.value == 0)
        #expect(wrong.answer == "41")
    }

    @Test func ignoresCaseByDefault() async throws {
        let scorer = PatternScorer(options: .init(regex: #"answer:\s*(\w+)"#))
        #expect(try await scorer.score(answered("ANSWER: PARIS", target: ["paris"]), context: context).value == 1)
        let strict = PatternScorer(options: .init(regex: #"answer:\s*(\w+)"#, ignoreCase: false))
        let score = try await strict.score(answered("ANSWER: Paris", target: ["Paris"]), context: context)
        #expect(score.value == 0)
        #expect(score.answer == nil)
    }

    @Test func noMatchScoresZeroWithExplanation() async throws {
        let score = try await PatternScorer(options: .init(regex: #"ANSWER: (\d+)"#)).score(answered("I refuse", target: ["1"]), context: context)
        #expect(score.value == 0)
        #expect(score.answer == nil)
        #expect(score.explanation != nil)
    }

    @Test func explicitGroup() async throws {
        let scorer = PatternScorer(options: .init(regex: #"(\w+) is (\w+)"#, group: 2))
        let score = try await scorer.score(answered("x is 5", target: ["5"]), context: context)
        #expect(score.value == 1)
        #expect(score.answer == "5")
        let whole = PatternScorer(options: .init(regex: #"(\w+) is (\w+)"#, group: 0))
        #expect(try await whole.score(answered("x is 5", target: ["x is 5"]), context: context).value == 1)
    }

    @Test func noGroupUsesTheWholeMatch() async throws {
        let score = try await PatternScorer(options: .init(regex: #"\d+"#)).score(answered("about 300 metres", target: ["300"]), context: context)
        #expect(score.value == 1)
        #expect(score.answer == "300")
    }

    @Test func missingGroupIsASampleFailure() async throws {
        let scorer = PatternScorer(options: .init(regex: #"(\d+)"#, group: 3))
        let failure = await #expect(throws: SampleFailure.self) {
            try await scorer.score(answered("12", target: ["12"]), context: context)
        }
        #expect(failure?.cause == .sample)
    }

    @Test func invalidRegexIsASampleFailure() async throws {
        let failure = await #expect(throws: SampleFailure.self) {
            try await PatternScorer(options: .init(regex: "([unclosed")).score(answered("x", target: ["x"]), context: context)
        }
        #expect(failure?.cause == .sample)
    }
}

@Suite struct ChoiceScorerTests {
    let context = offlineContext()
    static let choices = ["Paris", "London", "Berlin", "Madrid"]

    @Test func unshuffled() async throws {
        let state = answered("ANSWER: C", target: ["C"], choices: Self.choices)
        #expect(state.choiceOrder == [0, 1, 2, 3])
        let score = try await ChoiceScorer().score(state, context: context)
        #expect(score.value == 1)
        #expect(score.answer == "C")
        let wrong = try await ChoiceScorer().score(answered("B", target: ["C"], choices: Self.choices), context: context)
        #expect(wrong.value == 0)
        #expect(wrong.answer == "B")
    }

    @Test func shuffledLettersMapBackToTheOriginal() async throws {
        // Presented: A = Berlin (2), B = Madrid (3), C = Paris (0), D = London (1).
        var state = answered("ANSWER: A", target: ["C"], choices: Self.choices)
        state.choices = ["Berlin", "Madrid", "Paris", "London"]
        state.choiceOrder = [2, 3, 0, 1]
        let score = try await ChoiceScorer().score(state, context: context)
        #expect(score.value == 1)
        #expect(score.answer == "C")

        // Presented C is Paris, the original A: wrong for target C.
        state.output = ModelOutput(message: .assistant("ANSWER: C"))
        let wrong = try await ChoiceScorer().score(state, context: context)
        #expect(wrong.value == 0)
        #expect(wrong.answer == "A")

        // Answering with the text of a presented choice maps back too.
        state.output = ModelOutput(message: .assistant("Berlin"))
        #expect(try await ChoiceScorer().score(state, context: context).value == 1)
    }

    @Test func severalTargetLettersAndLowerCase() async throws {
        #expect(try await ChoiceScorer().score(answered("D", target: ["a", "d"], choices: Self.choices), context: context).value == 1)
        #expect(try await ChoiceScorer().score(answered("B", target: ["a", "d"], choices: Self.choices), context: context).value == 0)
    }

    @Test func noLetterScoresZero() async throws {
        let score = try await ChoiceScorer().score(answered("I cannot decide", target: ["A"], choices: Self.choices), context: context)
        #expect(score.value == 0)
        #expect(score.answer == nil)
    }

    @Test func notAMultipleChoiceSample() async throws {
        let failure = await #expect(throws: SampleFailure.self) {
            try await ChoiceScorer().score(answered("A", target: ["A"]), context: context)
        }
        #expect(failure?.cause == .sample)
    }
}

@Suite struct F1ScorerTests {
    let context = offlineContext()

    @Test func bestOverTargets() async throws {
        // vs "paris": p 1/2, r 1 -> 2/3; vs "paris france": 1.
        let score = try await F1Scorer().score(answered("Paris, France", target: ["Paris", "Paris France"]), context: context)
        #expect(score.value == 1)
        let partial = try await F1Scorer().score(answered("Paris, France", target: ["Paris", "Lyon"]), context: context)
        #expect(abs(partial.value - 2.0 / 3) < 1e-12)
        #expect(try await F1Scorer().score(answered("x", target: []), context: context).value == 0)
    }

    @Test func f1ByHand() {
        // prediction: [big, red, dog, barked]; target: [red, dog]: p = 2/4, r = 2/2, f1 = 2/3.
        #expect(abs(F1Scorer.f1(prediction: "The big red dog barked.", target: "a red dog") - 2.0 / 3) < 1e-12)
        // Repeated tokens count once per occurrence in the target: [a a a] articles vanish; [cat cat] vs [cat]: p 1/2, r 1.
        #expect(abs(F1Scorer.f1(prediction: "cat cat", target: "cat") - 2.0 / 3) < 1e-12)
        #expect(F1Scorer.f1(prediction: "dog", target: "cat") == 0)
        // Both empty after normalising: equal, so 1; one empty: 0.
        #expect(F1Scorer.f1(prediction: "The", target: "a") == 1)
        #expect(F1Scorer.f1(prediction: "", target: "cat") == 0)
        #expect(F1Scorer.f1(prediction: "cat", target: "!!!") == 0)
    }

    @Test func tokens() {
        #expect(F1Scorer.tokens("The U.S.A. isn't   an island!") == ["usa", "isnt", "island"])
        #expect(F1Scorer.tokens("  ") == [])
        #expect(F1Scorer.tokens("Ünïcode résumé") == ["ünïcode", "résumé"])
        #expect(F1Scorer.tokens("$100 + 5% = ?") == ["100", "5"])
    }
}

@Suite struct ScorerCatalogueTests {
    @Test func scorerForEachDefinition() {
        #expect(Scorers.scorer(for: .exact(ignoreCase: false)) is ExactScorer)
        #expect((Scorers.scorer(for: .exact(ignoreCase: false)) as? ExactScorer)?.ignoreCase == false)
        #expect(Scorers.scorer(for: .includes(ignoreCase: true)) is IncludesScorer)
        #expect((Scorers.scorer(for: .pattern(.init(regex: "x", group: 2))) as? PatternScorer)?.options.group == 2)
        #expect(Scorers.scorer(for: .choice) is ChoiceScorer)
        #expect(Scorers.scorer(for: .f1) is F1Scorer)
        #expect(Scorers.scorer(for: .modelGraded(.init())) is ModelGradedScorer)
    }

    @Test func uniqueNames() {
        #expect(Scorers.names([.exact(ignoreCase: true), .f1, .exact(ignoreCase: false), .choice, .exact(ignoreCase: true)]) == ["exact", "f1", "exact_2", "choice", "exact_3"])
        #expect(Scorers.names([]) == [])
    }

    @Test func modelGradedWithoutGraderIsInfrastructureFailure() async throws {
        let scorer = ModelGradedScorer(options: .init())
        let failure = await #expect(throws: SampleFailure.self) {
            try await scorer.score(answered("Paris", target: ["Paris"]), context: offlineContext())
        }
        #expect(failure?.cause == .infrastructure)
        #expect(failure?.message.contains("grader") == true)
    }
}
