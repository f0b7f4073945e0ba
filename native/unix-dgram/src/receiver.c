/*
 * receiver.c — a bound AF_UNIX SOCK_DGRAM socket watched by libuv, drained in batches.
 *
 * Why not the npm addon unix-dgram 2.0.7: it reads into a fixed 64 KiB buffer (larger
 * datagrams arrive silently truncated), hands its callback a null buffer when recvmsg fails
 * (the process crashes), and does one recvmsg per event-loop wake-up. Here each wake-up
 * drains the socket until EAGAIN (at most `batch` datagrams, then libuv's level-triggered
 * poll wakes us again) and calls into JS once with the whole batch.
 *
 * Datagram lengths are read with MSG_TRUNC, so a datagram longer than `maxSize` is reported
 * with its real length (negated in `lengths`) and no data, never as a cut-off prefix.
 *
 * Two delivery modes (bench/ingest-datagram measures both):
 *   shared (default) — datagrams are received straight into one long-lived Buffer ("arena")
 *     that JS reads synchronously inside the callback: no allocation per datagram or batch;
 *   array — a fresh Buffer per datagram, passed as an array.
 *
 * Kernel queue: a unix datagram socket queues at most net.unix.max_dgram_qlen + 1 datagrams,
 * fixed when the socket is created; SO_RCVBUF does not change that (it is set large anyway
 * so that bytes never limit before the count does). Raise the sysctl before the service starts.
 */
#include "addon.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include "receiver.h"


void ud_receiver_free_if_done(Receiver *r) {
  if (r->poll_closed && r->finalized) free(r);
}

static void on_poll_closed(uv_handle_t *h) {
  Receiver *r = h->data;
  if (r->fd >= 0) close(r->fd);
  r->fd = -1;
  if (r->threaded) ud_thread_cleanup(r);
  r->poll_closed = 1;
  ud_receiver_free_if_done(r);
}

static void receiver_finalize(napi_env env, void *data, void *hint) {
  Receiver *r = data;
  r->finalized = 1;
  ud_receiver_free_if_done(r);
}

/* Calls a JS function from a libuv callback; a throwing callback is a bug in our JS layer,
 * surfaced as an uncaught exception rather than swallowed. */
void ud_call_js(Receiver *r, napi_ref fn_ref, size_t argc, napi_value *argv) {
  napi_env env = r->env;
  napi_value fn, recv, result;
  if (napi_get_reference_value(env, fn_ref, &fn) != napi_ok || fn == NULL) return;
  napi_get_global(env, &recv); /* napi_make_callback needs an object receiver */
  napi_status st = napi_make_callback(env, r->async_ctx, recv, fn, argc, argv, &result);
  if (st != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value exc;
      napi_get_and_clear_last_exception(env, &exc);
      napi_fatal_exception(env, exc);
    }
  }
}

void ud_report_error(Receiver *r, int err, const char *syscall) {
  r->errors++;
  napi_value e = ud_make_error_object(r->env, err, syscall);
  ud_call_js(r, r->on_error, 1, &e);
}

void ud_deliver(Receiver *r, uint32_t count, napi_value array) {
  if (count == 0 || r->closed) return;
  r->callbacks++;
  napi_value argv[2];
  napi_create_uint32(r->env, count, &argv[0]);
  if (array != NULL) {
    argv[1] = array;
    ud_call_js(r, r->on_batch, 2, argv);
  } else {
    ud_call_js(r, r->on_batch, 1, argv);
  }
}

