import AirlockCore
@testable import AirlockEval
import Foundation
import Testing

/// A fresh temporary folder for task files.
struct UnitTestFolder {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "airlock-unit-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Writes `text` to `name` in the folder and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let file = path + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        return file
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Loads `yaml` as a task file and returns the error it throws (recording an issue when it does not).
private func taskError(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> EvalError {
    let folder = try UnitTestFolder()
    defer { folder.remove() }
    let path = try folder.write("task.yaml", yaml)
    let error = try #require(throws: EvalError.self, sourceLocation: sourceLocation) {
        try TaskFile.load(path: path)
    }
    #expect(error.code == .invalidTask, sourceLocation: sourceLocation)
    #expect(error.file == path, sourceLocation: sourceLocation)
    return error
}

@Suite struct TaskFileLoadTests {
    @Test func validTaskLoadsAndResolvesTheDatasetPath() throws {
        let folder = try UnitTestFolder()
        defer { folder.remove() }
        let path = try folder.write("task.yaml", """
            name: capitals
            description: Capital cities
            dataset:
              path: data/capitals.jsonl
              shuffle: true
              seed: 3
            solvers:
              - system_message: "Answer in one word."
              - generate
            scorers:
              - exact
              - includes: {ignore_case: false}
            epochs: 2
            generation:
              temperature: 0
            """)
        let task = try TaskFile.load(path: path)
        #expect(task.path == path)
        #expect(task.datasetPath == folder.path + "/data/capitals.jsonl")
        #expect(task.definition.name == "capitals")
        #expect(task.definition.solvers == [.systemMessage(template: "Answer in one word."), .generate])
        #expect(task.definition.scorers == [.exact(ignoreCase: true), .includes(ignoreCase: false)])
        #expect(task.definition.epochs == EpochsDefinition(count: 2, reducer: .mean))
        #expect(task.definition.dataset.seed == 3)
        #expect(task.definition.generation.temperature == 0)
        #expect(task.requiredRoles.isEmpty)
    }

    @Test func absoluteDatasetPathIsKept() throws {
        let folder = try UnitTestFolder()
        defer { folder.remove() }
        let path = try folder.write("task.yaml", "name: t\ndataset:\n  path: /srv/data/x.csv\nscorers: [exact]\n")
        #expect(try TaskFile.load(path: path).datasetPath == "/srv/data/x.csv")
    }

    @Test func requiredRolesAreCollectedOnceAndSorted() throws {
        let folder = try UnitTestFolder()
        defer { folder.remove() }
        let path = try folder.write("task.yaml", """
            name: graded
            dataset: {path: d.jsonl}
            solvers:
              - generate
              - self_critique: {role: critic}
            scorers:
              - model_graded
              - model_graded: {role: critic}
              - model_graded: {role: judge}
            model_roles:
              grader: openai/gpt-4o-mini
            """)
        #expect(try TaskFile.load(path: path).requiredRoles == ["critic", "grader", "judge"])
    }

    @Test func missingFile() throws {
        let error = try #require(throws: EvalError.self) {
            try TaskFile.load(path: "/nonexistent/airlock/task.yaml")
        }
        #expect(error.code == .invalidTask)
        #expect(error.file == "/nonexistent/airlock/task.yaml")
        #expect(error.line == nil)
    }

    @Test func unknownSolverPointsAtItsLine() throws {
        let error = try taskError("""
            name: t
            dataset: {path: data.jsonl}
            solvers:
              - generate
              - think_harder
            scorers: [exact]
            """)
        #expect(error.line == 5)
        #expect(error.field == "solvers[1]")
        #expect(error.message.contains("unknown solver 'think_harder'"))
        #expect(error.description.hasSuffix(":5: solvers[1]: \(error.message)"))
    }

    @Test func unknownSolverWithOptionsPointsAtItsKey() throws {
        let error = try taskError("""
            name: t
            dataset: {path: data.jsonl}
            solvers:
              - generate
              - generate
              - think_harder:
                  depth: 3
            scorers: [exact]
            """)
        #expect(error.field == "solvers[2].think_harder")
        #expect(error.message.contains("unknown solver 'think_harder'"))
        #expect(error.line == 6)
        // Written inline, key and value share the line.
        let inline = try taskError("""
            name: t
            dataset: {path: data.jsonl}
            solvers:
              - think_harder: {depth: 3}
            scorers: [exact]
            """)
        #expect(inline.line == 4)
        #expect(inline.field == "solvers[0].think_harder")
    }

