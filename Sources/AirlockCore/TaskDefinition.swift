/// A task as written in its YAML file: dataset, solver chain, scorers, epochs, limits,
/// generation settings and model roles. `docs/tasks.md` documents every field.
public struct TaskDefinition: Sendable, Hashable, Codable {
    public var name: String
    public var description: String?
    public var version: Int?
    public var dataset: DatasetDefinition
    public var solvers: [SolverDefinition]
    public var scorers: [ScorerDefinition]
    public var epochs: EpochsDefinition
    public var limits: SampleLimits
    public var generation: GenerationSettings
    /// Default models for named roles (for example `grader`), overridable from the command line.
    public var modelRoles: [String: String]
    public var metrics: MetricsDefinition
    /// A sandbox per attempt (per sample and epoch), for agents and their tools.
    public var sandbox: SandboxDefinition?

    public init(
        name: String,
        description: String? = nil,
        version: Int? = nil,
        dataset: DatasetDefinition,
        solvers: [SolverDefinition] = [.generate],
        scorers: [ScorerDefinition],
        epochs: EpochsDefinition = .init(),
        limits: SampleLimits = .init(),
        generation: GenerationSettings = .init(),
        modelRoles: [String: String] = [:],
        metrics: MetricsDefinition = .init()
    ) {
        self.name = name
        self.description = description
        self.version = version
        self.dataset = dataset
        self.solvers = solvers
        self.scorers = scorers
        self.epochs = epochs
        self.limits = limits
        self.generation = generation
        self.modelRoles = modelRoles
        self.metrics = metrics
    }

    enum CodingKeys: String, CodingKey {
        case name, description, version, dataset, solvers, scorers, epochs, limits, generation
        case modelRoles = "model_roles"
        case metrics, sandbox
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        description = try container.decodeIfPresent(String.self, forKey: .description)
        version = try container.decodeIfPresent(Int.self, forKey: .version)
        dataset = try container.decode(DatasetDefinition.self, forKey: .dataset)
        solvers = try container.decodeIfPresent([SolverDefinition].self, forKey: .solvers) ?? [.generate]
        if solvers.isEmpty { solvers = [.generate] }
        scorers = try container.decode([ScorerDefinition].self, forKey: .scorers)
        epochs = try container.decodeIfPresent(EpochsDefinition.self, forKey: .epochs) ?? .init()
        limits = try container.decodeIfPresent(SampleLimits.self, forKey: .limits) ?? .init()
        generation = try container.decodeIfPresent(GenerationSettings.self, forKey: .generation) ?? .init()
        modelRoles = try container.decodeIfPresent([String: String].self, forKey: .modelRoles) ?? [:]
        metrics = try container.decodeIfPresent(MetricsDefinition.self, forKey: .metrics) ?? .init()
        sandbox = try container.decodeIfPresent(SandboxDefinition.self, forKey: .sandbox)
    }
}

/// Where a task's samples come from and how their fields are named.
public struct DatasetDefinition: Sendable, Hashable, Codable {
    public enum Format: String, Sendable, Hashable, Codable {
        case jsonl, csv
        /// A folder of capture-the-flag challenges (`battery/ctf`), one sample each.
        case challenges
    }

    /// Relative to the task file; `data:items/x.jsonl` is under the data folder instead.
    public var path: String
    /// Taken from the file's extension when absent.
    public var format: Format?
    public var fields: FieldNames
    /// Shuffle the samples (by `seed`) before `limit` applies.
    public var shuffle: Bool
    public var seed: UInt64?
    public var limit: Int?
    /// For challenges: the prompt's hint level, `minimal` (default) or `guided`.
    public var hints: String?

    public init(path: String, format: Format? = nil, fields: FieldNames = .init(), shuffle: Bool = false, seed: UInt64? = nil, limit: Int? = nil, hints: String? = nil) {
        self.hints = hints
        self.path = path
        self.format = format
        self.fields = fields
        self.shuffle = shuffle
        self.seed = seed
        self.limit = limit
    }

    enum CodingKeys: String, CodingKey { case path, format, fields, shuffle, seed, limit, hints }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        path = try container.decode(String.self, forKey: .path)
        format = try container.decodeIfPresent(Format.self, forKey: .format)
        fields = try container.decodeIfPresent(FieldNames.self, forKey: .fields) ?? .init()
        shuffle = try container.decodeIfPresent(Bool.self, forKey: .shuffle) ?? false
        seed = try container.decodeIfPresent(UInt64.self, forKey: .seed)
        limit = try container.decodeIfPresent(Int.self, forKey: .limit)
        hints = try container.decodeIfPresent(String.self, forKey: .hints)
    }

    /// The names of the record fields (JSONL keys or CSV columns) that hold each part of a sample.
    public struct FieldNames: Sendable, Hashable, Codable {
        public var id: String
        public var input: String
        public var target: String
        public var choices: String
        public var metadata: String
        /// CSV only: columns copied into the sample's metadata.
        public var metadataColumns: [String]
        /// CSV only: the separator between choices (and between several targets) in one cell.
        public var listSeparator: String

        public init(id: String = "id", input: String = "input", target: String = "target", choices: String = "choices", metadata: String = "metadata", metadataColumns: [String] = [], listSeparator: String = "|") {
            self.id = id
            self.input = input
            self.target = target
            self.choices = choices
            self.metadata = metadata
            self.metadataColumns = metadataColumns
            self.listSeparator = listSeparator
        }

        enum CodingKeys: String, CodingKey {
            case id, input, target, choices, metadata
            case metadataColumns = "metadata_columns"
            case listSeparator = "list_separator"
        }

        public init(from decoder: any Decoder) throws {
            let defaults = FieldNames()
            let container = try decoder.container(keyedBy: CodingKeys.self)
            id = try container.decodeIfPresent(String.self, forKey: .id) ?? defaults.id
            input = try container.decodeIfPresent(String.self, forKey: .input) ?? defaults.input
            target = try container.decodeIfPresent(String.self, forKey: .target) ?? defaults.target
            choices = try container.decodeIfPresent(String.self, forKey: .choices) ?? defaults.choices
            metadata = try container.decodeIfPresent(String.self, forKey: .metadata) ?? defaults.metadata
            metadataColumns = try container.decodeIfPresent([String].self, forKey: .metadataColumns) ?? []
            listSeparator = try container.decodeIfPresent(String.self, forKey: .listSeparator) ?? defaults.listSeparator
        }
    }
}

