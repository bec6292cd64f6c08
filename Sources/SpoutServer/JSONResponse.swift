import JSON
import MicroHTTPD

/// JSON responses.
enum JSONResponse {
    /// A response with a JSON body and `Content-Type: application/json; charset=utf-8`.
    static func make(_ status: Int, _ body: JSONValue, headers: HTTPHeaders = [:]) -> Response {
        Response(status: status, contentType: "application/json; charset=utf-8", bytes: body.encoded, headers: headers)
    }
}
