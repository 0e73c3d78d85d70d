import AirlockCore
import Crypto
import Foundation

/// The audit log's hash chain: each entry's hash covers its own fields and the hash before it,
/// so an edited, deleted or reordered entry breaks the chain at that point.
public enum AuditChain {
    /// The hash before the first entry.
    public static let genesis = String(repeating: "0", count: 64)

    /// The hash of an entry with these fields, chained to `previousHash`.
    ///
    /// Each field is written with its byte length first, so no two different entries serialise alike.
    public static func hash(
        sequence: Int64, at: Date, actorUserId: String?, actorOrganisationId: String?, action: String,
        objectType: String, objectId: String?, detail: String, previousHash: String
    ) -> String {
        var hasher = SHA256()
        let fields: [String?] = [
            String(sequence), String(at.storedMilliseconds), actorUserId, actorOrganisationId, action, objectType,
            objectId, detail, previousHash,
        ]
        for field in fields {
            let bytes = Array((field ?? "").utf8)
            hasher.update(data: Array("\(field == nil ? -1 : bytes.count):".utf8))
            hasher.update(data: bytes)
        }
        return Hex.string(hasher.finalize())
    }

    /// The hash `entry` should have, from its own fields.
    public static func expectedHash(of entry: AuditEntry) -> String {
        hash(
            sequence: entry.sequence, at: entry.at, actorUserId: entry.actorUserId,
            actorOrganisationId: entry.actorOrganisationId, action: entry.action, objectType: entry.objectType,
            objectId: entry.objectId, detail: entry.detail, previousHash: entry.previousHash)
    }

    /// What checking the chain found.
    public enum Verdict: Sendable, Hashable {
        /// Every entry is as written; `head` is the last entry's hash.
        case intact(entries: Int, head: String)
        /// The first entry that is not as written (or the place where one is missing), and why.
        case tampered(sequence: Int64, reason: String)
    }

    /// Recomputes the chain over `entries` (in order of sequence) and checks that it ends at
    /// the recorded head.
    public static func verify(
        _ entries: some Sequence<AuditEntry>, headSequence: Int64, headHash: String
    ) -> Verdict {
        var verifier = Verifier()
        for entry in entries {
            if let verdict = verifier.check(entry) { return verdict }
        }
        return verifier.finish(headSequence: headSequence, headHash: headHash)
    }

    /// Checks the chain one entry at a time, so a long log is verified in pages.
    public struct Verifier: Sendable {
        private var expectedSequence: Int64 = 1
        private var previousHash = AuditChain.genesis

        public init() {}

        /// Nil while the chain holds; the verdict at the first entry that breaks it.
        public mutating func check(_ entry: AuditEntry) -> Verdict? {
            if entry.sequence != expectedSequence {
                return .tampered(
                    sequence: min(entry.sequence, expectedSequence),
                    reason: "entry \(expectedSequence) is missing; the next stored is \(entry.sequence)")
            }
            if entry.previousHash != previousHash {
                return .tampered(sequence: entry.sequence, reason: "its previous hash does not match entry \(entry.sequence - 1)")
            }
            if AuditChain.expectedHash(of: entry) != entry.hash {
                return .tampered(sequence: entry.sequence, reason: "its hash does not match its contents")
            }
            previousHash = entry.hash
            expectedSequence += 1
            return nil
        }

        /// The verdict once every entry was checked: the chain must end at the recorded head.
        public func finish(headSequence: Int64, headHash: String) -> Verdict {
            let last = expectedSequence - 1
            guard headSequence == last, headHash == previousHash else {
                return .tampered(
                    sequence: expectedSequence,
                    reason: "the chain ends at entry \(last) but the recorded head is entry \(headSequence)")
            }
            return .intact(entries: Int(last), head: previousHash)
        }
    }
}
