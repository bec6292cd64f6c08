import Glibc
import MicroHTTPD

/// Serves the viewer's files from one directory, and nothing outside it.
///
/// A path is resolved with `realpath` (so symlinks and `..` are followed) and served only if the result is a regular
/// file inside the directory. `/` serves `index.html`.
struct StaticFiles: Sendable {
    /// The resolved directory, or `nil` when it does not exist.
    let root: String?

    /// Serves files from `directory`.
    init(directory: String) {
        root = Self.resolve(directory)
    }

    /// The file response for `request`, `nil` when no file matches, or an error for a wrong method.
    func respond(_ request: Request) throws(HTTPError) -> Response? {
        guard let root else { return nil }
        let relative = request.path == "/" ? "/index.html" : request.path
        guard !relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }) else { return nil }
        guard let resolved = Self.resolve(root + relative), resolved.hasPrefix(root + "/") else { return nil }
        let file: OpenFile
        do {
            file = try OpenFile(path: resolved)
        } catch .outOfDescriptors {
            throw .outOfDescriptors
        } catch {
            return nil
        }
        switch request.method {
        case "GET", "HEAD": break
        case "OPTIONS": return Router.options(allow: ["GET", "HEAD", "OPTIONS"])
        default: throw .methodNotAllowed(request.method, allow: ["GET", "HEAD", "OPTIONS"])
        }
        let headers: HTTPHeaders = [
            "Content-Type": Self.contentType(of: resolved),
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": Self.contentSecurityPolicy,
            "X-Frame-Options": "DENY",
        ]
        return Response(status: 200, headers: headers, body: .file(file))
    }

    /// What the viewer's pages may do: load their own files and talk to this server only, and never be framed, so that
    /// another site cannot lay the viewer under its own page and have the user click its buttons (clickjacking). The
    /// viewer sets styles through the DOM, which `style-src 'self'` allows; its icon is a `data:` image.
    /// `X-Frame-Options` says the same to browsers that predate `frame-ancestors`.
    static let contentSecurityPolicy =
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    /// The canonical absolute path of `path`, or `nil` if it does not exist.
    static func resolve(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The media type for a file name's extension.
    static func contentType(of path: String) -> String {
        let name = path.split(separator: "/").last ?? ""
        let ext = name.contains(".") ? name.split(separator: ".").last.map { $0.lowercased() } ?? "" : ""
        switch ext {
        case "html", "htm": return "text/html; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "js", "mjs": return "text/javascript; charset=utf-8"
        case "json", "map": return "application/json; charset=utf-8"
        case "yaml", "yml": return "application/yaml; charset=utf-8"
        case "txt": return "text/plain; charset=utf-8"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "ico": return "image/x-icon"
        case "woff2": return "font/woff2"
        default: return "application/octet-stream"
        }
    }
}