    @Test func unknownScorer() throws {
        let error = try taskError("""
            name: t
            dataset:
              path: data.jsonl
            scorers:
              - exact
              - f1
              - bleu
            """)
        #expect(error.line == 7)
        #expect(error.field == "scorers[2]")
        #expect(error.message.contains("unknown scorer 'bleu'"))
    }

    @Test func missingScorers() throws {
        let error = try taskError("""
            name: t
            dataset:
              path: data.jsonl
            solvers: [generate]
            """)
        #expect(error.field == "scorers")
        #expect(error.message == "missing required field 'scorers'")
        // The field is absent, so the error points at the top of the document.
        #expect(error.line == 1)
    }

    @Test func emptyScorers() throws {
        let error = try taskError("""
            name: t
            dataset:
              path: data.jsonl
            scorers: []
            """)
        #expect(error.field == "scorers")
        #expect(error.line == 4)
        #expect(error.message.contains("at least one scorer"))
    }

    @Test func missingDatasetPath() throws {
        let error = try taskError("""
            name: t
            dataset:
              format: csv
            scorers: [exact]
            """)
        #expect(error.field == "dataset.path")
        #expect(error.message == "missing required field 'path'")
        // `dataset` exists; `path` does not: the deepest node that exists is the dataset map.
        #expect(error.line == 3)
    }

    @Test func reducerNeedsMoreEpochsInFlowStyle() throws {
        let error = try taskError("""
            name: t
            dataset: {path: data.jsonl}
            scorers: [exact]
            epochs: {count: 1, reducer: pass_at_2}
            """)
        #expect(error.field == "epochs.reducer")
        #expect(error.line == 4)
        #expect(error.message.contains("pass_at_2 needs at least 2 epochs"))
        #expect(error.message.contains("the task has 1"))
    }

    @Test func reducerNeedsMoreEpochsInBlockStyle() throws {
        let error = try taskError("""
            name: t
            dataset: {path: data.jsonl}
            scorers: [exact]
            epochs:
              count: 2
              reducer: at_least_3
            """)
        #expect(error.field == "epochs.reducer")
        #expect(error.line == 6)
        #expect(error.message.contains("at_least_3 needs at least 3 epochs, the task has 2"))
    }

    @Test func enoughEpochsForTheReducerLoad() throws {
        let folder = try UnitTestFolder()
        defer { folder.remove() }
        let path = try folder.write("task.yaml", "name: t\ndataset: {path: d.jsonl}\nscorers: [exact]\nepochs: {count: 2, reducer: pass_at_2}\n")
        #expect(try TaskFile.load(path: path).definition.epochs == EpochsDefinition(count: 2, reducer: .passAt(2)))
    }

    @Test func zeroEpochs() throws {
        let error = try taskError("""
            name: t
            dataset: {path: data.jsonl}
            scorers: [exact]
            epochs: 0
            """)
        #expect(error.field == "epochs.count")
        #expect(error.line == 4)
    }

    @Test func unknownReducer() throws {
        let error = try taskError("""
            name: t
            dataset: {path: data.jsonl}
            scorers: [exact]
            epochs:
              count: 3
              reducer: median
            """)
        #expect(error.field == "epochs.reducer")
        #expect(error.line == 6)
        #expect(error.message.contains("unknown reducer 'median'"))
    }

    @Test func badRegexInInlinePatternScorer() throws {
        let error = try taskError("""
            name: t
            dataset: {path: data.jsonl}
            scorers:
              - exact
              - pattern: "ANSWER: ([A-D"
            """)
        #expect(error.field == "scorers[1].pattern.regex")
        #expect(error.line == 5)
        #expect(error.message.contains("not a valid regular expression"))
    }

