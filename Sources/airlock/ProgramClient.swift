import AirlockAPI
import AirlockCore
import AirlockEval
import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Where the program server is: `--server` and `--timeout`.
struct ProgramServerOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The program server (default: $AIRLOCK_SERVER, else \(ProgramServerOptions.defaultServer)).", valueName: "url"))
    var server: String?

    @Option(help: ArgumentHelp("Seconds each request may take before it is given up.", valueName: "seconds"))
    var timeout: Int = 30

    static let defaultServer = "http://127.0.0.1:8470"

    /// The deadline of each request, from now.
    var requestTimeout: TimeAmount { .seconds(Int64(timeout)) }

    /// The server's base URL: the flag, then `AIRLOCK_SERVER`, then the default.
    func serverURL(environment: [String: String] = ProcessInfo.processInfo.environment) throws(ProgramClientError) -> String {
        let text = server ?? environment["AIRLOCK_SERVER"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultServer
        guard let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw ProgramClientError(.invalidArguments, "--server '\(text)' is not an http or https URL")
        }
        return text.hasSuffix("/") ? String(text.dropLast()) : text
    }

    func validate() throws {
        guard (1...3600).contains(timeout) else { throw ValidationError("--timeout must be 1 to 3600 seconds") }
    }
}

/// The server and who is asking: `--server`, `--api-key` and `--timeout`.
struct ProgramAccessOptions: ParsableArguments {
    @OptionGroup var address: ProgramServerOptions

    @Option(help: ArgumentHelp(
        "An API key or session token (default: $AIRLOCK_API_KEY; `airlock login` prints one).", valueName: "key"))
    var apiKey: String?

    /// The key: the flag, then `AIRLOCK_API_KEY`; a command without one is refused before any request.
    func credential(environment: [String: String] = ProcessInfo.processInfo.environment) throws(ProgramClientError) -> APICredential {
        guard let key = apiKey ?? environment["AIRLOCK_API_KEY"], !key.isEmpty else {
            throw ProgramClientError(
                .invalidArguments, "no API key: pass --api-key or set AIRLOCK_API_KEY (`airlock login` prints a session token)")
        }
        return APICredential(key)
    }

    /// Runs `body` with a client for this server and key.
    func withClient<Result: Sendable>(_ body: (ProgramClient) async throws -> Result) async throws -> Result {
        let server = try address.serverURL()
        let credential = try credential()
        return try await ProgramClient.with(server: server, credential: credential, timeout: address.requestTimeout, body)
    }
}

/// The `Idempotency-Key` of a creating request.
struct IdempotencyOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "The request's Idempotency-Key (default: a fresh UUID). Running the command again with the same key returns the first response instead of creating twice.",
        valueName: "key"))
    var idempotencyKey: String?

    /// Chosen once per command, so that the client's own retries reuse it.
    var key: String { idempotencyKey ?? UUID().uuidString }

    func validate() throws {
        if let idempotencyKey, !(1...255).contains(idempotencyKey.count) {
            throw ValidationError("--idempotency-key must be 1 to 255 characters")
        }
    }
}

/// `--limit` and `--cursor` of a list.
struct ListPageOptions: ParsableArguments {
    @Option(help: "At most this many items (1 to 200; the server's default is 50).")
    var limit: Int?

    @Option(help: "The next_cursor of the previous page.")
    var cursor: String?

    var query: [(String, String)] {
        (limit.map { [("limit", String($0))] } ?? []) + (cursor.map { [("cursor", $0)] } ?? [])
    }
}

/// An API key or session token. It prints as `<redacted>`, so no message or log can carry it.
struct APICredential: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    fileprivate let secret: String

    init(_ secret: String) {
        self.secret = secret
    }

    var description: String { "<redacted>" }
    var debugDescription: String { "<redacted>" }
}

/// A failure of a program command: the server's refusal as problem details, an unreachable server,
/// or arguments the command cannot use.
struct ProgramClientError: Error, Sendable, CustomStringConvertible {
    struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case refused, unreachable, timeout, badResponse, invalidArguments
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The server answered with an error status (its problem details are in the error).
        static let refused = Code(.refused)
        /// No connection to the server could be made, or it broke.
        static let unreachable = Code(.unreachable)
        /// The request ran past its deadline.
        static let timeout = Code(.timeout)
        /// The server's answer is not what the API promises.
        static let badResponse = Code(.badResponse)
        /// The command's arguments, files or environment cannot be used.
        static let invalidArguments = Code(.invalidArguments)

