#include "http/tls.h"

#include "core/errors.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A PEM file larger than this is not a certificate chain or a key. */
enum { TLS_MAX_FILE = 1 << 20 };
/* 825 days: the longest validity Apple's platforms accept for a TLS server
 * certificate, even one from a private CA. */
static const time_t tls_validity_s = (time_t)825 * 24 * 3600;
/* A reused certificate must stay valid at least this long. */
static const time_t tls_margin_s = 24 * 3600;

/* Reads a whole file as NUL-terminated text; NULL with err set. */
static char *tls_read_file(const char *flag, const char *path, char *err,
                           size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, errlen, "%s: %s: %s", flag, path, strerror(errno));
    return NULL;
  }
  char *buf = malloc(TLS_MAX_FILE + 1);
  size_t n = buf ? fread(buf, 1, TLS_MAX_FILE + 1, f) : 0;
  bool bad = ferror(f) != 0;
  fclose(f);
  if (!buf || bad || n == 0 || n > TLS_MAX_FILE) {
    snprintf(err, errlen, "%s: %s: %s", flag, path,
             !buf  ? "out of memory"
             : bad ? "cannot be read"
             : n   ? "larger than 1 MiB, not a PEM file"
                   : "empty, not a PEM file");
    free(buf);
    return NULL;
  }
  buf[n] = '\0';
  if (strlen(buf) != n) {
    snprintf(err, errlen, "%s: %s: holds a NUL byte, not a PEM file", flag,
             path);
    free(buf);
    return NULL;
  }
  char *fit = realloc(buf, n + 1); /* it is kept while the server runs */
  return fit ? fit : buf;
}

static gnutls_datum_t tls_datum(const char *text) {
  gnutls_datum_t d = {(unsigned char *)(uintptr_t)text,
                      (unsigned int)strlen(text)};
  return d;
}

/* What was read and parsed of a certificate and a key. */
typedef struct {
  gnutls_x509_crt_t *crts;
  unsigned n_crts;
  gnutls_x509_privkey_t key;
} tls_parsed;

static void tls_parsed_free(tls_parsed *p) {
  for (unsigned i = 0; i < p->n_crts; i++)
    gnutls_x509_crt_deinit(p->crts[i]);
  gnutls_free(p->crts);
  if (p->key)
    gnutls_x509_privkey_deinit(p->key);
  memset(p, 0, sizeof *p);
}

/* Parses both and checks that they belong together, as libmicrohttpd will
 * need them: each failure names its flag. */
static bool tls_parse(const char *cert_flag, const char *key_flag,
                      const tls_material *m, tls_parsed *p, char *err,
                      size_t errlen) {
  memset(p, 0, sizeof *p);
  gnutls_datum_t cert = tls_datum(m->cert_pem);
  int rc = gnutls_x509_crt_list_import2(&p->crts, &p->n_crts, &cert,
                                        GNUTLS_X509_FMT_PEM, 0);
  if (rc < 0 || p->n_crts == 0) {
    snprintf(err, errlen,
             "%s: %s: not a PEM certificate (-----BEGIN CERTIFICATE-----): %s",
             cert_flag, m->cert_path,
             rc < 0 ? gnutls_strerror(rc) : "no certificate found");
    p->n_crts = 0;
    return false;
  }
  gnutls_datum_t key = tls_datum(m->key_pem);
  if (gnutls_x509_privkey_init(&p->key) < 0) {
    p->key = NULL;
    snprintf(err, errlen, "%s: out of memory", key_flag);
    return false;
  }
  rc = gnutls_x509_privkey_import2(p->key, &key, GNUTLS_X509_FMT_PEM, NULL,
                                   GNUTLS_PKCS_PLAIN);
  if (rc < 0) {
    snprintf(err, errlen,
             "%s: %s: not an unencrypted PEM private key "
             "(-----BEGIN PRIVATE KEY-----): %s",
             key_flag, m->key_path, gnutls_strerror(rc));
    return false;
  }
  unsigned char cert_id[64], key_id[64];
  size_t cert_id_len = sizeof cert_id, key_id_len = sizeof key_id;
  if (gnutls_x509_crt_get_key_id(p->crts[0], 0, cert_id, &cert_id_len) < 0 ||
      gnutls_x509_privkey_get_key_id(p->key, 0, key_id, &key_id_len) < 0 ||
      cert_id_len != key_id_len || memcmp(cert_id, key_id, cert_id_len) != 0) {
    snprintf(err, errlen,
             "%s: %s: the key does not belong to the certificate of %s (%s)",
             key_flag, m->key_path, cert_flag, m->cert_path);
    return false;
  }
  /* The same call libmicrohttpd makes: what it would refuse, refused here
   * with the flags' names. */
  gnutls_certificate_credentials_t cred;
  if (gnutls_certificate_allocate_credentials(&cred) < 0) {
    snprintf(err, errlen, "%s: out of memory", cert_flag);
    return false;
  }
  rc = gnutls_certificate_set_x509_key_mem(cred, &cert, &key,
                                           GNUTLS_X509_FMT_PEM);
  gnutls_certificate_free_credentials(cred);
  if (rc < 0) {
    snprintf(err, errlen, "%s %s / %s %s: GnuTLS refuses them: %s", cert_flag,
             m->cert_path, key_flag, m->key_path, gnutls_strerror(rc));
    return false;
  }
  return true;
}

