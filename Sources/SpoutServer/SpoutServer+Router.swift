import Glibc
import JSON
import Logging
import MicroHTTPD
import Store

extension SpoutServer {
    /// The router of the server's own routes (health, the OpenAPI document, the viewer's files, the session) with its
    /// browser guard, CORS, tokens and access log; the hub's and tails' routes are installed into it after.
    static func router(configuration: ServerConfiguration, store: DataStore?, logger: Logger) -> Router {
        var router = Router()
        let files = StaticFiles(directory: configuration.publicDirectory)
        let openAPIFile = configuration.openAPIFile
        router.on("GET", "/healthz", open: true) { _, _, _ in
            // A store that can keep nothing more is mended only by a restart: a health check should say so.
            if let reason = store?.brokenReason {
                let error = JSONValue.object([("code", .string("store_unavailable")), ("message", .string(reason))])
                return JSONResponse.make(503, .object([("status", .string("failing")), ("error", error)]))
            }
            return Response(status: 200, contentType: "application/json; charset=utf-8", text: #"{"status":"ok"}"#)
        }
        // API.md: with tokens, every route but /healthz needs one; the document too (any valid token, no grant).
        router.on("GET", "/openapi.yaml") { _, _, _ in
            let file: OpenFile
            do throws(OpenFile.Failure) {
                file = try OpenFile(path: openAPIFile)
            } catch {
                guard error != .outOfDescriptors else { throw HTTPError.outOfDescriptors }
                throw HTTPError(404, "not_found", "the OpenAPI document is not installed at \(openAPIFile)")
            }
            return Response(status: 200, headers: ["Content-Type": "application/yaml; charset=utf-8"], body: .file(file))
        }
        router.fallback = { request throws(HTTPError) in try files.respond(request) }
        router.cors = CORSPolicy(origins: configuration.corsOrigins)
        router.browserGuard = BrowserGuard(
            bind: configuration.host, allowedHosts: configuration.allowedHosts, corsOrigins: configuration.corsOrigins,
            tls: configuration.tls != nil)
        router.access = Access(verifier: configuration.tokens)
        router.access.cookies = router.browserGuard
        SessionRoute(access: router.access, secure: configuration.tls != nil, connectionMemory: configuration.connectionMemory)
            .install(into: &router)
        // Only when it is written: a deferred answer is watched for its status (see `Router.finished`).
        if logger.logLevel <= .debug {
            router.observe = { request, status in
                logger.debug("\(request.method) \(Self.loggable(request)) \(status)")
            }
        }
        let refusals = PeriodicNotice(period: .seconds(60))
        router.connectionRefused = {
            guard let count = refusals.due() else { return }
            let what = count == 1 ? "a client" : "\(count) clients since the last notice"
            logger.warning("\(what) connected past the connection limit and got 503 busy: raise --max-connections (or the open-file limit)")
        }
        if files.root == nil {
            logger.warning("public directory \(configuration.publicDirectory) not found: the viewer is not served")
        }
        if Glibc.access(configuration.openAPIFile, R_OK) != 0 {
            logger.warning("OpenAPI document \(configuration.openAPIFile) not found: /openapi.yaml answers 404")
        }
        return router
    }

    /// The path and query of a request for the access log, with any `access_token` (in any case) replaced by `…`:
    /// tokens are never logged. Control characters, and the escape and backslash characters, are written as `\u{…}`:
    /// a client could otherwise forge log lines (a line break in a decoded path) or send a terminal escape codes.
    static func loggable(_ request: Request) -> String {
        let query = request.query.map { argument in
            argument.name.lowercased() == "access_token" ? "access_token=…" : argument.name + (argument.value.map { "=" + $0 } ?? "")
        }
        return printable(request.path + (query.isEmpty ? "" : "?" + query.joined(separator: "&")))
    }

    /// `text` with its control characters (C0, DEL, C1) and backslashes escaped as `\u{…}`.
    static func printable(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0 == "\\" }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\\" {
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
