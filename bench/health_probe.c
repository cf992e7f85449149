/* health_probe: start-up timer of bench/run.sh.
 *
 * Usage: health_probe PORT TIMEOUT_MS [PID]
 *
 * Polls "GET /health" on 127.0.0.1:PORT (a fresh connection each try, 0.25 ms
 * apart) until a 2xx status line arrives, then prints the wall-clock time of
 * that answer as microseconds since the epoch (CLOCK_REALTIME, the clock of
 * bash's $EPOCHREALTIME) and exits 0.  Exits 1 on timeout, or as soon as PID
 * (when given) has died.  The caller takes $EPOCHREALTIME just before it
 * launches the server, so the difference is "process start to first 2xx".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static long long now_us(clockid_t clk) {
  struct timespec ts;
  clock_gettime(clk, &ts);
  return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* 1 when the server answered 2xx, 0 otherwise. */
static int try_once(unsigned port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return 0;
  struct timeval tv = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int ok = 0;
  if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
    static const char req[] = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              "Connection: close\r\n\r\n";
    if (write(fd, req, sizeof req - 1) == (ssize_t)(sizeof req - 1)) {
      char buf[64];
      size_t got = 0;
      while (got < 12) {
        ssize_t n = read(fd, buf + got, sizeof buf - 1 - got);
        if (n <= 0)
          break;
        got += (size_t)n;
      }
      buf[got] = '\0';
      /* "HTTP/1.1 2xx" */
      ok = got >= 12 && strncmp(buf, "HTTP/1.", 7) == 0 && buf[9] == '2';
    }
  }
  close(fd);
  return ok;
}

int main(int argc, char **argv) {
  if (argc < 3 || argc > 4) {
    fprintf(stderr, "usage: %s PORT TIMEOUT_MS [PID]\n", argv[0]);
    return 2;
  }
  unsigned port = (unsigned)strtoul(argv[1], NULL, 10);
  long long timeout_us = strtoll(argv[2], NULL, 10) * 1000LL;
  pid_t pid = argc == 4 ? (pid_t)strtol(argv[3], NULL, 10) : 0;
  long long start = now_us(CLOCK_MONOTONIC);
  struct timespec pause = {0, 250000};
  for (;;) {
    if (try_once(port)) {
      printf("%lld\n", now_us(CLOCK_REALTIME));
      return 0;
    }
    if (now_us(CLOCK_MONOTONIC) - start > timeout_us) {
      fprintf(stderr, "health_probe: no 2xx from port %u\n", port);
      return 1;
    }
    if (pid > 0 && kill(pid, 0) != 0 && errno == ESRCH) {
      fprintf(stderr, "health_probe: process %d is gone\n", (int)pid);
      return 1;
    }
    nanosleep(&pause, NULL);
  }
}
