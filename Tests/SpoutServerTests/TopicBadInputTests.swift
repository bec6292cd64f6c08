import JSON
import SpoutServer
import TestSupport
import Testing

@Suite("Topics: every bad input gets its status and error body", .serialized, .timeLimit(.minutes(3)))
struct TopicBadInputTests {
    private func expectError(
        _ reply: JSONReply,
        _ status: Int,
        _ code: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(reply.status == status, "\(reply.response.text)", sourceLocation: sourceLocation)
        #expect(reply.errorCode == code, "\(reply.response.text)", sourceLocation: sourceLocation)
        #expect(reply.response.header("Content-Type") == "application/json; charset=utf-8", sourceLocation: sourceLocation)
        let message = reply.json?["error"]?["message"]?.stringValue ?? ""
        #expect(!message.isEmpty, sourceLocation: sourceLocation)
    }

    @Test func createRefusesBadBodies() throws {
        let configuration = ServerConfiguration.testing { $0.maxBodyBytes = 4096 }
        try withServer(configuration) { port in
            let cases: [(String, Int, String)] = [
                (#"{"name":"a..b"}"#, 400, "invalid_name"),
                (#"{"name":""}"#, 400, "invalid_name"),
                (#"{"name":"\#(String(repeating: "x", count: 129))"}"#, 400, "invalid_name"),
                (#"{"name":"a b"}"#, 400, "invalid_name"),
                (#"{"retention":{"messages":5}}"#, 400, "missing_field"),
                (#"{"name":7}"#, 400, "invalid_field"),
                (#"{"name":"ok","policy":"sometimes"}"#, 400, "invalid_field"),
                (#"{"name":"ok","retention":{"messages":0}}"#, 400, "invalid_field"),
                (#"{"name":"ok","retention":{"messages":"many"}}"#, 400, "invalid_field"),
                (#"{"name":"ok","retention":[]}"#, 400, "invalid_field"),
                (#"{"name":"ok","retention":{"messages":5},"queue":{"messages":6}}"#, 400, "invalid_settings"),
                (#"{"name":"ok","retention":{"weeks":1}}"#, 400, "unknown_field"),
                (#"{"name":"ok","colour":"red"}"#, 400, "unknown_field"),
                (#"{"name":"ok""#, 400, "invalid_json"),
                (#"["ok"]"#, 400, "invalid_request"),
                ("", 400, "invalid_json"),
            ]
            for (body, status, code) in cases {
                expectError(try call(port, "POST", "/topics", json: body), status, code)
            }
            #expect(try call(port, "GET", "/topics")["topics"] == .array([]))
        }
    }

    @Test func createRefusesOtherMediaTypesInvalidUTF8AndOversizeBodies() throws {
        let configuration = ServerConfiguration.testing { $0.maxBodyBytes = 4096 }
        try withServer(configuration) { port in
            expectError(try call(port, "POST", "/topics", json: #"{"name":"x"}"#, contentType: "text/plain"), 415, "unsupported_media_type")
            expectError(try call(port, "POST", "/topics", json: #"{"name":"x"}"#, contentType: "application/xml"), 415, "unsupported_media_type")
            let invalid = try request(
                port: port,
                "POST",
                "/topics",
                headers: [("Content-Type", "application/json")],
                body: Array(#"{"name":""#.utf8) + [0xFF, 0xFE] + Array(#""}"#.utf8)
            )
            #expect(invalid.status == 400)
            #expect(invalid.text.contains("invalid_utf8"), "\(invalid.text)")
            let big = #"{"name":"x","pad":""# + String(repeating: "p", count: 5000) + #""}"#
            expectError(try call(port, "POST", "/topics", json: big), 413, "payload_too_large")
        }
    }

    @Test func createConflictsWithOtherSettings() throws {
        try withServer { port in
            #expect(try call(port, "POST", "/topics", json: #"{"name":"c","policy":"block"}"#).status == 201)
            #expect(try call(port, "POST", "/topics", json: #"{"name":"c","policy":"block"}"#).status == 200)
            expectError(try call(port, "POST", "/topics", json: #"{"name":"c"}"#), 409, "conflict")
        }
    }

    @Test func createStopsAtTheTopicLimit() throws {
        let configuration = ServerConfiguration.testing { $0.maxTopics = 3 }
        try withServer(configuration) { port in
            #expect(try call(port, "POST", "/topics", json: #"{"name":"a.b"}"#).status == 201)
            // Three more with its ancestors, where one is left: the message said the limit was reached.
            let deep = try call(port, "POST", "/topics", json: #"{"name":"m.n.o"}"#)
            expectError(deep, 409, "too_many_topics")
            #expect(deep.json?["error"]?["message"]?.stringValue?.contains("would make 3 topics") == true, "\(deep.response.text)")
            #expect(try call(port, "POST", "/topics", json: #"{"name":"c"}"#).status == 201)
            let full = try call(port, "POST", "/topics", json: #"{"name":"d"}"#)
            expectError(full, 409, "too_many_topics")
            #expect(full.json?["error"]?["message"]?.stringValue?.contains("already has its limit of 3") == true)
        }
    }

    @Test func invalidNamesInThePathAre400() throws {
        try withServer { port in
            for path in ["/topics/a..b", "/topics/.a", "/topics/a%20b", "/topics/a.b./events", "/topics/a*b/messages"] {
                let method = path.hasSuffix("messages") ? "POST" : "GET"
                expectError(try call(port, method, path, json: method == "POST" ? "x" : nil, contentType: "text/plain"), 400, "invalid_name")
            }
        }
    }

    @Test func unknownTopicsAre404() throws {
        try withServer { port in
            expectError(try call(port, "GET", "/topics/nope"), 404, "not_found")
            expectError(try call(port, "DELETE", "/topics/nope"), 404, "not_found")
            expectError(try call(port, "POST", "/topics/nope/messages", json: "x", contentType: "text/plain"), 404, "not_found")
            expectError(try call(port, "GET", "/topics/nope/events"), 404, "not_found")
        }
    }

    @Test func publishRefusesBadBodiesAndPublishesNothing() throws {
        let configuration = ServerConfiguration.testing { $0.maxBodyBytes = 4096 }
        try withServer(configuration) { port in
            try createTopic(port, #"{"name":"pub"}"#)
            let cases: [(String, String, Int, String)] = [
                ("application/json", #"{"event":"x"}"#, 400, "missing_field"),
                ("application/json", #"{"data":"x","event":"gap"}"#, 400, "invalid_event_type"),
                ("application/json", #"{"data":"x","event":"end"}"#, 400, "invalid_event_type"),
                ("application/json", #"{"data":"x","event":"spout.internal"}"#, 400, "invalid_event_type"),
                ("application/json", #"{"data":"x","event":"a\nb"}"#, 400, "invalid_event_type"),
                ("application/json", #"{"data":"x","event":"\#(String(repeating: "é", count: 129))"}"#, 400, "invalid_event_type"),
                ("application/json", #"{"data":"x","event":7}"#, 400, "invalid_field"),
                ("application/json", #"{"data":"x","extra":1}"#, 400, "unknown_field"),
                ("application/json", #"[]"#, 400, "invalid_request"),
                ("application/json", #"[{"data":"fine"},{"event":"no data"}]"#, 400, "missing_field"),
                ("application/json", #"{"data":"#, 400, "invalid_json"),
                ("application/json", "7", 400, "invalid_request"),
                ("application/xml", "<x/>", 415, "unsupported_media_type"),
                ("text/plain; charset=latin1", "x", 415, "unsupported_media_type"),
                // Two charsets that disagree were read by the first.
                ("text/plain; charset=utf-8; charset=latin1", "x", 415, "unsupported_media_type"),
            ]
            for (type, body, status, code) in cases {
                expectError(try call(port, "POST", "/topics/pub/messages", json: body, contentType: type), status, code)
            }
            let invalid = try request(
                port: port, "POST", "/topics/pub/messages", headers: [("Content-Type", "text/plain")], body: [0x61, 0xC3, 0x28])
            #expect(invalid.status == 400)
            #expect(invalid.text.contains("invalid_utf8"), "\(invalid.text)")
            // US-ASCII text is UTF-8 as it is: it was refused with 415.
            #expect(try call(port, "POST", "/topics/pub/messages", json: "x", contentType: "text/plain; charset=US-ASCII").status == 201)
            let big = String(repeating: "p", count: 5000)
            expectError(try call(port, "POST", "/topics/pub/messages", json: big, contentType: "text/plain"), 413, "payload_too_large")
            #expect(try call(port, "GET", "/topics/pub")["published"] == .integer(1))
            // 128 characters are allowed, however many bytes they take.
            let long = try call(port, "POST", "/topics/pub/messages", json: #"{"data":"x","event":"\#(String(repeating: "é", count: 128))"}"#)
            #expect(long.status == 201)
        }
    }

    @Test func subscribeRefusesBadParameters() throws {
        try withServer { port in
            try createTopic(port, #"{"name":"sub"}"#)
            for query in ["format=xml", "backlog=-1", "backlog=lots", "backlog=1000001"] {
                expectError(try call(port, "GET", "/topics/sub/events?\(query)"), 400, "invalid_parameter")
                // A resume id does not excuse a bad parameter.
                expectError(try call(port, "GET", "/topics/sub/events?\(query)", headers: [("Last-Event-ID", "x")]), 400, "invalid_parameter")
            }
        }
    }

    @Test func wrongMethodsAre405WithAllow() throws {
        try withServer { port in
            try createTopic(port, #"{"name":"m"}"#)
            let cases: [(String, String, String)] = [
                ("PUT", "/topics", "GET, HEAD, OPTIONS, POST"),
                ("PATCH", "/topics/m", "DELETE, GET, HEAD, OPTIONS"),
                ("DELETE", "/topics/m/messages", "GET, HEAD, OPTIONS, POST"),
                ("POST", "/topics/m/events", "GET, HEAD, OPTIONS"),
            ]
            for (method, path, allow) in cases {
                let reply = try call(port, method, path, json: "{}")
                expectError(reply, 405, "method_not_allowed")
                #expect(reply.response.header("Allow") == allow)
                let options = try request(port: port, "OPTIONS", path)
                #expect(options.status == 204)
                #expect(options.header("Allow") == allow)
            }
        }
    }
}
