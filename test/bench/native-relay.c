/*
 * bench:harness --baseline: the cheapest relay a proxy could be, to measure the proxies against.
 * One thread, epoll, read() then write() on plain loopback TCP, TCP_NODELAY, no frames, no faults.
 * Arguments: the target ports. Prints one listening port per line (ephemeral, 127.0.0.1), then
 * relays until killed. Not part of skepsis: it is compiled by the bench when a C compiler is there.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define LISTENERS_MAX 1024

typedef struct end {
  int fd;
  int listener; /* index of the target port, or -1 for a connection end */
  struct end *peer;
} end_t;

static int target_port[LISTENERS_MAX];
static int ep;

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void watch(end_t *e) {
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = e};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, e->fd, &ev) < 0) die("epoll_ctl");
}

static end_t *new_end(int fd, int listener) {
  end_t *e = calloc(1, sizeof *e);
  if (e == NULL) die("calloc");
  e->fd = fd;
  e->listener = listener;
  return e;
}

static void close_pair(end_t *e) {
  end_t *p = e->peer;
  if (e->fd >= 0) {
    close(e->fd); /* also leaves the epoll set */
    e->fd = -1;
  }
  if (p != NULL && p->fd >= 0) {
    close(p->fd);
    p->fd = -1;
  }
  /* Both ends are leaked on purpose: a later event in this batch may still point at them. */
}

int main(int argc, char **argv) {
  int listeners = argc - 1;
  if (listeners < 1 || listeners > LISTENERS_MAX) {
    fprintf(stderr, "usage: native-relay PORT... (1 to %d target ports)\n", LISTENERS_MAX);
    return 2;
  }
  ep = epoll_create1(0);
  if (ep < 0) die("epoll_create1");
  for (int i = 0; i < listeners; i++) {
    target_port[i] = atoi(argv[i + 1]);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 128) < 0 || getsockname(s, (struct sockaddr *)&a, &len) < 0)
      die("listen");
    printf("%d\n", ntohs(a.sin_port));
    watch(new_end(s, i));
  }
  fflush(stdout);
  static char buffer[1 << 16];
  struct epoll_event events[64];
  for (;;) {
    int n = epoll_wait(ep, events, 64, -1);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; i++) {
      end_t *e = events[i].data.ptr;
      if (e->fd < 0) continue;
      if (e->listener >= 0) {
        int client = accept(e->fd, NULL, NULL);
        if (client < 0) continue;
        int target = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(target_port[e->listener])};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (target < 0 || connect(target, (struct sockaddr *)&a, sizeof a) < 0) {
          close(client);
          if (target >= 0) close(target);
          continue;
        }
        int one = 1;
        setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(target, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        end_t *x = new_end(client, -1), *y = new_end(target, -1);
        x->peer = y;
        y->peer = x;
        watch(x);
        watch(y);
        continue;
      }
      ssize_t got = read(e->fd, buffer, sizeof buffer);
      if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (got <= 0) {
        close_pair(e);
        continue;
      }
      /* Blocking write: the far end is a node or the harness, both on loopback. */
      for (ssize_t off = 0; off < got;) {
        ssize_t put = e->peer->fd < 0 ? -1 : write(e->peer->fd, buffer + off, (size_t)(got - off));
        if (put < 0 && errno == EINTR) continue;
        if (put <= 0) {
          close_pair(e);
          break;
        }
        off += put;
      }
    }
  }
}
