/*
 * sender.c — non-blocking datagram sends, for tests and the benchmark's sender process.
 *
 * send(path, buffer) → bytes sent, or -errno (-EAGAIN when the receiver's queue is full, as
 * libtlsrpt would see it). One process-wide unbound socket, with a send buffer large enough
 * for a 256 KiB + 1 datagram (the kernel refuses datagrams over SO_SNDBUF - 32 with EMSGSIZE).
 *
 * sendMany(path, data, lengths, count, {rate, retry, sockets, sndbuf}) sends `count`
 * datagrams cycling through the ones laid out back to back in `data` (`lengths[i]` bytes
 * each), from `sockets` sockets in turn (like several Postfix smtp processes), paced at
 * `rate` per second (0 = as fast as possible). Without `retry` a full queue drops the
 * datagram (EAGAIN, counted), as Postfix does; with `retry` the sender waits until the
 * receiver's queue has room (poll(POLLOUT) on a connected datagram socket wakes exactly then)
 * and sends again. Returns [sent, dropped, elapsedNs, waits].
 */
#include "addon.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int global_fd = -1;

static int make_socket(int sndbuf) {
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  if (sndbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf) != 0)
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  return fd;
}

napi_value ud_send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) {
    napi_throw_type_error(env, NULL, "send(path, buffer)");
    return NULL;
  }
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (ud_get_path(env, argv[0], addr.sun_path, sizeof addr.sun_path) != 0) return NULL;
  void *data = NULL;
  size_t len = 0;
  bool is_buf = false;
  napi_is_buffer(env, argv[1], &is_buf);
  if (!is_buf) {
    napi_throw_type_error(env, NULL, "send: data must be a Buffer or Uint8Array");
    return NULL;
  }
  NAPI_CALL(env, napi_get_buffer_info(env, argv[1], &data, &len));
  if (global_fd < 0) {
    global_fd = make_socket(1 << 20);
    if (global_fd < 0) return ud_throw_errno(env, -global_fd, "socket", NULL);
  }
  ssize_t n;
  do {
    n = sendto(global_fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&addr, sizeof addr);
  } while (n < 0 && errno == EINTR);
  napi_value out;
  napi_create_int64(env, n < 0 ? -(int64_t)errno : (int64_t)n, &out);
  return out;
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

napi_value ud_send_many(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) {
    napi_throw_type_error(env, NULL, "sendMany(path, data, lengths, count, options)");
    return NULL;
  }
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (ud_get_path(env, argv[0], addr.sun_path, sizeof addr.sun_path) != 0) return NULL;
  void *data = NULL;
  size_t data_len = 0;
  NAPI_CALL(env, napi_get_buffer_info(env, argv[1], &data, &data_len));
  napi_typedarray_type tt;
  size_t nlen = 0, boff = 0;
  void *ldata = NULL;
  napi_value ab;
  NAPI_CALL(env, napi_get_typedarray_info(env, argv[2], &tt, &nlen, &ldata, &ab, &boff));
  if (tt != napi_int32_array || nlen == 0) {
    napi_throw_type_error(env, NULL, "sendMany: lengths must be a non-empty Int32Array");
    return NULL;
  }
  int64_t count = 0, rate = 0, retry = 0, nsock = 1, sndbuf = 0;
  int has;
  NAPI_CALL(env, napi_get_value_int64(env, argv[3], &count));
  if (argc > 4 && (ud_get_int_prop(env, argv[4], "rate", &rate, &has) || ud_get_int_prop(env, argv[4], "retry", &retry, &has) ||
                   ud_get_int_prop(env, argv[4], "sockets", &nsock, &has) || ud_get_int_prop(env, argv[4], "sndbuf", &sndbuf, &has)))
    return NULL;
  if (nsock < 1 || nsock > 256) nsock = 1;
  const int32_t *lengths = ldata;
  size_t *offsets = malloc(sizeof(size_t) * nlen);
  int *fds = calloc((size_t)nsock, sizeof(int));
  if (offsets == NULL || fds == NULL) {
    free(offsets);
    free(fds);
    return ud_throw_errno(env, ENOMEM, "malloc", NULL);
  }
  size_t off = 0;
  for (size_t i = 0; i < nlen; i++) {
    offsets[i] = off;
    off += (size_t)(lengths[i] < 0 ? 0 : lengths[i]);
  }
  if (off > data_len) {
    free(offsets);
    free(fds);
    napi_throw_range_error(env, NULL, "sendMany: lengths add up to more than the data");
    return NULL;
  }
  for (int64_t s = 0; s < nsock; s++) {
    fds[s] = make_socket((int)sndbuf);
    /* connected: poll(POLLOUT) then reports room in the receiver's queue (unix_dgram_poll) */
    if (fds[s] < 0 || connect(fds[s], (struct sockaddr *)&addr, sizeof addr) != 0) {
      int err = fds[s] < 0 ? -fds[s] : errno;
      for (int64_t k = 0; k <= s; k++)
        if (fds[k] > 0) close(fds[k]);
      free(offsets);
      free(fds);
      return ud_throw_errno(env, err, "connect", addr.sun_path);
    }
  }
  int64_t sent = 0, dropped = 0, waits = 0;
  int64_t start = now_ns();
  double gap = rate > 0 ? 1e9 / (double)rate : 0;
  int fatal = 0;
  for (int64_t i = 0; i < count && !fatal; i++) {
    if (gap > 0) {
      int64_t due = start + (int64_t)(gap * (double)i);
      int64_t now = now_ns();
      if (due - now > 200000) {
        struct timespec ts = {0, (long)(due - now - 100000)};
        nanosleep(&ts, NULL);
      }
      while (now_ns() < due) {
      }
    }
    size_t k = (size_t)(i % (int64_t)nlen);
    int fd = fds[i % nsock];
    for (;;) {
      ssize_t n = send(fd, (char *)data + offsets[k], (size_t)lengths[k], MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n >= 0) {
        sent++;
        break;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!retry) {
          dropped++;
          break;
        }
        waits++;
        struct pollfd p = {fd, POLLOUT, 0};
        poll(&p, 1, 100);
        continue;
      }
      fatal = errno;
      break;
    }
  }
  int64_t elapsed = now_ns() - start;
  for (int64_t s = 0; s < nsock; s++) close(fds[s]);
  free(offsets);
  free(fds);
  if (fatal) return ud_throw_errno(env, fatal, "send", addr.sun_path);
  napi_value out, v;
  NAPI_CALL(env, napi_create_array_with_length(env, 4, &out));
  napi_create_double(env, (double)sent, &v);
  napi_set_element(env, out, 0, v);
  napi_create_double(env, (double)dropped, &v);
  napi_set_element(env, out, 1, v);
  napi_create_double(env, (double)elapsed, &v);
  napi_set_element(env, out, 2, v);
  napi_create_double(env, (double)waits, &v);
  napi_set_element(env, out, 3, v);
  return out;
}
