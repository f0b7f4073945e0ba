/*
 * addon.h — shared helpers of the unix-dgram addon (plain Node-API, no C++).
 *
 * Errors are reported to JS as thrown Error objects whose `code` is the errno name
 * (EADDRINUSE, EACCES, …) and `syscall` the failing call, like Node's own errors.
 */
#ifndef TLSRPT_UNIX_DGRAM_ADDON_H
#define TLSRPT_UNIX_DGRAM_ADDON_H

#define _GNU_SOURCE
#include <node_api.h>
#include <stdint.h>
#include <stddef.h>

#define NAPI_CALL(env, call)                                                  \
  do {                                                                        \
    napi_status status_ = (call);                                             \
    if (status_ != napi_ok) {                                                 \
      ud_throw_status((env), status_, #call);                                 \
      return NULL;                                                            \
    }                                                                         \
  } while (0)

/* Throw an Error with code = errno name, syscall and a message; returns NULL for convenience. */
napi_value ud_throw_errno(napi_env env, int err, const char *syscall, const char *path);
void ud_throw_status(napi_env env, napi_status status, const char *what);
const char *ud_errno_name(int err);

/* Argument helpers: return 0 on success, -1 after throwing a TypeError. */
int ud_get_path(napi_env env, napi_value v, char *out, size_t out_len);
int ud_get_int_prop(napi_env env, napi_value obj, const char *name, int64_t *out, int *present);
napi_value ud_make_error_object(napi_env env, int err, const char *syscall);

napi_value ud_receiver_bind(napi_env env, napi_callback_info info);
napi_value ud_receiver_close(napi_env env, napi_callback_info info);
napi_value ud_receiver_info(napi_env env, napi_callback_info info);
napi_value ud_receiver_fail_next(napi_env env, napi_callback_info info);
napi_value ud_send(napi_env env, napi_callback_info info);
napi_value ud_send_many(napi_env env, napi_callback_info info);

#endif
