/* Connection guard: no client can hold the server's capacity.
 *
 * libmicrohttpd 0.9.75 only knows an idle timeout, which every received
 * byte restarts, and a hard connection limit that silently closes new
 * connections. The guard adds, per connection:
 *   - a deadline for the request head (line and header fields): it starts
 *     when the first bytes of a request are seen and is
 *     header_timeout_ms long;
 *   - a deadline for the body, body_timeout_ms from the end of the head;
 *   - a global limit (max_connections) and a per-address limit
 *     (max_per_address, 0: none): a new connection over either first drops
 *     the oldest idle connection (of that address, for the per-address
 *     limit); when none is idle the new connection is answered 503 and shut.
 * A request that misses a deadline is answered 408 and its socket is shut
 * down (never closed: libmicrohttpd owns the descriptor and closes it).
 *
 * Idle or trickling? Before a request's head is complete libmicrohttpd
 * calls nothing, so an idle connection is checked every header_timeout_ms by
 * the sweeper thread with getsockopt(TCP_INFO): when tcpi_bytes_received
 * grew since the last look, a request has started and its head deadline
 * runs from then. A head that trickles is therefore cut off between one and
 * two header timeouts after its first byte (two to three on a kept-alive
 * connection or one of a TLS listener, whose first look only takes the
 * baseline: there the handshake comes first); one that arrives
 * whole is never touched. The request path costs one uncontended mutex per
 * transition (the lists are sharded per server thread) and no system call.
 *
 * Threads: guard_open/close and the request transitions are called from
 * the libmicrohttpd thread that serves the connection; the sweeper is the
 * guard's own thread, sleeping until the earliest deadline. A descriptor is
 * only shut down while the connection is registered, under a lock that
 * guard_close also takes, and libmicrohttpd calls guard_close before it
 * closes the descriptor (MHD_CONNECTION_NOTIFY_CLOSED), so a reused
 * descriptor is never touched. */
#ifndef LAS_HTTP_GUARD_H
#define LAS_HTTP_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

typedef struct guard_settings {
  unsigned header_timeout_ms; /* > 0 */
  unsigned body_timeout_ms;   /* > 0 */
  unsigned max_connections;   /* > 0 */
  unsigned max_per_address;   /* 0: no per-address limit */
  unsigned shards;            /* server threads; transitions are sharded */
  bool tls; /* a TLS listener: cut off without the 408/503 answer */
} guard_settings;

typedef struct guard guard;
typedef struct guard_conn guard_conn;

/* Starts the sweeper thread; NULL with a reason in err on failure. */
guard *guard_start(const guard_settings *settings, char *err, size_t errlen);
/* Stops the sweeper. Every connection must have been closed before. */
void guard_stop(guard *g);

/* A connection was accepted on fd from addr. Returns its record (NULL only
 * when out of memory). When the server or the address is full and nothing
 * idle can be dropped, the client has been answered 503 and the socket
 * shut down; the record must still be passed to guard_close. */
guard_conn *guard_open(guard *g, int fd, const struct sockaddr *addr);
/* The connection is closing; called before its descriptor is closed.
 * Frees conn (NULL is ignored). */
void guard_close(guard *g, guard_conn *conn);

/* The head of a request is complete; body_expected: a body follows (its
 * deadline starts). False when the guard has already cut the connection
 * off: the caller must not answer. */
bool guard_head_done(guard *g, guard_conn *conn, bool body_expected);
/* The body is complete. False when the guard already cut it off. */
bool guard_body_done(guard *g, guard_conn *conn);
/* The response has been sent; the connection waits for the next request. */
void guard_idle(guard *g, guard_conn *conn);

#endif