static bool tls_is_self_signed(gnutls_x509_crt_t crt) {
  return gnutls_x509_crt_check_issuer(crt, crt) != 0;
}

/* Reads both files into out and parses them into p (freed by the caller
 * with tls_parsed_free, also on failure); messages name these flags. */
static bool tls_read_parse(const char *cert_flag, const char *key_flag,
                           tls_material *out, tls_parsed *p, char *err,
                           size_t errlen) {
  memset(p, 0, sizeof *p);
  out->cert_pem = tls_read_file(cert_flag, out->cert_path, err, errlen);
  if (!out->cert_pem)
    return false;
  out->key_pem = tls_read_file(key_flag, out->key_path, err, errlen);
  if (!out->key_pem)
    return false;
  if (!tls_parse(cert_flag, key_flag, out, p, err, errlen))
    return false;
  out->self_signed = tls_is_self_signed(p->crts[0]);
  return true;
}

/* The printed paths (REQUESTS_CA_BUNDLE, the commands of docker
 * transitions) are used from other folders: made absolute once the files
 * are known to exist. */
static void tls_absolute(tls_material *m) {
  char abs[PATH_MAX];
  if (realpath(m->cert_path, abs) && strlen(abs) < sizeof m->cert_path)
    memcpy(m->cert_path, abs, strlen(abs) + 1);
  if (realpath(m->key_path, abs) && strlen(abs) < sizeof m->key_path)
    memcpy(m->key_path, abs, strlen(abs) + 1);
}

bool tls_load(const char *cert_path, const char *key_path, tls_material *out,
              char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  snprintf(out->cert_path, sizeof out->cert_path, "%s", cert_path);
  snprintf(out->key_path, sizeof out->key_path, "%s", key_path);
  tls_parsed p;
  bool ok = tls_read_parse("--tls-cert", "--tls-key", out, &p, err, errlen);
  if (ok) {
    time_t now = time(NULL);
    time_t from = gnutls_x509_crt_get_activation_time(p.crts[0]);
    time_t until = gnutls_x509_crt_get_expiration_time(p.crts[0]);
    if (from != (time_t)-1 && until != (time_t)-1 &&
        (now < from || now > until))
      log_msg(LOG_WARN,
              "--tls-cert %s is not valid now (%s): clients will refuse it",
              cert_path, now < from ? "not yet valid" : "expired");
  }
  tls_parsed_free(&p);
  if (ok)
    tls_absolute(out);
  return ok;
}

