import AirlockCore

/// One attempt at a sample as solvers work on it.
public struct TaskState: Sendable {
    public let sample: Sample
    public let epoch: Int
    public var messages: [ChatMessage]
    /// What counts as right: the sample's targets, or a flag made for this attempt.
    public var target: [String]
    /// The last model output.
    public var output: ModelOutput?
    /// The choices as presented to the model (shuffled when the solver asked).
    public var choices: [String]?
    /// For each presented choice, its index in the sample as written.
    public var choiceOrder: [Int]?
    public var usage = TokenUsage()
    /// Every model call, in order.
    public var modelCalls: [ModelCallRecord] = []
    /// Set when a limit ended the attempt early: `tokens`, `messages` or `time`.
    public var limitReached: String?
    /// Why an agent stopped: `submitted`, `answered`, `turns`, or the limit.
    public var stopReason: String?

    public init(sample: Sample, epoch: Int) {
        self.sample = sample
        self.epoch = epoch
        messages = sample.input.messages
        target = sample.target
        choices = sample.choices
        choiceOrder = sample.choices.map { Array($0.indices) }
    }

    /// Solvers stop once a limit is reached.
    public var isStopped: Bool { limitReached != nil }

    /// The text of the first user message, the question as the sample states it.
    public var question: String { sample.input.promptText }

    /// The model's final answer text.
    public var completion: String { output?.completion ?? "" }
}

/// What solvers and scorers may use: the model under test, models bound to roles, and the task's settings.
public struct SolverContext: Sendable {
    public var model: ModelEndpoint
    public var roles: [String: ModelEndpoint]
    public var settings: GenerationSettings
    public var limits: SampleLimits
    public var seed: UInt64
    /// When the sample's time runs out.
    public var deadline: ContinuousClock.Instant?
    /// The attempt's sandbox, when the task has one.
    public var sandbox: Sandbox?
    /// Time for one tool command in the sandbox.
    public var commandTimeout: Duration?

    public init(model: ModelEndpoint, roles: [String: ModelEndpoint], settings: GenerationSettings, limits: SampleLimits, seed: UInt64, deadline: ContinuousClock.Instant? = nil, sandbox: Sandbox? = nil, commandTimeout: Duration? = nil) {
        self.model = model
        self.roles = roles
        self.settings = settings
        self.limits = limits
        self.seed = seed
        self.deadline = deadline
        self.sandbox = sandbox
        self.commandTimeout = commandTimeout
    }

    /// The model bound to `role`; a missing binding is an infrastructure failure, never a silent
    /// fallback to the model under test.
    public func model(forRole role: String) throws -> ModelEndpoint {
        guard let endpoint = roles[role] else {
            throw SampleFailure(cause: .infrastructure, message: "no model is bound to the role '\(role)'")
        }
        return endpoint
    }

    /// Calls the model under test with the conversation so far, appending its answer, unless a
    /// limit stops the attempt first.
    public func generate(_ state: inout TaskState, tools: [ToolDefinition] = []) async throws {
        if state.isStopped { return }
        if let limit = limits.messages, state.messages.count >= limit {
            state.limitReached = "messages"
            return
        }
        if let limit = limits.tokens, state.usage.totalTokens >= limit {
            state.limitReached = "tokens"
            return
        }
        let request = ModelRequest(messages: state.messages, tools: tools, settings: settings)
        let record: ModelCallRecord
        do {
            record = try await model.generate(request, epoch: state.epoch, deadline: deadline)
        } catch is SampleTimeLimit {
            state.limitReached = "time"
            return
        }
        state.modelCalls.append(record)
        state.usage += record.output.usage
        state.output = record.output
        state.messages.append(record.output.message)
        if let limit = limits.tokens, state.usage.totalTokens >= limit { state.limitReached = "tokens" }
        if let limit = limits.messages, state.messages.count >= limit { state.limitReached = "messages" }
    }
}