    @Test func badRegexInPatternScorerOptions() throws {
        let error = try taskError("""
            name: t
            dataset: {path: data.jsonl}
            scorers:
              - pattern:
                  regex: "(unclosed"
            """)
        #expect(error.field == "scorers[0].pattern.regex")
        #expect(error.line == 5)
    }

    @Test func badGradePattern() throws {
        let error = try taskError("""
            name: t
            dataset: {path: data.jsonl}
            scorers:
              - model_graded:
                  rubric: names the city
                  grade_pattern: "GRADE: [CPI"
            model_roles:
              grader: openai/gpt-4o
            """)
        #expect(error.field == "scorers[0].model_graded.grade_pattern")
        #expect(error.line == 6)
    }

    @Test func wrongTypeForAnOption() throws {
        let error = try taskError("""
            name: t
            dataset:
              path: data.jsonl
            solvers:
              - multiple_choice:
                  shuffle: maybe
            scorers: [choice]
            """)
        #expect(error.field == "solvers[0].multiple_choice.shuffle")
        #expect(error.line == 6)
    }

    @Test func wrongTypeForALimit() throws {
        let error = try taskError("""
            name: t
            dataset:
              path: data.jsonl
              limit: many
            scorers: [exact]
            """)
        #expect(error.field == "dataset.limit")
        #expect(error.line == 4)
        #expect(error.message == "expected a whole number")
    }

    @Test func zeroLimit() throws {
        let error = try taskError("""
            name: t
            dataset:
              path: data.jsonl
              limit: 0
            scorers: [exact]
            """)
        #expect(error.field == "dataset.limit")
        #expect(error.line == 4)
    }

    @Test func blankName() throws {
        let error = try taskError("""
            name: "  "
            dataset: {path: data.jsonl}
            scorers: [exact]
            """)
        #expect(error.field == "name")
        #expect(error.line == 1)
    }

    @Test func modelRoleWithoutProvider() throws {
        let error = try taskError("""
            name: t
            dataset: {path: data.jsonl}
            scorers: [model_graded]
            model_roles:
              grader: gpt-4o
            """)
        #expect(error.field == "model_roles.grader")
        #expect(error.line == 5)
        #expect(error.message.contains("provider/name"))
    }

    @Test func localModelRoleIsAccepted() throws {
        let folder = try UnitTestFolder()
        defer { folder.remove() }
        let path = try folder.write("task.yaml", "name: t\ndataset: {path: d.jsonl}\nscorers: [model_graded]\nmodel_roles:\n  grader: local\n")
        #expect(try TaskFile.load(path: path).definition.modelRoles == ["grader": "local"])
    }