static void on_readable(uv_poll_t *h, int status, int events) {
  Receiver *r = h->data;
  if (r->closed) return;
  napi_env env = r->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  r->wakeups++;
  if (status < 0) {
    ud_report_error(r, -status, "poll");
    napi_close_handle_scope(env, scope);
    return;
  }
  napi_value array = NULL;
  if (r->array_mode) napi_create_array_with_length(env, r->batch, &array);
  size_t off = 0;
  uint32_t count = 0;
  while (count < r->batch && !r->closed) {
    if (!r->array_mode && r->arena_size - off < r->max_size) {
      /* arena full of large datagrams: hand them over, then reuse it within this wake-up */
      ud_deliver(r, count, NULL);
      count = 0;
      off = 0;
      if (r->closed) break;
    }
    char *dst = r->array_mode ? r->arena : r->arena + off;
    ssize_t n;
    int err = 0;
    if (r->fail_next != 0) {
      err = r->fail_next;
      r->fail_next = 0;
      n = -1;
    } else {
      n = recv(r->fd, dst, r->max_size, MSG_TRUNC | MSG_DONTWAIT);
      if (n < 0) err = errno;
    }
    if (n < 0) {
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) break;
      ud_deliver(r, count, array);
      count = 0;
      ud_report_error(r, err, "recv");
      /* the datagram queue may still hold data: the poll stays armed and tries again */
      napi_close_handle_scope(env, scope);
      return;
    }
    r->datagrams++;
    if ((size_t)n > r->max_size) {
      r->truncated++;
      r->lengths[count] = n > INT32_MAX ? INT32_MIN + 1 : -(int32_t)n;
      if (array != NULL) {
        napi_value nul;
        napi_get_null(env, &nul);
        napi_set_element(env, array, count, nul);
      }
    } else {
      r->lengths[count] = (int32_t)n;
      if (array != NULL) {
        napi_value b;
        napi_create_buffer_copy(env, (size_t)n, dst, NULL, &b);
        napi_set_element(env, array, count, b);
      } else {
        off += (size_t)n;
      }
    }
    count++;
  }
  if (array != NULL && count < r->batch) {
    napi_value len;
    napi_create_uint32(env, count, &len);
    napi_set_named_property(env, array, "length", len);
  }
  ud_deliver(r, count, array);
  napi_close_handle_scope(env, scope);
}

