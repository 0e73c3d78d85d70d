import AirlockCore
import Foundation
import Testing

/// The coding path of a decoding error, as written in YAML (`solvers.1`).
private func path(of error: DecodingError) -> String {
    let context: DecodingError.Context
    switch error {
    case .dataCorrupted(let c), .keyNotFound(_, let c), .typeMismatch(_, let c), .valueNotFound(_, let c): context = c
    @unknown default: return ""
    }
    return context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
}

private func debugDescription(of error: DecodingError) -> String {
    switch error {
    case .dataCorrupted(let c), .keyNotFound(_, let c), .typeMismatch(_, let c), .valueNotFound(_, let c): return c.debugDescription
    @unknown default: return ""
    }
}

@Suite struct SolverDefinitionDecodingTests {
    @Test func allForms() throws {
        let solvers = try decodeJSON([SolverDefinition].self, """
            [
              "generate",
              {"generate": null},
              {"generate": {}},
              {"system_message": "You are terse."},
              {"system_message": {"template": "Topic: {topic}"}},
              {"prompt_template": "Q: {prompt}"},
              "multiple_choice",
              {"multiple_choice": {"shuffle": true, "template": "{question}\\n{choices}"}},
              {"multiple_choice": null},
              "chain_of_thought",
              {"chain_of_thought": "Think: {prompt}"},
              {"chain_of_thought": {"template": "Reason: {prompt}"}},
              "self_critique",
              {"self_critique": {"role": "critic", "critique_template": "C {completion}", "completion_template": "R {critique}"}}
            ]
            """)
        #expect(solvers == [
            .generate,
            .generate,
            .generate,
            .systemMessage(template: "You are terse."),
            .systemMessage(template: "Topic: {topic}"),
            .promptTemplate(template: "Q: {prompt}"),
            .multipleChoice(.init()),
            .multipleChoice(.init(template: "{question}\n{choices}", shuffle: true)),
            .multipleChoice(.init(template: nil, shuffle: false)),
            .chainOfThought(template: nil),
            .chainOfThought(template: "Think: {prompt}"),
            .chainOfThought(template: "Reason: {prompt}"),
            .selfCritique(.init()),
            .selfCritique(.init(critiqueTemplate: "C {completion}", completionTemplate: "R {critique}", role: "critic")),
        ])
    }

    @Test func unknownBareNameIsRejectedWithItsPosition() throws {
        let error = try #require(throws: DecodingError.self) {
            try decodeJSON([SolverDefinition].self, #"["generate", "genrate"]"#)
        }
        #expect(path(of: error) == "1")
        #expect(debugDescription(of: error).contains("unknown solver 'genrate'"))
        #expect(debugDescription(of: error).contains("multiple_choice"))
    }

    @Test func unknownKeyedNameIsRejectedWithItsKey() throws {
        let error = try #require(throws: DecodingError.self) {
            try decodeJSON([SolverDefinition].self, #"[{"system_prompt": "x"}]"#)
        }
        #expect(path(of: error) == "0.system_prompt")
        #expect(debugDescription(of: error).contains("unknown solver 'system_prompt'"))
    }

    @Test func twoNamesInOneEntryAreRejected() throws {
        let error = try #require(throws: DecodingError.self) {
            try decodeJSON([SolverDefinition].self, #"[{"generate": null, "system_message": "x"}]"#)
        }
        #expect(debugDescription(of: error).contains("one name"))
    }

    @Test func textArgumentIsRequiredWhereNeeded() throws {
        #expect(throws: DecodingError.self) { try decodeJSON([SolverDefinition].self, #"["system_message"]"#) }
        #expect(throws: DecodingError.self) { try decodeJSON([SolverDefinition].self, #"[{"prompt_template": {}}]"#) }
        #expect(throws: DecodingError.self) { try decodeJSON([SolverDefinition].self, #"[{"prompt_template": {"text": "wrong key"}}]"#) }
    }

    @Test func nonEntryValuesAreRejected() {
        #expect(throws: DecodingError.self) { try decodeJSON([SolverDefinition].self, "[42]") }
        #expect(throws: DecodingError.self) { try decodeJSON([SolverDefinition].self, #"[["generate"]]"#) }
        #expect(throws: DecodingError.self) { try decodeJSON([SolverDefinition].self, #"[{"multiple_choice": {"shuffle": "yes"}}]"#) }
    }

    @Test func namesMatchTheTaskFileNames() {
        let all: [SolverDefinition] = [.systemMessage(template: ""), .promptTemplate(template: ""), .generate, .multipleChoice(.init()), .chainOfThought(template: nil), .selfCritique(.init()), .agent(.init())]
        #expect(all.map(\.name) == SolverDefinition.names)
    }

    @Test func encodingRoundTrips() throws {
        let solvers: [SolverDefinition] = [
            .systemMessage(template: "S"),
            .promptTemplate(template: "P {prompt}"),
            .generate,
            .multipleChoice(.init(template: "T", shuffle: true)),
            .chainOfThought(template: "C"),
            .selfCritique(.init(critiqueTemplate: "c", completionTemplate: nil, role: "critic")),
        ]
        let data = try JSONEncoder().encode(solvers)
        #expect(try JSONDecoder().decode([SolverDefinition].self, from: data) == solvers)
    }
}

