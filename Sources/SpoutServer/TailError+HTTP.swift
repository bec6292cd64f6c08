import Hub

extension TailError {
    /// The HTTP error that reports this failure, given the allowed roots for messages.
    func http(roots: AllowedRoots) -> HTTPError {
        let allowed = roots.paths.joined(separator: ", ")
        switch self {
        case .noRoots:
            return HTTPError(
                403,
                "tailing_disabled",
                "no directory may be tailed: start spout with --allow-root DIR (or SPOUT_ALLOW_ROOT=DIR) to allow the files under DIR"
            )
        case .invalidPath(let message): return HTTPError(400, "invalid_path", message)
        case .invalidName: return HTTPError(400, "invalid_name", TopicCodec.nameRule)
        case .outsideRoots:
            return HTTPError(403, "outside_allowed_roots", "the path resolves outside the allowed roots (\(allowed))")
        case .notRegularFile(let path): return HTTPError(400, "not_regular_file", "\(path) is not a regular file")
        case .unreadable(let path): return HTTPError(403, "permission_denied", "\(path) may not be read by the server")
        case .missing(let path):
            return HTTPError(404, "not_found", "no file at \(path); send \"retry\": true to wait for it, as tail -F does")
        case .nameTaken(let name): return HTTPError(409, "name_taken", "the name \(name) is taken by a tail of another file")
        case .notFound(let id): return HTTPError(404, "not_found", "no tail named \(id)")
        case .tooManyTails(let limit):
            return HTTPError(409, "too_many_tails", "the server already follows its limit of \(limit) files (--max-tails)")
        case .invalidStart(let message): return HTTPError(400, "invalid_parameter", message)
        }
    }
}