napi_value ud_receiver_bind(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) {
    napi_throw_type_error(env, NULL, "bind(path, options, onBatch, onError)");
    return NULL;
  }
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (ud_get_path(env, argv[0], addr.sun_path, sizeof addr.sun_path) != 0) return NULL;
  int64_t mode = 0660, rcvbuf = 4 << 20, batch = 256, max_size = 256 * 1024, arena = 2 << 20, array_mode = 0;
  int64_t threaded = 1, max_buffered = 64 << 20, realtime = 0, inherited_fd = -1;
  int has;
  if (ud_get_int_prop(env, argv[1], "mode", &mode, &has) || ud_get_int_prop(env, argv[1], "rcvbuf", &rcvbuf, &has) ||
      ud_get_int_prop(env, argv[1], "batch", &batch, &has) || ud_get_int_prop(env, argv[1], "maxSize", &max_size, &has) ||
      ud_get_int_prop(env, argv[1], "arenaBytes", &arena, &has) || ud_get_int_prop(env, argv[1], "arrayMode", &array_mode, &has) ||
      ud_get_int_prop(env, argv[1], "threaded", &threaded, &has) || ud_get_int_prop(env, argv[1], "maxBufferedBytes", &max_buffered, &has) ||
      ud_get_int_prop(env, argv[1], "realtime", &realtime, &has) || ud_get_int_prop(env, argv[1], "fd", &inherited_fd, &has))
    return NULL;
  if (batch < 1 || batch > 65536 || max_size < 1 || max_size > (1 << 30)) {
    napi_throw_range_error(env, NULL, "batch must be 1..65536 and maxSize 1..1 GiB");
    return NULL;
  }
  long uid, gid;
  if (ud_resolve_id(env, argv[1], "owner", 0, &uid) || ud_resolve_id(env, argv[1], "group", 1, &gid)) return NULL;

  /* the queue length a socket gets is the sysctl's value when it is created: read it now */
  int qlen = -1;
  FILE *qf = fopen("/proc/sys/net/unix/max_dgram_qlen", "r");
  if (qf != NULL) {
    if (fscanf(qf, "%d", &qlen) != 1) qlen = -1;
    fclose(qf);
  }
  int fd = -1, adopted = inherited_fd >= 0;
  if (adopted) {
    /* socket activation: the service manager bound the socket (and keeps its file); we only read */
    if (ud_adopt_fd(env, (int)inherited_fd) != 0) return NULL;
    fd = (int)inherited_fd;
  } else {
    if (ud_remove_stale(env, addr.sun_path, &addr) != 0) return NULL;
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return ud_throw_errno(env, errno, "socket", NULL);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
      int err = errno;
      close(fd);
      return ud_throw_errno(env, err, "bind", addr.sun_path);
    }
    const char *failed = NULL;
    if (chmod(addr.sun_path, (mode_t)mode) != 0) failed = "chmod";
    else if ((uid != -1 || gid != -1) && chown(addr.sun_path, (uid_t)uid, (gid_t)gid) != 0) failed = "chown";
    if (failed != NULL) {
      int err = errno;
      close(fd);
      unlink(addr.sun_path);
      return ud_throw_errno(env, err, failed, addr.sun_path);
    }
  }
  /* Large SO_RCVBUF so bytes never limit before the queue length does (root may exceed rmem_max). */
  int want = (int)rcvbuf;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) != 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);

  Receiver *r = calloc(1, sizeof *r);
  if (r == NULL) {
    close(fd);
    unlink(addr.sun_path);
    return ud_throw_errno(env, ENOMEM, "calloc", NULL);
  }
  r->env = env;
  r->fd = fd;
  memcpy(r->path, addr.sun_path, sizeof r->path);
  r->adopted = adopted;
  struct stat st;
  if (!adopted && stat(r->path, &st) == 0) {
    r->dev = st.st_dev;
    r->ino = st.st_ino;
  }
  r->batch = (uint32_t)batch;
  r->max_size = (size_t)max_size;
  r->array_mode = array_mode != 0;
  r->arena_size = r->array_mode ? r->max_size : (size_t)arena + r->max_size;
  r->wake_fd = -1;
  r->qlen = qlen;
  /* a quarter of the time the queue takes to fill at 250,000 datagrams/s; none below 50 µs */
  r->coalesce_us = qlen > 0 ? (long)(qlen + 1) * 1000000L / 250000L / 4 : 0;
  if (r->coalesce_us < 50) r->coalesce_us = 0;
  if (r->coalesce_us > 500) r->coalesce_us = 500;
  if (threaded && !r->array_mode) {
    /* one chunk of the receive thread = one JS call: the arena holds a whole chunk */
    r->threaded = 1;
    r->chunk_datagrams = 4096;
    r->batch = r->chunk_datagrams;
    r->arena_size = r->max_size > (1u << 20) ? r->max_size : (1u << 20);
    r->max_buffered = max_buffered > 0 ? (size_t)max_buffered : (64u << 20);
    r->realtime = realtime != 0;
  }

  napi_value result, handle, arena_buf, lengths_ab, lengths, resource_name, resource;
  void *arena_data = NULL, *lengths_data = NULL;
  NAPI_CALL(env, napi_create_object(env, &result));
  NAPI_CALL(env, napi_create_external(env, r, receiver_finalize, NULL, &handle));
  NAPI_CALL(env, napi_create_buffer(env, r->arena_size, &arena_data, &arena_buf));
  NAPI_CALL(env, napi_create_arraybuffer(env, sizeof(int32_t) * r->batch, &lengths_data, &lengths_ab));
  NAPI_CALL(env, napi_create_typedarray(env, napi_int32_array, r->batch, lengths_ab, 0, &lengths));
  r->arena = arena_data;
  r->lengths = lengths_data;
  NAPI_CALL(env, napi_create_reference(env, handle, 1, &r->self));
  NAPI_CALL(env, napi_create_reference(env, argv[2], 1, &r->on_batch));
  NAPI_CALL(env, napi_create_reference(env, argv[3], 1, &r->on_error));
  NAPI_CALL(env, napi_create_reference(env, arena_buf, 1, &r->arena_ref));
  NAPI_CALL(env, napi_create_reference(env, lengths, 1, &r->lengths_ref));
  NAPI_CALL(env, napi_create_string_utf8(env, "tlsrpt:unix-dgram", NAPI_AUTO_LENGTH, &resource_name));
  NAPI_CALL(env, napi_create_object(env, &resource));
  NAPI_CALL(env, napi_async_init(env, resource, resource_name, &r->async_ctx));

  uv_loop_t *loop = NULL;
  NAPI_CALL(env, napi_get_uv_event_loop(env, &loop));
  int rc;
  if (r->threaded) {
    rc = ud_thread_start(r, loop);
  } else {
    rc = uv_poll_init(loop, &r->poll, fd);
    if (rc == 0) {
      r->poll.data = r;
      rc = uv_poll_start(&r->poll, UV_READABLE, on_readable);
    }
  }
  if (rc != 0) {
    r->closed = 1;
    napi_delete_reference(env, r->self);
    if (r->threaded && r->async.loop != NULL) {
      /* the async handle is in the loop already: free only after it closed */
      unlink(r->path);
      uv_close((uv_handle_t *)&r->async, on_poll_closed);
      return ud_throw_errno(env, rc < 0 ? -rc : rc, "uv_thread_create", r->path);
    }
    r->poll_closed = 1;
    close(fd);
    r->fd = -1;
    unlink(r->path);
    return ud_throw_errno(env, -rc, "uv_poll_start", r->path);
  }
  napi_set_named_property(env, result, "handle", handle);
  napi_set_named_property(env, result, "arena", arena_buf);
  napi_set_named_property(env, result, "lengths", lengths);
  return result;
}

