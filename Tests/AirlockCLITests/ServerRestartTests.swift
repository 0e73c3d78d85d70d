import AirlockCore
import AirlockEval
import AirlockStore
import AirlockTestSupport
import Foundation
import Testing

/// A server killed in the middle of a stream of writes loses none it acknowledged.
@Suite struct ServerRestartTests {
    @Test(arguments: TestBackend.all)
    func killNineMidWritesLosesNothingCommitted(backend: TestBackend) async throws {
        try await backend.withFreshLocation { location in
            let database: String = switch location {
            case .sqlite(let path): path
            case .postgres(let url): url
            }
            let first = try await ProgramServerProcess.start(database: database)
            let officeKey = first.officeKey
            let acknowledged = Acknowledged()
            // Four writers create organisations until the server dies under them.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<4 {
                    group.addTask {
                        for index in 0..<200 {
                            let result = try await first.run(
                                ["org", "create", "Operator \(writer)-\(index)", "--kind", "vendor"], key: officeKey)
                            guard result.status == 0 else { return }
                            let created = try JSONDecoder().decode(JSONValue.self, from: Data(result.output.utf8))
                            guard case .object(let fields) = created, let id = fields["id"]?.stringValue else { return }
                            await acknowledged.add(id)
                        }
                    }
                }
                // Kill without warning once writes are flowing.
                while await acknowledged.count < 12 { try await Task.sleep(for: .milliseconds(20)) }
                kill(first.process.processIdentifier, SIGKILL)
                try await group.waitForAll()
            }
            first.process.waitUntilExit()
            #expect(first.process.terminationReason == .uncaughtSignal)

            let second = try await ProgramServerProcess.start(database: database, officeKey: officeKey)
            defer { if second.process.isRunning { kill(second.process.processIdentifier, SIGKILL) } }
            let listed = try await second.json(["org", "list", "--limit", "200"], key: officeKey)
            guard case .object(let page) = listed, case .array(let items)? = page["items"] else {
                Issue.record("org list did not return items")
                return
            }
            let present = Set(items.compactMap { item -> String? in
                if case .object(let fields) = item { return fields["id"]?.stringValue }
                return nil
            })
            let ids = await acknowledged.ids
            #expect(ids.count >= 12)
            #expect(ids.isSubset(of: present), "acknowledged but lost: \(ids.subtracting(present))")
            // The server comes back and takes writes again, and the audit chain is whole.
            _ = try await second.json(["org", "create", "After restart", "--kind", "vendor"], key: officeKey)
            #expect(try await second.stop() == 0)
            let verify = try await ProgramCLI.run(["audit", "verify", "--database", database])
            #expect(verify.status == 0, "\(verify.output)\(verify.error)")
            #expect(verify.output.contains("audit log intact"))
        }
    }
}

/// Ids the server answered 201 for, collected across writers.
actor Acknowledged {
    private(set) var ids: Set<String> = []
    var count: Int { ids.count }
    func add(_ id: String) { ids.insert(id) }
}