/// How many times each sample runs and how its epochs reduce to one score.
public struct EpochsDefinition: Sendable, Hashable, Codable {
    public var count: Int
    public var reducer: EpochReducer

    public init(count: Int = 1, reducer: EpochReducer = .mean) {
        self.count = count
        self.reducer = reducer
    }

    enum CodingKeys: String, CodingKey { case count, reducer }

    public init(from decoder: any Decoder) throws {
        // `epochs: 3` is shorthand for `epochs: {count: 3}`.
        if let count = try? decoder.singleValueContainer().decode(Int.self) {
            self.init(count: count)
            return
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            count: try container.decodeIfPresent(Int.self, forKey: .count) ?? 1,
            reducer: try container.decodeIfPresent(EpochReducer.self, forKey: .reducer) ?? .mean
        )
    }
}

/// Per-sample limits; reaching one ends the attempt early and it is still scored.
public struct SampleLimits: Sendable, Hashable, Codable {
    /// Total tokens (input and output) over all model calls of an attempt.
    public var tokens: Int?
    /// Messages in the conversation.
    public var messages: Int?
    /// Seconds of wall time for an attempt.
    public var time: Double?

    public init(tokens: Int? = nil, messages: Int? = nil, time: Double? = nil) {
        self.tokens = tokens
        self.messages = messages
        self.time = time
    }
}

/// How results are broken down.
public struct MetricsDefinition: Sendable, Hashable, Codable {
    /// A metadata field whose values each get their own row in the results; several fields are
    /// written as a list or separated by commas (`category, tier`).
    public var groupBy: String?
    /// A metadata field naming clusters of correlated samples: standard errors and intervals
    /// then account for the clustering.
    public var clusterBy: String?
    /// Resamples for the cluster bootstrap interval.
    public var bootstrapResamples: Int?

    public init(groupBy: String? = nil, clusterBy: String? = nil, bootstrapResamples: Int? = nil) {
        self.groupBy = groupBy
        self.clusterBy = clusterBy
        self.bootstrapResamples = bootstrapResamples
    }

    /// The fields of `groupBy`.
    public var groupFields: [String] {
        (groupBy ?? "").split(separator: ",").map { String($0.filter { !$0.isWhitespace }) }.filter { !$0.isEmpty }
    }

    enum CodingKeys: String, CodingKey {
        case groupBy = "group_by"
        case clusterBy = "cluster_by"
        case bootstrapResamples = "bootstrap_resamples"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let fields = try? container.decodeIfPresent([String].self, forKey: .groupBy) {
            groupBy = fields.joined(separator: ", ")
        } else {
            groupBy = try container.decodeIfPresent(String.self, forKey: .groupBy)
        }
        clusterBy = try container.decodeIfPresent(String.self, forKey: .clusterBy)
        bootstrapResamples = try container.decodeIfPresent(Int.self, forKey: .bootstrapResamples)
    }
}

/// The sandbox each attempt of a task gets.
public struct SandboxDefinition: Sendable, Hashable, Codable {
    /// Seconds one command may run, within ``commandTimeoutRange``.
    public var commandTimeout: Double?
    /// Memory in MiB, within ``memoryMBRange``: of the whole sandbox (its processes and the files
    /// in its `/tmp` and `/home/agent`) where the machine has control groups, and the address
    /// space of each process everywhere.
    public var memoryMB: Int?
    /// Processes of the sandbox's user at once, within ``processesRange``.
    public var processes: Int?
    /// CPUs the sandbox may keep busy at once, within ``cpusRange``.
    public var cpus: Double?
    /// Size of `/home/agent` and of `/tmp` in MiB, each, within ``diskMBRange``.
    public var diskMB: Int?

    /// What a task may set (docs/range.md): below, no command could run; above, the limit
    /// would no longer limit.
    public static let commandTimeoutRange: ClosedRange<Double> = 1...3600
    public static let memoryMBRange: ClosedRange<Int> = 64...65536
    public static let processesRange: ClosedRange<Int> = 8...4096
    public static let cpusRange: ClosedRange<Double> = 0.1...256
    public static let diskMBRange: ClosedRange<Int> = 16...65536
    /// Files written into `/home/agent` before the first step, by path.
    public var files: [String: String]?
    /// A shell command run inside before the first step (for example to unpack or start something).
    public var setup: String?

    public init(commandTimeout: Double? = nil, memoryMB: Int? = nil, processes: Int? = nil, cpus: Double? = nil, diskMB: Int? = nil, files: [String: String]? = nil, setup: String? = nil) {
        self.commandTimeout = commandTimeout
        self.memoryMB = memoryMB
        self.processes = processes
        self.cpus = cpus
        self.diskMB = diskMB
        self.files = files
        self.setup = setup
    }

    enum CodingKeys: String, CodingKey {
        case commandTimeout = "command_timeout"
        case memoryMB = "memory_mb"
        case diskMB = "disk_mb"
        case processes, cpus, files, setup
    }
}