        var description: String { base.rawValue }
    }

    var code: Code
    var message: String
    /// Set for ``Code/refused``: the HTTP status and the server's problem details.
    var problem: Problem?

    init(_ code: Code, _ message: String, problem: Problem? = nil) {
        self.code = code
        self.message = message
        self.problem = problem
    }

    var description: String { problem?.description ?? message }

    /// Whether the same request may be sent again: the connection failed or the server was briefly unavailable.
    var isTransient: Bool {
        code == .unreachable || (code == .refused && [502, 503, 504].contains(problem?.status ?? 0))
    }
}

/// Calls the program API: JSON bodies, a deadline per request, problem details turned into
/// ``ProgramClientError``, and retries of safe requests over a failed connection.
struct ProgramClient: Sendable {
    let server: String
    private let credential: APICredential?
    let timeout: TimeAmount
    private let http: HTTPClient

    /// Attempts of a request that may safely be repeated.
    static let attempts = 3

    /// A client for `server` for the duration of `body`.
    ///
    /// Its own HTTP client, not the shared one: the shared one retries a refused connection until
    /// the request's deadline, where a person wants to hear at once that the server is down.
    static func with<Result: Sendable>(
        server: String, credential: APICredential?, timeout: TimeAmount, _ body: (ProgramClient) async throws -> Result
    ) async throws -> Result {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        // The API never redirects; following one would hand the bearer key to wherever it pointed.
        configuration.redirectConfiguration = .disallow
        configuration.timeout.connect = .seconds(min(10, timeout.nanoseconds / 1_000_000_000))
        return try await HTTPClient.withHTTPClient(configuration: configuration) { http in
            try await body(ProgramClient(server: server, credential: credential, timeout: timeout, http: http))
        }
    }

    private init(server: String, credential: APICredential?, timeout: TimeAmount, http: HTTPClient) {
        self.server = server
        self.credential = credential
        self.timeout = timeout
        self.http = http
    }

    /// `GET /api/v1/PATH?QUERY`.
    func get(_ path: String, query: [(String, String)] = []) async throws -> Data {
        try await send(.GET, path, query: query, body: Optional<Empty>.none)
    }

    /// A creating `POST`, with the `Idempotency-Key` that makes repeating it safe.
    func create(_ path: String, _ body: some Encodable & Sendable, idempotencyKey: String) async throws -> Data {
        try await send(.POST, path, body: body, idempotencyKey: idempotencyKey)
    }

    /// A `POST` that is not repeated on a failed connection: a decision or a transition.
    func post(_ path: String, _ body: some Encodable & Sendable) async throws -> Data {
        try await send(.POST, path, body: body)
    }

    /// A `PUT`, which replaces and so may be repeated.
    func put(_ path: String, _ body: some Encodable & Sendable) async throws -> Data {
        try await send(.PUT, path, body: body)
    }

    /// A `PUT` of bytes (a bundle), which replaces and so may be repeated.
    func put(_ path: String, bytes: Data, contentType: String) async throws -> Data {
        try await send(.PUT, path, payload: (contentType, ByteBuffer(bytes: bytes)))
    }

    private func send(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: (some Encodable & Sendable)?,
        idempotencyKey: String? = nil
    ) async throws -> Data {
        let payload = try body.map { ("application/json", ByteBuffer(bytes: try APIJSON.encoder.encode($0))) }
        return try await send(method, path, query: query, payload: payload, idempotencyKey: idempotencyKey)
    }

