// The door to GnuTLS, for spout-bench's HTTPS client only; only the BenchTLS module imports it. GnuTLS comes with
// libmicrohttpd-dev (it is libmicrohttpd's TLS stack), so the benchmark's client adds no package to the build.
// The shim exists because gnutls_transport_set_int is a macro, which Swift cannot call.
#ifndef C_GNUTLS_SHIM_H
#define C_GNUTLS_SHIM_H

#include <gnutls/gnutls.h>

/// gnutls_transport_set_int(session, fd): the session reads and writes the socket `fd`.
static inline void CGnuTLS_set_socket(gnutls_session_t session, int fd) { gnutls_transport_set_int2(session, fd, fd); }

#endif
