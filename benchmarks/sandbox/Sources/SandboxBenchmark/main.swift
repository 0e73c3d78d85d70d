import AirlockEval
import Foundation
import Logging

// Start-up, exec round trip and teardown of many sandboxes, one at a time; then the same number
// with several in flight, counting failures. Usage: SandboxBenchmark [COUNT] [IN_FLIGHT]

let arguments = CommandLine.arguments
let count = arguments.count > 1 ? Int(arguments[1]) ?? 1000 : 1000
let inFlight = arguments.count > 2 ? Int(arguments[2]) ?? 16 : 16
let logger = Logger(label: "sandbox-benchmark")
let clock = ContinuousClock()

struct CommandFailed: Error, CustomStringConvertible {
    var description: String
}

struct Sample {
    var startup: Duration
    var exec: Duration
    var teardown: Duration
}

func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int((p * Double(sorted.count - 1)).rounded()))]
}

/// One sandbox through its whole life, timed in three parts.
func measure() async throws -> Sample {
    let begin = clock.now
    var started = begin
    var executed = begin
    try await Sandbox.withSandbox(logger: logger) { sandbox in
        started = clock.now
        let result = try await sandbox.exec(["/bin/true"])
        guard result.status == 0 else { throw CommandFailed(description: "status \(result.status): \(result.errorOutput)") }
        executed = clock.now
    }
    return Sample(startup: started - begin, exec: executed - started, teardown: clock.now - executed)
}

guard Sandbox.isAvailable else {
    print("sandboxes are not available here (root, bubblewrap and iproute2 are needed)")
    exit(2)
}

print("sequential: \(count) sandboxes, one at a time")
var samples: [Sample] = []
var sequentialFailures: [String] = []
let sequentialStart = clock.now
for _ in 0..<count {
    do { samples.append(try await measure()) } catch { sequentialFailures.append("\(error)") }
}
let sequentialSeconds = milliseconds(clock.now - sequentialStart) / 1000

print("concurrent: \(count) sandboxes, \(inFlight) in flight")
let concurrentStart = clock.now
let concurrentFailures = await withTaskGroup(of: String?.self) { group -> [String] in
    var started = 0
    var failures: [String] = []
    func add() {
        guard started < count else { return }
        started += 1
        group.addTask {
            do { _ = try await measure(); return nil } catch { return "\(error)" }
        }
    }
    for _ in 0..<inFlight { add() }
    while let result = await group.next() {
        if let result { failures.append(result) }
        add()
    }
    return failures
}
let concurrentSeconds = milliseconds(clock.now - concurrentStart) / 1000

func row(_ name: String, _ values: [Double]) -> String {
    name.padding(toLength: 22, withPad: " ", startingAt: 0) + String(format: "%10.2f %10.2f %10.2f", percentile(values, 0.5), percentile(values, 0.99), values.max() ?? 0)
}
print("")
print("one at a time (ms)".padding(toLength: 22, withPad: " ", startingAt: 0) + "    median        p99        max")
print(row("start-up", samples.map { milliseconds($0.startup) }))
print(row("exec round trip", samples.map { milliseconds($0.exec) }))
print(row("teardown", samples.map { milliseconds($0.teardown) }))
print(String(format: "sequential: %d ok, %d failed, %.1f sandboxes/s", samples.count, sequentialFailures.count, Double(samples.count) / sequentialSeconds))
print(String(format: "%d in flight: %d ok, %d failed, %.1f sandboxes/s", inFlight, count - concurrentFailures.count, concurrentFailures.count, Double(count) / concurrentSeconds))
for failure in Set(sequentialFailures + concurrentFailures).prefix(5) { print("failure: \(failure)") }
let startupMedian = percentile(samples.map { milliseconds($0.startup) }, 0.5)
let failures = sequentialFailures.count + concurrentFailures.count
print("bar: zero infrastructure failures: \(failures == 0 ? "PASS" : "FAIL (\(failures))")")
print("bar: start-up median under 50 ms: \(startupMedian < 50 ? "PASS" : "FAIL") (\(String(format: "%.2f", startupMedian)) ms)")
exit(failures == 0 && startupMedian < 50 ? 0 : 1)
