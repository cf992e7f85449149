/* TLS material for the HTTPS listener: a certificate and its key, either
 * read from PEM files (--tls-cert, --tls-key) or made at start
 * (--tls-self-signed) with GnuTLS. Only checks and files here; the HTTP
 * layer hands the PEM text to libmicrohttpd (http_settings.tls_cert_pem).
 *
 * Errors are values: each function fills err with a message that names the
 * flag concerned and the reason (for example "--tls-key: FILE: the key does
 * not belong to the certificate of --tls-cert"). */
#ifndef LAS_HTTP_TLS_H
#define LAS_HTTP_TLS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct tls_material {
  char *cert_pem; /* malloc'ed, NUL-terminated PEM: the chain, leaf first */
  char *key_pem;  /* malloc'ed, NUL-terminated PEM: an unencrypted key */
  char cert_path[1024];
  char key_path[1024];
  /* The leaf certificate is its own issuer: a client can trust it as its
   * own CA (REQUESTS_CA_BUNDLE=cert_path, curl --cacert). */
  bool self_signed;
  /* tls_self_signed: true when the files were made by this start, false
   * when earlier ones were still good and were reused. */
  bool made;
} tls_material;

/* Reads and checks a certificate file (PEM, one or more certificates, the
 * server's first) and its key file (PEM, not encrypted): both must parse
 * and the key must be the certificate's. A certificate outside its validity
 * period is accepted with a warning in the log (clients will refuse it). */
bool tls_load(const char *cert_path, const char *key_path, tls_material *out,
              char *err, size_t errlen);

/* The self-signed certificate of --tls-self-signed, kept in
 * `<base>-cert.pem` and `<base>-key.pem` (the key file mode 0600). When
 * both exist, are this emulator's (self-signed, key matching, names
 * localhost, 127.0.0.1 and ::1) and are valid for at least another day,
 * they are reused, so that clients that trust the certificate keep
 * trusting it across restarts; otherwise a new ECDSA P-256 key and a
 * certificate valid for 825 days (CN and DNS name localhost, IP addresses
 * 127.0.0.1 and ::1, usable as its own CA) replace them. */
bool tls_self_signed(const char *base, tls_material *out, char *err,
                     size_t errlen);

/* Called for each new connection of an HTTPS listener with its GnuTLS
 * session (gnutls_session_t) before the handshake: when the first bytes
 * are a plain HTTP request instead of a TLS handshake, the client is
 * answered in plain HTTP, 400 {"message"} saying the port serves HTTPS,
 * and the handshake fails (the connection closes). Everything after the
 * first look goes straight to the socket. */
void tls_answer_plain_http(void *session);

/* Frees the PEM text (out of a failed call too); the files stay. */
void tls_material_free(tls_material *m);

#endif