@Suite struct ScorerDefinitionDecodingTests {
    @Test func allForms() throws {
        let scorers = try decodeJSON([ScorerDefinition].self, """
            [
              "exact",
              {"exact": {"ignore_case": false}},
              {"exact": null},
              "includes",
              {"includes": {"ignore_case": false}},
              {"pattern": "ANSWER: (\\\\w+)"},
              {"pattern": {"regex": "(\\\\d+)"}},
              "choice",
              "f1",
              "model_graded",
              {"model_graded": {"rubric": "names the capital", "partial_credit": true, "role": "judge", "grade_pattern": "G: (C|P|I)"}}
            ]
            """)
        #expect(scorers == [
            .exact(ignoreCase: true),
            .exact(ignoreCase: false),
            .exact(ignoreCase: true),
            .includes(ignoreCase: true),
            .includes(ignoreCase: false),
            .pattern(.init(regex: #"ANSWER: (\w+)"#)),
            .pattern(.init(regex: #"(\d+)"#)),
            .choice,
            .f1,
            .modelGraded(.init()),
            .modelGraded(.init(rubric: "names the capital", gradePattern: "G: (C|P|I)", partialCredit: true, role: "judge")),
        ])
        if case .modelGraded(let options) = scorers[9] {
            #expect(options.role == "grader")
            #expect(options.partialCredit == false)
        }
    }

    /// `pattern: {regex, group, ignore_case}` must keep `group` and `ignore_case`.
    @Test func patternOptionsKeepGroupAndCase() throws {
        let scorers = try decodeJSON([ScorerDefinition].self, #"[{"pattern": {"regex": "(a)(b)", "group": 2, "ignore_case": false}}]"#)
        #expect(scorers == [.pattern(.init(regex: "(a)(b)", group: 2, ignoreCase: false))])
        // The regex itself survives either way.
        if case .pattern(let options) = scorers.first { #expect(options.regex == "(a)(b)") } else { Issue.record("not a pattern scorer") }
    }

    @Test func unknownScorerIsRejected() throws {
        let error = try #require(throws: DecodingError.self) {
            try decodeJSON([ScorerDefinition].self, #"["exact", "fuzzy"]"#)
        }
        #expect(path(of: error) == "1")
        #expect(debugDescription(of: error).contains("unknown scorer 'fuzzy'"))
        let keyed = try #require(throws: DecodingError.self) {
            try decodeJSON([ScorerDefinition].self, #"[{"regex": "x"}]"#)
        }
        #expect(debugDescription(of: keyed).contains("unknown scorer 'regex'"))
    }

    @Test func badOptionTypesAreRejected() {
        #expect(throws: DecodingError.self) { try decodeJSON([ScorerDefinition].self, #"[{"exact": {"ignore_case": "no"}}]"#) }
        #expect(throws: DecodingError.self) { try decodeJSON([ScorerDefinition].self, #"[{"model_graded": {"partial_credit": 3}}]"#) }
    }

    @Test func namesMatchTheTaskFileNames() {
        let all: [ScorerDefinition] = [.exact(ignoreCase: true), .includes(ignoreCase: true), .pattern(.init(regex: "x")), .choice, .f1, .modelGraded(.init()), .secretLeak, .vulnerabilityReport(.init())]
        #expect(all.map(\.name) == ScorerDefinition.names)
    }

    @Test func encodingRoundTrips() throws {
        let scorers: [ScorerDefinition] = [
            .exact(ignoreCase: false),
            .includes(ignoreCase: true),
            .pattern(.init(regex: "(x)")),
            .choice,
            .f1,
            .modelGraded(.init(template: "T", rubric: "R", instructions: "I", gradePattern: "P", partialCredit: true, role: "judge")),
            .secretLeak,
            .vulnerabilityReport(.init(checkInput: false, requireTrigger: true)),
        ]
        let data = try JSONEncoder().encode(scorers)
        #expect(try JSONDecoder().decode([ScorerDefinition].self, from: data) == scorers)
    }
}

@Suite struct TaskDefinitionDecodingTests {
    @Test func minimalTaskGetsDefaults() throws {
        let task = try decodeJSON(TaskDefinition.self, #"{"name": "arith", "dataset": {"path": "data.jsonl"}, "scorers": ["exact"]}"#)
        #expect(task.name == "arith")
        #expect(task.description == nil)
        #expect(task.solvers == [.generate])
        #expect(task.scorers == [.exact(ignoreCase: true)])
        #expect(task.epochs == EpochsDefinition(count: 1, reducer: .mean))
        #expect(task.limits == SampleLimits())
        #expect(task.generation == GenerationSettings())
        #expect(task.modelRoles.isEmpty)
        #expect(task.metrics == MetricsDefinition())
        #expect(task.dataset == DatasetDefinition(path: "data.jsonl"))
        #expect(task.dataset.fields == DatasetDefinition.FieldNames(id: "id", input: "input", target: "target", choices: "choices", metadata: "metadata", metadataColumns: [], listSeparator: "|"))
        #expect(task.dataset.shuffle == false)
    }

    @Test func emptySolverListMeansGenerate() throws {
        let task = try decodeJSON(TaskDefinition.self, #"{"name": "t", "dataset": {"path": "d"}, "solvers": [], "scorers": ["f1"]}"#)
        #expect(task.solvers == [.generate])
    }

    @Test func fullTask() throws {
        let task = try decodeJSON(TaskDefinition.self, """
            {
              "name": "mmlu-mini",
              "description": "A few questions",
              "version": 2,
              "dataset": {
                "path": "questions.csv",
                "format": "csv",
                "fields": {"id": "qid", "input": "question", "target": "answer", "metadata_columns": ["subject"], "list_separator": ";"},
                "shuffle": true,
                "seed": 17,
                "limit": 10
              },
              "solvers": [{"system_message": "Answer with a letter."}, {"multiple_choice": {"shuffle": true}}],
              "scorers": ["choice"],
              "epochs": {"count": 4, "reducer": "pass_at_2"},
              "limits": {"tokens": 1000, "messages": 6, "time": 30.5},
              "generation": {"temperature": 0, "max_tokens": 16},
              "model_roles": {"grader": "openai/gpt-4o"},
              "metrics": {"group_by": "subject", "cluster_by": "passage", "bootstrap_resamples": 500}
            }
            """)
        #expect(task.description == "A few questions")
        #expect(task.version == 2)
        #expect(task.dataset.format == .csv)
        #expect(task.dataset.fields.id == "qid")
        #expect(task.dataset.fields.input == "question")
        #expect(task.dataset.fields.target == "answer")
        #expect(task.dataset.fields.choices == "choices")
        #expect(task.dataset.fields.metadataColumns == ["subject"])
        #expect(task.dataset.fields.listSeparator == ";")
        #expect(task.dataset.shuffle)
        #expect(task.dataset.seed == 17)
        #expect(task.dataset.limit == 10)
        #expect(task.solvers == [.systemMessage(template: "Answer with a letter."), .multipleChoice(.init(shuffle: true))])
        #expect(task.epochs == EpochsDefinition(count: 4, reducer: .passAt(2)))
        #expect(task.limits == SampleLimits(tokens: 1000, messages: 6, time: 30.5))
        #expect(task.generation == GenerationSettings(temperature: 0, maxTokens: 16))
        #expect(task.modelRoles == ["grader": "openai/gpt-4o"])
        #expect(task.metrics == MetricsDefinition(groupBy: "subject", clusterBy: "passage", bootstrapResamples: 500))
    }

    @Test func epochsShorthand() throws {
        #expect(try decodeJSON(EpochsDefinition.self, "3") == EpochsDefinition(count: 3, reducer: .mean))
        #expect(try decodeJSON(EpochsDefinition.self, #"{"reducer": "max"}"#) == EpochsDefinition(count: 1, reducer: .max))
        #expect(try decodeJSON(EpochsDefinition.self, #"{"count": 5}"#) == EpochsDefinition(count: 5, reducer: .mean))
        #expect(try decodeJSON(EpochsDefinition.self, #"{"count": 5, "reducer": "at_least_3"}"#) == EpochsDefinition(count: 5, reducer: .atLeast(3)))
        #expect(throws: DecodingError.self) { try decodeJSON(EpochsDefinition.self, #"{"count": 2, "reducer": "median"}"#) }
        #expect(throws: DecodingError.self) { try decodeJSON(EpochsDefinition.self, #""three""#) }
    }

    @Test func missingRequiredFields() throws {
        let noScorers = try #require(throws: DecodingError.self) {
            try decodeJSON(TaskDefinition.self, #"{"name": "t", "dataset": {"path": "d"}}"#)
        }
        guard case .keyNotFound(let key, _) = noScorers else { Issue.record("expected keyNotFound, got \(noScorers)"); return }
        #expect(key.stringValue == "scorers")

        let noPath = try #require(throws: DecodingError.self) {
            try decodeJSON(TaskDefinition.self, #"{"name": "t", "dataset": {"format": "csv"}, "scorers": ["exact"]}"#)
        }
        guard case .keyNotFound(let pathKey, let context) = noPath else { Issue.record("expected keyNotFound, got \(noPath)"); return }
        #expect(pathKey.stringValue == "path")
        #expect(context.codingPath.map(\.stringValue) == ["dataset"])

        #expect(throws: DecodingError.self) { try decodeJSON(TaskDefinition.self, #"{"dataset": {"path": "d"}, "scorers": ["exact"]}"#) }
    }

    @Test func unknownSolverInTaskIsRejected() throws {
        let error = try #require(throws: DecodingError.self) {
            try decodeJSON(TaskDefinition.self, #"{"name": "t", "dataset": {"path": "d"}, "solvers": ["generate", "think_hard"], "scorers": ["exact"]}"#)
        }
        #expect(path(of: error) == "solvers.1")
    }

    @Test func badDatasetFormatIsRejected() {
        #expect(throws: DecodingError.self) {
            try decodeJSON(TaskDefinition.self, #"{"name": "t", "dataset": {"path": "d", "format": "parquet"}, "scorers": ["exact"]}"#)
        }
        #expect(throws: DecodingError.self) {
            try decodeJSON(TaskDefinition.self, #"{"name": "t", "dataset": {"path": "d", "seed": -1}, "scorers": ["exact"]}"#)
        }
    }

    @Test func taskRoundTripsThroughJSON() throws {
        let task = TaskDefinition(
            name: "t",
            description: "d",
            version: 1,
            dataset: DatasetDefinition(path: "x.csv", format: .csv, fields: .init(id: "k", metadataColumns: ["m"], listSeparator: ";"), shuffle: true, seed: 9, limit: 3),
            solvers: [.systemMessage(template: "s"), .generate],
            scorers: [.includes(ignoreCase: false), .f1],
            epochs: .init(count: 3, reducer: .atLeast(2)),
            limits: .init(tokens: 10, messages: nil, time: 1.5),
            generation: .init(temperature: 0.3, stop: ["x"]),
            modelRoles: ["grader": "anthropic/claude"],
            metrics: .init(groupBy: "g")
        )
        let data = try JSONEncoder().encode(task)
        #expect(try JSONDecoder().decode(TaskDefinition.self, from: data) == task)
    }
}