    private func send(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], payload: (contentType: String, bytes: ByteBuffer)?,
        idempotencyKey: String? = nil
    ) async throws -> Data {
        var request = HTTPClientRequest(url: url(path, query: query))
        request.method = method
        request.headers.add(name: "Accept", value: "application/json, application/problem+json")
        request.headers.add(name: "User-Agent", value: "airlock/\(AirlockVersion.current)")
        if let credential { request.headers.add(name: "Authorization", value: "Bearer \(credential.secret)") }
        if let idempotencyKey { request.headers.add(name: "Idempotency-Key", value: idempotencyKey) }
        if let payload {
            request.headers.add(name: "Content-Type", value: payload.contentType)
            request.body = .bytes(payload.bytes)
        }
        let repeatable = method == .GET || method == .PUT || idempotencyKey != nil
        var attempt = 1
        while true {
            do {
                return try await execute(request)
            } catch let error as ProgramClientError where repeatable && error.isTransient && attempt < Self.attempts {
                try await Task.sleep(for: .milliseconds(250 * attempt * attempt))
                attempt += 1
            }
        }
    }

    /// `GET /api/v1/PATH` as server-sent events: `onEvent(name, data)` for each event until the
    /// server ends the stream. Only the connection is bound by the timeout, not the stream.
    func events(_ path: String, _ onEvent: (String, String) async throws -> Void) async throws {
        var request = HTTPClientRequest(url: url(path, query: []))
        request.headers.add(name: "Accept", value: "text/event-stream, application/problem+json")
        request.headers.add(name: "User-Agent", value: "airlock/\(AirlockVersion.current)")
        if let credential { request.headers.add(name: "Authorization", value: "Bearer \(credential.secret)") }
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, deadline: .now() + .hours(24 * 30))
        } catch {
            throw ProgramClientError(.unreachable, "cannot reach the Airlock server at \(server): \(Self.reason(error))")
        }
        guard response.status == .ok else {
            throw Self.refusal(response.status, Data(try await response.body.collect(upTo: 1 << 20).readableBytesView))
        }
        var parser = ServerSentEvents()
        for try await chunk in response.body {
            for (name, data) in parser.feed(Array(chunk.readableBytesView)) { try await onEvent(name, data) }
        }
    }

    private func execute(_ request: HTTPClientRequest) async throws -> Data {
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await http.execute(request, deadline: .now() + timeout)
            body = try await response.body.collect(upTo: 64 << 20)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw ProgramClientError(.timeout, "the Airlock server at \(server) did not answer within \(timeout.nanoseconds / 1_000_000_000) s")
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw ProgramClientError(.unreachable, "cannot reach the Airlock server at \(server): \(Self.reason(error))")
        }
        let data = Data(body.readableBytesView)
        guard (200..<300).contains(response.status.code) else { throw Self.refusal(response.status, data) }
        return data
    }

    /// The server's problem details; for a body that is none (a proxy's page, say), the status
    /// and the start of the body instead.
    private static func refusal(_ status: HTTPResponseStatus, _ data: Data) -> ProgramClientError {
        let problem = (try? APIJSON.decoder.decode(Problem.self, from: data))
            ?? Problem(
                type: "about:blank", title: status.reasonPhrase, status: Int(status.code),
                detail: String(decoding: data.prefix(500), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        return ProgramClientError(.refused, problem.description, problem: problem)
    }

    private func url(_ path: String, query: [(String, String)]) -> String {
        var text = server + "/api/v1/" + path
        if !query.isEmpty {
            text += "?" + query.map { "\(Self.escape($0.0))=\(Self.escape($0.1))" }.joined(separator: "&")
        }
        return text
    }

    /// Percent-encodes a path segment or query value.
    static func escape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// `a/b` with each segment escaped, so an id can never step into another route.
    static func path(_ segments: String...) -> String {
        segments.map(escape).joined(separator: "/")
    }

    private static func reason(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout: return "the connection timed out"
            case .remoteConnectionClosed: return "the server closed the connection"
            default: return "\(error)"
            }
        }
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)).lowercased() }
        return "\(error)"
    }

    private struct Empty: Encodable, Sendable {}
}

/// The JSON the CLI prints; requests and problems go as ``APIJSON`` codes them.
enum ProgramJSON {
    /// Keys as they come, for printing responses unchanged.
    static let decoder = JSONDecoder()

    /// A response pretty-printed with sorted keys, for people and for `jq`.
    static func pretty(_ data: Data) -> String {
        guard !data.isEmpty else { return "" }
        guard let value = try? decoder.decode(JSONValue.self, from: data) else { return String(decoding: data, as: UTF8.self) }
        let printer = JSONEncoder()
        printer.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? printer.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? String(decoding: data, as: UTF8.self)
    }

