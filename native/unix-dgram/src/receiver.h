/*
 * receiver.h — the state of one bound receiving socket, shared by receiver.c (bind, close,
 * poll mode) and thread.c (threaded mode).
 */
#ifndef TLSRPT_UNIX_DGRAM_RECEIVER_H
#define TLSRPT_UNIX_DGRAM_RECEIVER_H

#include "addon.h"

#include <sys/stat.h>
#include <sys/un.h>
#include <uv.h>

/* Datagrams received by the thread, back to back, waiting for the loop thread. */
typedef struct Chunk {
  struct Chunk *next;
  size_t used, cap;
  uint32_t count, lcap;
  int32_t *lengths;
  char *data;
} Chunk;

typedef struct Receiver {
  napi_env env;
  uv_poll_t poll;
  int fd;
  char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
  dev_t dev;
  ino_t ino;
  napi_ref self;        /* keeps the handle alive while the socket is open */
  napi_ref on_batch;
  napi_ref on_error;
  napi_ref arena_ref;   /* the shared Buffer (shared mode) */
  napi_ref lengths_ref; /* Int32Array[batch] */
  napi_async_context async_ctx;
  char *arena;
  size_t arena_size;
  int32_t *lengths;
  uint32_t batch;
  size_t max_size;
  int array_mode;
  int closed;
  int adopted; /* the fd came from the service manager (LISTEN_FDS): never unlink its file */
  int poll_closed;
  int finalized;
  int fail_next; /* test hook: errno the next recv "returns" (atomic in threaded mode) */
  double wakeups, datagrams, truncated, errors, callbacks;
  /* threaded mode (thread.c): a receive thread drains the socket into chunks, the loop thread
   * is woken by `async` and hands them to JS; `mu` guards everything the two share. */
  int threaded;
  uv_thread_t thread;
  uv_async_t async;
  uv_mutex_t mu;
  uv_cond_t room;
  int wake_fd;
  int stop;
  int thread_started;
  int realtime, realtime_on;
  long coalesce_us; /* pause after an emptying drain, from the socket's queue length */
  int qlen;
  uv_sem_t started;
  struct Chunk *head, *tail;
  size_t buffered_bytes, max_buffered;
  uint32_t chunk_datagrams;
  int errs[16];
  int nerrs;
} Receiver;

void ud_receiver_free_if_done(Receiver *r);
void ud_call_js(Receiver *r, napi_ref fn_ref, size_t argc, napi_value *argv);
void ud_report_error(Receiver *r, int err, const char *syscall);
void ud_deliver(Receiver *r, uint32_t count, napi_value array);

/* socket_file.c */
int ud_resolve_id(napi_env env, napi_value opts, const char *name, int is_group, long *out);
int ud_remove_stale(napi_env env, const char *path, const struct sockaddr_un *addr);
int ud_adopt_fd(napi_env env, int fd);

/* thread.c */
int ud_thread_start(Receiver *r, uv_loop_t *loop);
void ud_thread_stop(Receiver *r);
void ud_thread_cleanup(Receiver *r);

#endif