    @Test func solverWithTextInBothForms() throws {
        let folder = try UnitTestFolder()
        defer { folder.remove() }
        let path = try folder.write("task.yaml", """
            name: t
            dataset: {path: data.jsonl}
            solvers:
              - system_message: Be brief.
              - prompt_template:
                  template: "Q: {prompt}"
              - chain_of_thought
              - generate
            scorers: [exact]
            """)
        #expect(try TaskFile.load(path: path).definition.solvers == [
            .systemMessage(template: "Be brief."), .promptTemplate(template: "Q: {prompt}"), .chainOfThought(template: nil), .generate,
        ])
    }

    @Test func solverWithTextMissing() throws {
        let error = try taskError("""
            name: t
            dataset: {path: data.jsonl}
            solvers:
              - prompt_template: {}
            scorers: [exact]
            """)
        #expect(error.field == "solvers[0].prompt_template.template")
        #expect(error.line == 4)
    }

    /// `- system_message:` with nothing after it is a mistake, not an empty system message.
    @Test func solverWithEmptyValueNeedsItsText() throws {
        let folder = try UnitTestFolder()
        defer { folder.remove() }
        let path = try folder.write("task.yaml", """
            name: t
            dataset: {path: data.jsonl}
            solvers:
              - generate
              - system_message:
            scorers: [exact]
            """)
        let error = try #require(throws: EvalError.self) { try TaskFile.load(path: path) }
        #expect(error.field == "solvers[1].system_message.template")
        #expect(error.line == 5)
    }

    /// `- chain_of_thought:` (empty value) means the default template, as the bare name does.
    @Test func chainOfThoughtWithEmptyValueUsesTheDefault() throws {
        let folder = try UnitTestFolder()
        defer { folder.remove() }
        let path = try folder.write("task.yaml", "name: t\ndataset: {path: d.jsonl}\nsolvers:\n  - chain_of_thought:\n  - generate\nscorers: [exact]\n")
        let solvers = try TaskFile.load(path: path).definition.solvers
        #expect(solvers == [.chainOfThought(template: nil), .generate])
    }

    /// `- pattern:` without a regex cannot score anything.
    @Test func patternScorerWithoutRegex() throws {
        let folder = try UnitTestFolder()
        defer { folder.remove() }
        let path = try folder.write("task.yaml", "name: t\ndataset: {path: d.jsonl}\nscorers:\n  - pattern\n")
        let error = try #require(throws: EvalError.self) { try TaskFile.load(path: path) }
        #expect(error.code == .invalidTask)
        #expect(error.field == "scorers[0].pattern.regex")
        #expect(error.line == 4)
    }

    @Test func malformedYAMLReportsItsLine() throws {
        let error = try taskError("""
            name: t
            dataset:
              path: data.jsonl: oops
            scorers: [exact]
            """)
        #expect(error.line == 3)
        #expect(error.message.hasPrefix("not valid YAML"))
        #expect(error.field == nil)
    }

    @Test func unclosedFlowSequenceIsMalformed() throws {
        let error = try taskError("""
            name: t
            dataset: {path: data.jsonl}
            scorers: [exact, f1
            epochs: 2
            """)
        #expect(error.code == .invalidTask)
        let line = try #require(error.line)
        #expect((3...5).contains(line))
    }

    @Test func topLevelListIsNotATask() throws {
        let error = try taskError("- name: t\n- scorers: [exact]\n")
        #expect(error.code == .invalidTask)
    }
}

@Suite struct YAMLLocationTests {
    let text = """
        name: t
        dataset:
          path: d.jsonl
          fields:
            input: question
        solvers:
          - generate
          - multiple_choice:
              shuffle: true
        scorers: [exact, f1]
        """

    @Test func linesOfNestedFields() {
        #expect(YAMLLocation.line(of: ["name"], in: text) == 1)
        #expect(YAMLLocation.line(of: ["dataset", "path"], in: text) == 3)
        #expect(YAMLLocation.line(of: ["dataset", "fields", "input"], in: text) == 5)
        #expect(YAMLLocation.line(of: ["solvers", "0"], in: text) == 7)
        #expect(YAMLLocation.line(of: ["solvers", "1", "multiple_choice", "shuffle"], in: text) == 9)
        #expect(YAMLLocation.line(of: ["scorers", "1"], in: text) == 10)
    }

    @Test func missingFieldsStopAtTheDeepestExistingNode() {
        #expect(YAMLLocation.line(of: ["dataset", "seed"], in: text) == 3)
        #expect(YAMLLocation.line(of: ["solvers", "7"], in: text) == 7)
        #expect(YAMLLocation.line(of: ["nothing"], in: text) == 1)
        #expect(YAMLLocation.line(of: ["name"], in: "key: [unclosed") == nil)
    }

    @Test func dottedPaths() {
        #expect(YAMLLocation.dotted(["solvers", "1", "multiple_choice", "shuffle"]) == "solvers[1].multiple_choice.shuffle")
        #expect(YAMLLocation.dotted(["scorers"]) == "scorers")
        #expect(YAMLLocation.dotted([]) == "")
        #expect(YAMLLocation.dotted(["a", "0", "1"]) == "a[0][1]")
    }

    @Test func errorDescription() {
        let error = EvalError(.invalidTask, "bad", file: "task.yaml", line: 4, field: "epochs.count")
        #expect(error.description == "task.yaml:4: epochs.count: bad")
        #expect(EvalError(.io, "disk full").description == "disk full")
        #expect(EvalError(.invalidDataset, "x", file: "d.csv").description == "d.csv: x")
        #expect(EvalError.Code.invalidTask.description == "invalidTask")
        #expect(EvalError.Code.invalidTask != EvalError.Code.invalidDataset)
    }
}