    /// Prints a response on standard output.
    static func print(_ data: Data) {
        let text = pretty(data)
        if !text.isEmpty { Swift.print(text) }
    }
}

/// A date option: RFC 3339 (`2027-03-01T00:00:00Z`) or a plain date (`2027-03-01`, midnight UTC).
struct ProgramDate: ExpressibleByArgument, Sendable, Hashable {
    var date: Date

    init(_ date: Date) {
        self.date = date
    }

    init?(argument: String) {
        let text = argument.trimmingCharacters(in: .whitespaces)
        // A plain date is the day's first instant in UTC; the parser refuses anything else it might be.
        guard let date = RFC3339.parse(text) ?? RFC3339.parse(text + "T00:00:00Z") else { return nil }
        self.date = date
    }

    static let help = "RFC 3339 (2027-03-01T00:00:00Z) or a date (2027-03-01, midnight UTC)"
}

/// `--password-stdin`: a user's sign-in password, read from standard input, never from the command line.
struct PasswordInputOptions: ParsableArguments {
    @Flag(help: ArgumentHelp(
        "Read a sign-in password (\(PasswordRule.minimumLength) characters or more) from standard input; without one the user signs in with API keys only."))
    var passwordStdin = false

    /// The password for `email` when `--password-stdin` is given (nil otherwise), refused here by
    /// ``PasswordRule`` before any request or write.
    func read(for email: String) throws(ProgramClientError) -> String? {
        guard passwordStdin else { return nil }
        guard let line = SecretInput.line(prompt: "Password for \(email): "), !line.isEmpty else {
            throw ProgramClientError(.invalidArguments, "--password-stdin: standard input has no password")
        }
        do {
            try PasswordRule.check(line)
        } catch {
            throw ProgramClientError(.invalidArguments, "--password-stdin: \(error.reason)")
        }
        return line
    }
}

/// Reads secrets without putting them on the command line.
enum SecretInput {
    /// The first line of standard input; at a terminal, prompted for on standard error without echo.
    static func line(prompt: String) -> String? {
        guard isatty(STDIN_FILENO) == 1 else { return readLine(strippingNewline: true) }
        FileHandle.standardError.write(Data(prompt.utf8))
        var saved = termios()
        let hidden = tcgetattr(STDIN_FILENO, &saved) == 0
        if hidden {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet)
        }
        defer {
            if hidden {
                tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
                FileHandle.standardError.write(Data("\n".utf8))
            }
        }
        return readLine(strippingNewline: true)
    }

    /// The value of the environment variable `name`, refused when unset or empty.
    static func environment(_ name: String, for option: String) throws(ProgramClientError) -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw ProgramClientError(.invalidArguments, "\(option) \(name): the environment variable \(name) is not set")
        }
        return value
    }
}

/// Runs a program command: any failure is printed as `error: …` on standard error and exits 1.
func runProgramCommand(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let exit as ExitCode {
        throw exit
    } catch let error as ValidationError {
        throw error
    } catch is CancellationError {
        throw ExitCode(130)
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode(1)
    }
}


/// Reads a `text/event-stream` as it arrives: lines split on LF (a CR before it dropped),
/// `event:` and `data:` fields gathered, and each event given out at its blank line. Comments
/// (`:`) and other fields are skipped; a line longer than 1 MiB is cut short.
struct ServerSentEvents {
    private var line: [UInt8] = []
    private var name = "message"
    private var data: [String] = []

    mutating func feed(_ bytes: [UInt8]) -> [(String, String)] {
        var events: [(String, String)] = []
        for byte in bytes {
            guard byte == UInt8(ascii: "\n") else {
                if line.count < 1 << 20 { line.append(byte) }
                continue
            }
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            let text = String(decoding: line, as: UTF8.self)
            line.removeAll(keepingCapacity: true)
            if text.isEmpty {
                if !data.isEmpty { events.append((name, data.joined(separator: "\n"))) }
                name = "message"
                data = []
            } else if !text.hasPrefix(":") {
                let field = text.prefix { $0 != ":" }
                var value = text.dropFirst(field.count).dropFirst()
                if value.hasPrefix(" ") { value = value.dropFirst() }
                if field == "event" { name = String(value) } else if field == "data" { data.append(String(value)) }
            }
        }
        return events
    }
}
