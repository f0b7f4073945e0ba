/*
 * module.c — entry point of the unix-dgram addon and the shared error/argument helpers.
 *
 * Exports (wrapped by src/sending/sources/datagram-socket.ts):
 *   bind(path, options, onBatch, onError) → handle   receiver.c (options.fd: adopt an inherited socket)
 *   trimHeap() → 1 if memory was returned               malloc_trim(3)
 *   close(handle), info(handle), failNextRecv(handle, errno)
 *   send(path, buffer) → bytes | -errno               sender.c
 *   sendMany(path, data, lengths, count, options) → [sent, dropped, elapsedNs, retries]
 */
#include "addon.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>

const char *ud_errno_name(int err) {
  switch (err) {
#define E(x) case x: return #x;
    E(EAGAIN) E(EINTR) E(EACCES) E(EPERM) E(EADDRINUSE) E(EADDRNOTAVAIL) E(ENOENT)
    E(ENOTDIR) E(ENAMETOOLONG) E(EEXIST) E(ECONNREFUSED) E(EMSGSIZE) E(ENOBUFS) E(ENOMEM)
    E(ENOTSOCK) E(EBADF) E(EINVAL) E(EFAULT) E(EROFS) E(ELOOP) E(ENOSPC) E(EPROTOTYPE)
    E(ENOTCONN) E(ECONNRESET) E(EIO) E(EMFILE) E(ENFILE) E(ESRCH)
#undef E
    default: return "EUNKNOWN";
  }
}

napi_value ud_make_error_object(napi_env env, int err, const char *syscall) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s %s: %s", syscall, ud_errno_name(err), strerror(err));
  napi_value code, message, error, sys, num;
  napi_create_string_utf8(env, ud_errno_name(err), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys);
  napi_set_named_property(env, error, "syscall", sys);
  napi_create_int32(env, -err, &num);
  napi_set_named_property(env, error, "errno", num);
  return error;
}

napi_value ud_throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  napi_value error = ud_make_error_object(env, err, syscall);
  if (path != NULL) {
    napi_value p;
    napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &p);
    napi_set_named_property(env, error, "path", p);
  }
  napi_throw(env, error);
  return NULL;
}

void ud_throw_status(napi_env env, napi_status status, const char *what) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  char msg[256];
  snprintf(msg, sizeof msg, "unix-dgram: %s failed: %s", what,
           info != NULL && info->error_message != NULL ? info->error_message : "napi error");
  napi_throw_error(env, NULL, msg);
}

int ud_get_path(napi_env env, napi_value v, char *out, size_t out_len) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "socket path must be a string");
    return -1;
  }
  /* sun_path is 108 bytes including the terminating NUL (unix(7)). */
  if (len == 0 || len + 1 > out_len) {
    napi_throw_range_error(env, "ENAMETOOLONG", "socket path is empty or longer than 107 bytes (sun_path limit, unix(7))");
    return -1;
  }
  napi_get_value_string_utf8(env, v, out, out_len, &len);
  if (strlen(out) != len) {
    napi_throw_type_error(env, NULL, "socket path contains a NUL byte");
    return -1;
  }
  return 0;
}

int ud_get_int_prop(napi_env env, napi_value obj, const char *name, int64_t *out, int *present) {
  *present = 0;
  napi_valuetype t;
  if (napi_typeof(env, obj, &t) != napi_ok || t != napi_object) return 0;
  bool has = false;
  if (napi_has_named_property(env, obj, name, &has) != napi_ok || !has) return 0;
  napi_value v;
  napi_get_named_property(env, obj, name, &v);
  napi_typeof(env, v, &t);
  if (t == napi_undefined || t == napi_null) return 0;
  if (t != napi_number) {
    char msg[128];
    snprintf(msg, sizeof msg, "option %s must be a number", name);
    napi_throw_type_error(env, NULL, msg);
    return -1;
  }
  napi_get_value_int64(env, v, out);
  *present = 1;
  return 0;
}

/* Start-up leaves glibc's heap full of freed pages (module sources, compile buffers); a daemon
 * that then idles would keep them resident. */
static napi_value trim_heap(napi_env env, napi_callback_info info) {
  napi_value out;
  napi_get_boolean(env, malloc_trim(0) == 1, &out);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"bind", NULL, ud_receiver_bind, NULL, NULL, NULL, napi_enumerable, NULL},
    {"close", NULL, ud_receiver_close, NULL, NULL, NULL, napi_enumerable, NULL},
    {"info", NULL, ud_receiver_info, NULL, NULL, NULL, napi_enumerable, NULL},
    {"failNextRecv", NULL, ud_receiver_fail_next, NULL, NULL, NULL, napi_enumerable, NULL},
    {"send", NULL, ud_send, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sendMany", NULL, ud_send_many, NULL, NULL, NULL, napi_enumerable, NULL},
    {"trimHeap", NULL, trim_heap, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