/* The names every local client uses: localhost, 127.0.0.1 and ::1. */
static bool tls_names_local(gnutls_x509_crt_t crt) {
  static const unsigned char v4[4] = {127, 0, 0, 1};
  static const unsigned char v6[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                       0, 0, 0, 0, 0, 0, 0, 1};
  bool dns = false, ip4 = false, ip6 = false;
  for (unsigned i = 0;; i++) {
    unsigned char buf[256];
    size_t len = sizeof buf;
    unsigned critical = 0;
    int type =
        gnutls_x509_crt_get_subject_alt_name(crt, i, buf, &len, &critical);
    if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
      break;
    if (type == GNUTLS_SAN_DNSNAME && len == 9 &&
        memcmp(buf, "localhost", 9) == 0)
      dns = true;
    else if (type == GNUTLS_SAN_IPADDRESS && len == 4 &&
             memcmp(buf, v4, 4) == 0)
      ip4 = true;
    else if (type == GNUTLS_SAN_IPADDRESS && len == 16 &&
             memcmp(buf, v6, 16) == 0)
      ip6 = true;
  }
  return dns && ip4 && ip6;
}

/* The earlier files, when they are still good for another day. */
static bool tls_reuse(tls_material *m) {
  if (access(m->cert_path, F_OK) != 0 || access(m->key_path, F_OK) != 0)
    return false;
  char err[1400];
  tls_parsed p;
  bool ok = tls_read_parse("--tls-self-signed", "--tls-self-signed", m, &p, err,
                           sizeof err);
  if (ok) {
    time_t now = time(NULL);
    ok = m->self_signed && p.n_crts == 1 && tls_names_local(p.crts[0]) &&
         gnutls_x509_crt_get_activation_time(p.crts[0]) <= now &&
         gnutls_x509_crt_get_expiration_time(p.crts[0]) > now + tls_margin_s;
    if (!ok)
      snprintf(err, sizeof err,
               "--tls-self-signed: %s is not a self-signed certificate for "
               "localhost, 127.0.0.1 and ::1 valid for another day",
               m->cert_path);
  }
  tls_parsed_free(&p);
  if (!ok) {
    log_msg(LOG_WARN, "%s; making a new one", err);
    tls_material_free(m);
    m->self_signed = false;
  }
  return ok;
}

/* Writes text to path through a temporary file renamed over it, so a
 * reader never sees half a file. */
static bool tls_write_file(const char *path, const gnutls_datum_t *d,
                           mode_t mode, char *err, size_t errlen) {
  char tmp[1100];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    snprintf(err, errlen, "--tls-self-signed: cannot write %s: %s", tmp,
             strerror(errno));
    return false;
  }
  bool ok = fchmod(fd, mode) == 0;
  size_t done = 0;
  while (ok && done < d->size) {
    ssize_t n = write(fd, d->data + done, d->size - done);
    if (n < 0 && errno == EINTR)
      continue;
    ok = n > 0;
    if (ok)
      done += (size_t)n;
  }
  ok = ok && fsync(fd) == 0;
  ok = close(fd) == 0 && ok;
  if (!ok || rename(tmp, path) != 0) {
    snprintf(err, errlen, "--tls-self-signed: cannot write %s: %s", path,
             strerror(errno));
    unlink(tmp);
    return false;
  }
  return true;
}

static char *tls_dup_datum(const gnutls_datum_t *d) {
  char *s = malloc((size_t)d->size + 1);
  if (s) {
    memcpy(s, d->data, d->size);
    s[d->size] = '\0';
  }
  return s;
}

#define TLS_TRY(call)                                                          \
  do {                                                                         \
    rc = (call);                                                               \
    if (rc < 0)                                                                \
      goto done;                                                               \
  } while (0)

