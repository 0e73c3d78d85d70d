import AirlockCore

/// One step of a solver chain: reads and changes the attempt's state, calling models through the context.
public protocol Solver: Sendable {
    func solve(_ state: inout TaskState, context: SolverContext) async throws
}

/// Solvers run in order; a reached limit stops the chain.
public struct SolverChain: Solver {
    public var steps: [any Solver]

    public init(_ steps: [any Solver]) {
        self.steps = steps
    }

    public init(_ definitions: [SolverDefinition]) {
        steps = definitions.map(Self.solver(for:))
    }

    public func solve(_ state: inout TaskState, context: SolverContext) async throws {
        for step in steps {
            if state.isStopped { return }
            try await step.solve(&state, context: context)
        }
    }

    public static func solver(for definition: SolverDefinition) -> any Solver {
        switch definition {
        case .systemMessage(let template): return SystemMessageSolver(template: template)
        case .promptTemplate(let template): return PromptTemplateSolver(template: template)
        case .generate: return GenerateSolver()
        case .multipleChoice(let options): return MultipleChoiceSolver(options: options)
        case .chainOfThought(let template): return ChainOfThoughtSolver(template: template ?? ChainOfThoughtSolver.defaultTemplate)
        case .selfCritique(let options): return SelfCritiqueSolver(options: options)
        case .agent(let options): return AgentSolver(options: options)
        }
    }
}

public struct SystemMessageSolver: Solver {
    public var template: String

    public func solve(_ state: inout TaskState, context: SolverContext) async throws {
        let text = try PromptTemplate.render(template, PromptTemplate.values(for: state))
        // After any system messages already there, so a task's own system prompt comes first.
        let position = state.messages.firstIndex(where: { $0.role != .system }) ?? state.messages.count
        state.messages.insert(.system(text), at: position)
    }
}

public struct PromptTemplateSolver: Solver {
    public var template: String

    public func solve(_ state: inout TaskState, context: SolverContext) async throws {
        let text = try PromptTemplate.render(template, PromptTemplate.values(for: state))
        if let index = state.messages.lastIndex(where: { $0.role == .user }) {
            state.messages[index].content = text
        } else {
            state.messages.append(.user(text))
        }
    }
}

public struct GenerateSolver: Solver {
    public func solve(_ state: inout TaskState, context: SolverContext) async throws {
        try await context.generate(&state)
    }
}

public struct ChainOfThoughtSolver: Solver {
    public static let defaultTemplate = """
        {prompt}

        Before answering, reason in a step-by-step manner as to get the right answer. Provide your answer at the end on its own line in the form "ANSWER: $ANSWER" (without quotes) where $ANSWER is the answer to the question.
        """

    public var template: String

    public func solve(_ state: inout TaskState, context: SolverContext) async throws {
        try await PromptTemplateSolver(template: template).solve(&state, context: context)
    }
}

/// Presents the question with lettered choices (shuffled by the run's seed, per sample and epoch,
/// when asked), then calls the model. The `choice` scorer maps the answer back to the original order.
public struct MultipleChoiceSolver: Solver {
    public static let defaultTemplate = """
        Answer the following multiple choice question. The entire content of your response should be of the following format: 'ANSWER: $LETTER' (without quotes) where LETTER is one of {letters}.

        {question}

        {choices}
        """

    public var options: SolverDefinition.MultipleChoiceOptions

    public func solve(_ state: inout TaskState, context: SolverContext) async throws {
        guard let original = state.sample.choices else {
            throw SampleFailure(cause: .sample, message: "multiple_choice needs a sample with choices")
        }
        var order = Array(original.indices)
        if options.shuffle {
            var generator = SeededGenerator(seed: context.seed, stream: "choices:\(state.sample.id):\(state.epoch)")
            generator.shuffle(&order)
        }
        let presented = order.map { original[$0] }
        state.choices = presented
        state.choiceOrder = order
        let letters = DatasetReader.letters(presented.count)
        var values = PromptTemplate.values(for: state)
        values["question"] = values["prompt"]
        values["choices"] = zip(letters, presented).map { "\($0)) \($1)" }.joined(separator: "\n")
        values["letters"] = letters.joined(separator: ", ")
        let text = try PromptTemplate.render(options.template ?? Self.defaultTemplate, values)
        if let index = state.messages.lastIndex(where: { $0.role == .user }) {
            state.messages[index].content = text
        } else {
            state.messages.append(.user(text))
        }
        try await context.generate(&state)
    }
}

/// Asks for a critique of the answer (by the model in `role`, or the model under test), then asks
/// the model under test to answer again in its light.
public struct SelfCritiqueSolver: Solver {
    public static let defaultCritique = """
        Given the following question and answer, please critique the answer. A good answer comprehensively answers the question and NEVER refuses to answer. If the answer is already correct do not provide critique - simply respond 'The original answer is fully correct'.

        [BEGIN DATA]
        ***
        [Question]: {question}
        ***
        [Answer]: {completion}
        ***
        [END DATA]

        Critique:
        """

    public static let defaultCompletion = """
        Given the following question, initial answer and critique please generate an improved answer to the question:

        [BEGIN DATA]
        ***
        [Question]: {question}
        ***
        [Answer]: {completion}
        ***
        [Critique]: {critique}
        ***
        [END DATA]

        If the original answer is already correct, just repeat the original answer exactly. Provide your answer at the end on its own line in the form "ANSWER: $ANSWER" (without quotes) where $ANSWER is the answer to the question.
        """

    public var options: SolverDefinition.SelfCritiqueOptions

    public func solve(_ state: inout TaskState, context: SolverContext) async throws {
        if state.output == nil { try await context.generate(&state) }
        if state.isStopped { return }
        var values = PromptTemplate.values(for: state)
        values["question"] = state.question
        values["completion"] = state.completion
        let critic = try options.role.map { try context.model(forRole: $0) } ?? context.model
        let critiquePrompt = try PromptTemplate.render(options.critiqueTemplate ?? Self.defaultCritique, values)
        let critique = try await critic.generate(ModelRequest(messages: [.user(critiquePrompt)], settings: context.settings), epoch: state.epoch, deadline: context.deadline)
        state.modelCalls.append(critique)
        state.usage += critique.output.usage
        values["critique"] = critique.output.completion
        state.messages.append(.user(try PromptTemplate.render(options.completionTemplate ?? Self.defaultCompletion, values)))
        try await context.generate(&state)
    }
}
