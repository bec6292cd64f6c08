// The door to libmicrohttpd (Debian's libmicrohttpd-dev 0.9.75). Only the MicroHTTPD module imports it.
// The shims below exist only because Swift cannot call C variadic functions, nor import MHD_SIZE_UNKNOWN
// (a UINT64_MAX macro). Each one forwards to exactly one libmicrohttpd function.
// <sys/epoll.h> is here because Glibc's Swift module leaves it out, and the hang-up watch needs it.
#ifndef C_MICROHTTPD_SHIM_H
#define C_MICROHTTPD_SHIM_H

// microhttpd.h needs these system headers first.
#include <stdarg.h>
#include <stdint.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/epoll.h>
#include <microhttpd.h>

/// MHD_SIZE_UNKNOWN, the size of a response whose length is not known in advance (sent chunked).
static const uint64_t CMicroHTTPD_SIZE_UNKNOWN = MHD_SIZE_UNKNOWN;

/// MHD_start_daemon() is variadic: options are passed as one MHD_OPTION_ARRAY that ends with an MHD_OPTION_END item.
static inline struct MHD_Daemon *CMicroHTTPD_start_daemon(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback policy,
                                                          void *policy_cls, MHD_AccessHandlerCallback handler,
                                                          void *handler_cls, const struct MHD_OptionItem *options) {
    return MHD_start_daemon(flags, port, policy, policy_cls, handler, handler_cls, MHD_OPTION_ARRAY, options, MHD_OPTION_END);
}

/// MHD_get_daemon_info(MHD_DAEMON_INFO_BIND_PORT) is variadic. Returns 0 when unknown.
static inline uint16_t CMicroHTTPD_bound_port(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info == NULL ? 0 : info->port;
}

/// MHD_get_daemon_info(MHD_DAEMON_INFO_CURRENT_CONNECTIONS) is variadic. Returns 0 when unknown.
static inline unsigned int CMicroHTTPD_current_connections(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return info == NULL ? 0 : info->num_connections;
}

/// MHD_get_connection_info(MHD_CONNECTION_INFO_CONNECTION_FD) is variadic. Returns -1 when unknown.
static inline int CMicroHTTPD_connection_fd(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    return info == NULL ? -1 : info->connect_fd;
}

/// MHD_get_connection_info(MHD_CONNECTION_INFO_SOCKET_CONTEXT) is variadic: the pointer the connection notification
/// callback set. Returns NULL when unknown.
static inline void *CMicroHTTPD_socket_context(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info == NULL ? NULL : info->socket_context;
}

/// MHD_set_response_options is variadic: a response sent without chunked encoding, the connection closed after it.
static inline enum MHD_Result CMicroHTTPD_set_response_unchunked(struct MHD_Response *response) {
    return MHD_set_response_options(response, MHD_RF_HTTP_1_0_COMPATIBLE_STRICT, MHD_RO_END);
}

/// MHD_set_connection_option(MHD_CONNECTION_OPTION_TIMEOUT) is variadic. Returns MHD_YES on success.
static inline enum MHD_Result CMicroHTTPD_set_connection_timeout(struct MHD_Connection *connection, unsigned int seconds) {
    return MHD_set_connection_option(connection, MHD_CONNECTION_OPTION_TIMEOUT, seconds);
}

#endif