static Receiver *get_receiver(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  if (napi_get_cb_info(env, info, argc, argv, NULL, NULL) != napi_ok || *argc < 1) {
    napi_throw_type_error(env, NULL, "expected a receiver handle");
    return NULL;
  }
  void *data = NULL;
  if (napi_get_value_external(env, argv[0], &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, NULL, "expected a receiver handle");
    return NULL;
  }
  return data;
}

napi_value ud_receiver_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  Receiver *r = get_receiver(env, info, &argc, argv);
  if (r == NULL || r->closed) return NULL;
  if (r->threaded) {
    ud_thread_stop(r); /* hands what the thread read to JS first */
    r->closed = 1;
    uv_close((uv_handle_t *)&r->async, on_poll_closed);
  } else {
    r->closed = 1;
    uv_poll_stop(&r->poll);
    uv_close((uv_handle_t *)&r->poll, on_poll_closed);
  }
  /* unlink only our own socket file, not one a newer process has bound at the same path */
  struct stat st;
  if (!r->adopted && stat(r->path, &st) == 0 && st.st_dev == r->dev && st.st_ino == r->ino) unlink(r->path);
  napi_async_destroy(env, r->async_ctx);
  napi_delete_reference(env, r->on_batch);
  napi_delete_reference(env, r->on_error);
  napi_delete_reference(env, r->arena_ref);
  napi_delete_reference(env, r->lengths_ref);
  napi_delete_reference(env, r->self);
  return NULL;
}

napi_value ud_receiver_info(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  Receiver *r = get_receiver(env, info, &argc, argv);
  if (r == NULL) return NULL;
  napi_value o, v;
  NAPI_CALL(env, napi_create_object(env, &o));
  if (r->threaded && !r->closed) uv_mutex_lock(&r->mu);
  double buffered = (double)r->buffered_bytes;
#define SET_NUM(name, val) \
  napi_create_double(env, (double)(val), &v); \
  napi_set_named_property(env, o, name, v);
  SET_NUM("wakeups", r->wakeups);
  SET_NUM("callbacks", r->callbacks);
  SET_NUM("datagrams", r->datagrams);
  SET_NUM("truncated", r->truncated);
  SET_NUM("errors", r->errors);
  SET_NUM("batch", r->batch);
  SET_NUM("maxSize", r->max_size);
  SET_NUM("bufferedBytes", buffered);
  SET_NUM("queueLength", r->qlen + 1);
  SET_NUM("coalesceMicros", r->coalesce_us);
  if (r->threaded && !r->closed) uv_mutex_unlock(&r->mu);
  napi_get_boolean(env, r->threaded != 0, &v);
  napi_set_named_property(env, o, "threaded", v);
  napi_get_boolean(env, r->realtime_on != 0, &v);
  napi_set_named_property(env, o, "realtime", v);
  int rcv = 0;
  socklen_t len = sizeof rcv;
  if (!r->closed && getsockopt(r->fd, SOL_SOCKET, SO_RCVBUF, &rcv, &len) == 0) {
    SET_NUM("rcvbuf", rcv);
  }
#undef SET_NUM
  napi_get_boolean(env, r->closed != 0, &v);
  napi_set_named_property(env, o, "closed", v);
  return o;
}

/* Test hook: the next receive attempt fails with this errno, as a real recvmsg error would. */
napi_value ud_receiver_fail_next(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  Receiver *r = get_receiver(env, info, &argc, argv);
  if (r == NULL) return NULL;
  int32_t err = EIO;
  if (argc > 1) napi_get_value_int32(env, argv[1], &err);
  __atomic_store_n(&r->fail_next, err, __ATOMIC_SEQ_CST);
  return NULL;
}