/* A new key and certificate (see tls.h), written to m's paths. */
static bool tls_make(tls_material *m, char *err, size_t errlen) {
  static const unsigned char v4[4] = {127, 0, 0, 1};
  static const unsigned char v6[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                       0, 0, 0, 0, 0, 0, 0, 1};
  gnutls_x509_privkey_t key = NULL;
  gnutls_x509_crt_t crt = NULL;
  gnutls_privkey_t signer = NULL;
  gnutls_datum_t cert_pem = {NULL, 0}, key_pem = {NULL, 0};
  unsigned char serial[16], key_id[64];
  size_t key_id_len = sizeof key_id;
  time_t now = time(NULL);
  bool ok = false;
  int rc;
  TLS_TRY(gnutls_x509_privkey_init(&key));
  TLS_TRY(gnutls_x509_privkey_generate(
      key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1),
      0));
  TLS_TRY(gnutls_x509_crt_init(&crt));
  TLS_TRY(gnutls_x509_crt_set_version(crt, 3));
  TLS_TRY(gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof serial));
  serial[0] &= 0x7f; /* a positive INTEGER */
  serial[0] |= 0x01; /* of the full length */
  TLS_TRY(gnutls_x509_crt_set_serial(crt, serial, sizeof serial));
  /* An hour back: a client whose clock is a little behind accepts it. */
  TLS_TRY(gnutls_x509_crt_set_activation_time(crt, now - 3600));
  TLS_TRY(gnutls_x509_crt_set_expiration_time(crt, now + tls_validity_s));
  TLS_TRY(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
                                        "localhost", 9));
  TLS_TRY(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME,
                                        0, "las-emulator", 12));
  TLS_TRY(gnutls_x509_crt_set_subject_alt_name(
      crt, GNUTLS_SAN_DNSNAME, "localhost", 9, GNUTLS_FSAN_APPEND));
  TLS_TRY(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, v4,
                                               sizeof v4, GNUTLS_FSAN_APPEND));
  TLS_TRY(gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, v6,
                                               sizeof v6, GNUTLS_FSAN_APPEND));
  /* Its own CA, like `openssl req -x509`: trusted through a CA file
   * (REQUESTS_CA_BUNDLE, curl --cacert), it anchors itself. */
  TLS_TRY(gnutls_x509_crt_set_basic_constraints(crt, 1, 0));
  TLS_TRY(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE |
                                                 GNUTLS_KEY_KEY_CERT_SIGN));
  TLS_TRY(
      gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0));
  TLS_TRY(gnutls_x509_crt_set_key(crt, key));
  TLS_TRY(gnutls_x509_crt_get_key_id(crt, 0, key_id, &key_id_len));
  TLS_TRY(gnutls_x509_crt_set_subject_key_id(crt, key_id, key_id_len));
  TLS_TRY(gnutls_x509_crt_set_authority_key_id(crt, key_id, key_id_len));
  TLS_TRY(gnutls_privkey_init(&signer));
  TLS_TRY(gnutls_privkey_import_x509(signer, key, 0));
  TLS_TRY(gnutls_x509_crt_privkey_sign(crt, crt, signer, GNUTLS_DIG_SHA256, 0));
  TLS_TRY(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cert_pem));
  TLS_TRY(gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL,
                                            GNUTLS_PKCS_PLAIN, &key_pem));
  rc = 0;
  /* The key first: a certificate is never there without its key. */
  if (!tls_write_file(m->key_path, &key_pem, 0600, err, errlen) ||
      !tls_write_file(m->cert_path, &cert_pem, 0644, err, errlen))
    goto done;
  m->cert_pem = tls_dup_datum(&cert_pem);
  m->key_pem = tls_dup_datum(&key_pem);
  if (!m->cert_pem || !m->key_pem) {
    snprintf(err, errlen, "--tls-self-signed: out of memory");
    goto done;
  }
  m->self_signed = true;
  m->made = true;
  ok = true;
done:
  if (rc < 0)
    snprintf(err, errlen, "--tls-self-signed: GnuTLS: %s", gnutls_strerror(rc));
  if (key_pem.data) {
    gnutls_memset(key_pem.data, 0, key_pem.size);
    gnutls_free(key_pem.data);
  }
  gnutls_free(cert_pem.data);
  if (signer)
    gnutls_privkey_deinit(signer);
  if (crt)
    gnutls_x509_crt_deinit(crt);
  if (key)
    gnutls_x509_privkey_deinit(key);
  return ok;
}

bool tls_self_signed(const char *base, tls_material *out, char *err,
                     size_t errlen) {
  memset(out, 0, sizeof *out);
  int a = snprintf(out->cert_path, sizeof out->cert_path, "%s-cert.pem", base);
  int b = snprintf(out->key_path, sizeof out->key_path, "%s-key.pem", base);
  if (a < 0 || b < 0 || (size_t)a >= sizeof out->cert_path ||
      (size_t)b >= sizeof out->key_path) {
    snprintf(err, errlen, "--tls-self-signed: the path %s is too long", base);
    return false;
  }
  bool ok = tls_reuse(out) || tls_make(out, err, errlen);
  if (ok)
    tls_absolute(out);
  return ok;
}

