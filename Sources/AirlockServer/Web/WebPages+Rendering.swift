import Mustache

// The values of the pages with the most rows (a run's samples, a transcript's messages) name
// their fields to the templates directly: swift-mustache otherwise reflects a value for each
// name it looks up (and for a missing one, every value around it), which made rendering a
// hundred rows cost many times the queries behind them.

extension WebPages.Frame: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "title": title
        case "user": user
        case "organisation": organisation
        case "formToken": formToken
        case "office": office
        default: nil
        }
    }
}

extension WebPages.Option: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "value": value
        case "label": label
        case "selected": selected
        default: nil
        }
    }
}

extension WebPages.SampleRow: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "sampleId": sampleId
        case "epoch": epoch
        case "status": status
        case "score": score
        case "cause": cause
        case "worker": worker
        case "calls": calls
        case "link": link
        default: nil
        }
    }
}

extension WebPages.SamplesPage: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "frame": frame
        case "runId": runId
        case "runName": runName
        case "statuses": statuses
        case "causes": causes
        case "scorers": scorers
        case "fields": fields
        case "orders": orders
        case "epoch": epoch
        case "scoreMinimum": scoreMinimum
        case "scoreMaximum": scoreMaximum
        case "value": value
        case "text": text
        case "scorer": scorer
        case "hasCauses": hasCauses
        case "hasScorers": hasScorers
        case "hasFields": hasFields
        case "filtered": filtered
        case "rows": rows
        case "next": next
        case "first": first
        case "download": download
        case "empty": empty
        default: nil
        }
    }
}

extension WebPages.MessageRow: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "number": number
        case "role": role
        case "tool": tool
        case "text": text
        case "rest": rest
        case "toolCalls": toolCalls
        default: nil
        }
    }
}

extension WebPages.ToolCallRow: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "name": self.name
        case "arguments": arguments
        default: nil
        }
    }
}

extension WebPages.MessageChunk: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "start": start
        case "messages": messages
        case "earlier": earlier
        case "later": later
        case "laterCount": laterCount
        default: nil
        }
    }
}

extension WebPages.TranscriptPage: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "frame": frame
        case "runId": runId
        case "runName": runName
        case "sampleId": sampleId
        case "epoch": epoch
        case "status": status
        case "failure": failure
        case "facts": facts
        case "chunk": chunk
        case "messageCount": messageCount
        case "scores": scores
        case "calls": calls
        case "hasScores": hasScores
        case "hasCalls": hasCalls
        case "fileFinding": fileFinding
        default: nil
        }
    }
}