/* ---- a plain HTTP request on the HTTPS port ----
 * Until the first look the session's receive pointer is the session itself
 * (its send side still holds the socket), so the first pull can tell the
 * socket and settle the session back onto it. */

static ssize_t tls_recv(gnutls_transport_ptr_t p, void *buf, size_t len) {
  return recv((int)(intptr_t)p, buf, len, 0);
}

static int tls_wait(int fd, unsigned ms) {
  struct pollfd pf = {fd, POLLIN, 0};
  return poll(&pf, 1, ms == GNUTLS_INDEFINITE_TIMEOUT ? -1 : (int)ms);
}

static int tls_recv_timeout(gnutls_transport_ptr_t p, unsigned ms) {
  return tls_wait((int)(intptr_t)p, ms);
}

static int tls_socket_of(gnutls_transport_ptr_t p) {
  int recv_fd = -1, send_fd = -1;
  gnutls_transport_get_int2((gnutls_session_t)p, &recv_fd, &send_fd);
  return send_fd;
}

static int tls_first_timeout(gnutls_transport_ptr_t p, unsigned ms) {
  return tls_wait(tls_socket_of(p), ms);
}

/* The answer, then the end of our side; what the client sent is read
 * first so that the close that follows is not a reset that could lose the
 * answer. */
static void tls_refuse_plain(int fd) {
  char sink[4096];
  size_t drained = 0;
  ssize_t n;
  while (drained < 65536 && (n = recv(fd, sink, sizeof sink, MSG_DONTWAIT)) > 0)
    drained += (size_t)n;
  static const char body[] =
      "{\"message\":\"this port serves HTTPS only: send the request with "
      "https://, or to the plain HTTP port (--plain-port) when there is "
      "one\"}";
  char answer[512];
  int len = snprintf(answer, sizeof answer,
                     "HTTP/1.1 %u %s\r\nContent-Type: application/json\r\n"
                     "Access-Control-Allow-Origin: *\r\nConnection: close\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     err_status(ERR_BAD_REQUEST), err_message(ERR_BAD_REQUEST),
                     sizeof body - 1, body);
  if (len > 0 && (size_t)len < sizeof answer)
    (void)send(fd, answer, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
  (void)shutdown(fd, SHUT_WR);
  log_msg(LOG_INFO, "- - %u (plain HTTP on the HTTPS port)",
          err_status(ERR_BAD_REQUEST));
}

static ssize_t tls_first_pull(gnutls_transport_ptr_t p, void *buf, size_t len) {
  gnutls_session_t session = p;
  int fd = tls_socket_of(p);
  unsigned char first = 0;
  ssize_t n = recv(fd, &first, 1, MSG_PEEK);
  if (n <= 0)
    return n; /* nothing yet (errno EAGAIN) or closed: look again later */
  /* A TLS record starts with its type (22 for a handshake); an HTTP
   * request with its method, a token of capital letters. */
  if (first >= 'A' && first <= 'Z') {
    tls_refuse_plain(fd);
    errno = ECONNRESET;
    return -1;
  }
  gnutls_transport_set_int(session, fd);
  gnutls_transport_set_pull_function(session, tls_recv);
  gnutls_transport_set_pull_timeout_function(session, tls_recv_timeout);
  return recv(fd, buf, len, 0);
}

void tls_answer_plain_http(void *session) {
  gnutls_session_t s = session;
  int recv_fd = -1, send_fd = -1;
  gnutls_transport_get_int2(s, &recv_fd, &send_fd);
  if (send_fd < 0)
    return;
  gnutls_transport_set_ptr2(s, s, (gnutls_transport_ptr_t)(intptr_t)send_fd);
  gnutls_transport_set_pull_function(s, tls_first_pull);
  gnutls_transport_set_pull_timeout_function(s, tls_first_timeout);
}

void tls_material_free(tls_material *m) {
  if (m->key_pem)
    memset(m->key_pem, 0, strlen(m->key_pem));
  free(m->key_pem);
  free(m->cert_pem);
  m->key_pem = NULL;
  m->cert_pem = NULL;
}
