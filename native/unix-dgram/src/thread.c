/*
 * thread.c — threaded mode (the default): a receive thread drains the socket into memory.
 *
 * Why: the kernel queue of a unix datagram socket is tiny (max_dgram_qlen + 1, default 11;
 * 512 when raised = 20 ms at 25,000/s). Whenever the JS thread is busy — a store flush, a GC
 * pause, an HTTP burst — a poll-driven receiver stops draining and the MTA's datagrams are
 * dropped at the sender. Here a dedicated thread does nothing but recv() into chunks of
 * memory and wakes the loop thread (uv_async_t), which hands one chunk at a time to JS through
 * the same shared arena as poll mode. Memory is bounded by `maxBufferedBytes`: when that much
 * waits, the thread stops reading and the kernel queue applies back-pressure as before.
 */
#include "receiver.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static Chunk *chunk_new(Receiver *r) {
  size_t cap = r->arena_size;
  uint32_t lcap = r->chunk_datagrams;
  Chunk *c = malloc(sizeof(Chunk) + sizeof(int32_t) * lcap + cap);
  if (c == NULL) return NULL;
  c->next = NULL;
  c->used = 0;
  c->cap = cap;
  c->count = 0;
  c->lcap = lcap;
  c->lengths = (int32_t *)(c + 1);
  c->data = (char *)(c->lengths + lcap);
  return c;
}

/* Under r->mu. Returns 0, or ENOMEM (the datagram is then counted as an error, not kept). */
static int append(Receiver *r, const char *src, ssize_t n) {
  size_t need = (size_t)n > r->max_size ? 0 : (size_t)n;
  Chunk *t = r->tail;
  if (t == NULL || t->count == t->lcap || t->cap - t->used < need) {
    Chunk *c = chunk_new(r);
    if (c == NULL) return ENOMEM;
    if (t == NULL) r->head = c;
    else t->next = c;
    r->tail = t = c;
  }
  r->datagrams++;
  if ((size_t)n > r->max_size) {
    r->truncated++;
    t->lengths[t->count++] = n > INT32_MAX ? INT32_MIN + 1 : -(int32_t)n;
    return 0;
  }
  memcpy(t->data + t->used, src, need);
  t->lengths[t->count++] = (int32_t)n;
  t->used += need;
  r->buffered_bytes += need;
  return 0;
}

static void push_error(Receiver *r, int err) {
  uv_mutex_lock(&r->mu);
  if (r->nerrs < (int)(sizeof r->errs / sizeof r->errs[0])) r->errs[r->nerrs++] = err;
  else r->errors++; /* not reported to JS one by one: counted here (ud_report_error counts the rest) */
  uv_mutex_unlock(&r->mu);
}

static void pause_ms(long ms) {
  struct timespec ts = {0, ms * 1000000L};
  nanosleep(&ts, NULL);
}

/*
 * EEVDF (Linux 6.6+) lets a fair-class thread ask for a short time slice (sched_attr.sched_runtime,
 * honoured since 6.12, no privilege needed): a thread with a short slice preempts the busy JS
 * thread on wake-up within ~0.1 ms instead of waiting out its slice — what a queue of 11
 * datagrams at 80,000/s (0.14 ms) needs. On older kernels the call fails or is ignored.
 */
struct ud_sched_attr {
  uint32_t size, sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime, sched_deadline, sched_period;
};

static void ask_short_slice(void) {
#ifdef SYS_sched_setattr
  struct ud_sched_attr a;
  memset(&a, 0, sizeof a);
  a.size = sizeof a;
  a.sched_policy = 0; /* SCHED_OTHER */
  a.sched_runtime = 100 * 1000; /* ns */
  (void)syscall(SYS_sched_setattr, 0, &a, 0);
#endif
}

/* Opt-in (needs root or CAP_SYS_NICE): SCHED_FIFO priority 1, so the thread runs the moment a
 * datagram arrives whatever else is busy. Safe because it blocks in poll() and only copies;
 * the kernel's RT throttling (sched_rt_runtime_us) bounds it anyway. */
static int ask_realtime(void) {
  struct sched_param p;
  memset(&p, 0, sizeof p);
  p.sched_priority = 1;
  return pthread_setschedparam(pthread_self(), SCHED_FIFO, &p) == 0;
}

static int is_stopping(Receiver *r) {
  uv_mutex_lock(&r->mu);
  int s = r->stop;
  uv_mutex_unlock(&r->mu);
  return s;
}

static void thread_main(void *arg) {
  Receiver *r = arg;
  if (r->realtime && ask_realtime()) r->realtime_on = 1;
  else ask_short_slice();
  uv_sem_post(&r->started); /* bind() returns once the priority is settled (info().realtime) */
  char *scratch = malloc(r->max_size);
  if (scratch == NULL) {
    push_error(r, ENOMEM);
    uv_async_send(&r->async);
    return;
  }
  for (;;) {
    uv_mutex_lock(&r->mu);
    while (!r->stop && r->buffered_bytes >= r->max_buffered) uv_cond_wait(&r->room, &r->mu);
    int stop = r->stop;
    uv_mutex_unlock(&r->mu);
    if (stop) break;
    struct pollfd pf[2] = {{r->fd, POLLIN, 0}, {r->wake_fd, POLLIN, 0}};
    if (poll(pf, 2, -1) < 0) {
      if (errno != EINTR) {
        push_error(r, errno);
        uv_async_send(&r->async);
        pause_ms(1);
      }
      continue;
    }
    if (pf[1].revents & POLLIN) {
      uint64_t v;
      ssize_t ignored = read(r->wake_fd, &v, sizeof v);
      (void)ignored;
      continue;
    }
    int got = 0, failed = 0;
    for (int i = 0; i < 4096; i++) {
      int err = __atomic_exchange_n(&r->fail_next, 0, __ATOMIC_SEQ_CST);
      ssize_t n = -1;
      if (err == 0) {
        n = recv(r->fd, scratch, r->max_size, MSG_TRUNC | MSG_DONTWAIT);
        if (n < 0) err = errno;
      }
      if (n < 0) {
        if (err == EINTR) continue;
        if (err == EAGAIN || err == EWOULDBLOCK) break;
        push_error(r, err);
        failed = 1;
        break;
      }
      uv_mutex_lock(&r->mu);
      int rc = append(r, scratch, n);
      int full = r->buffered_bytes >= r->max_buffered;
      uv_mutex_unlock(&r->mu);
      if (rc != 0) {
        push_error(r, rc);
        failed = 1;
        break;
      }
      got++;
      if (full) break;
    }
    uv_mutex_lock(&r->mu);
    r->wakeups++;
    uv_mutex_unlock(&r->mu);
    if (got > 0 || failed) uv_async_send(&r->async);
    /* a persistent error, or readiness without data (POLLERR), must not spin a core */
    if (failed || (got == 0 && !(pf[0].revents & POLLIN))) pause_ms(1);
    else if (r->coalesce_us > 0 && got > 0 && !is_stopping(r)) {
      /* The queue is empty now. With a long kernel queue, waiting a little lets datagrams
       * collect so one wake-up takes many: far fewer context switches under load. */
      struct timespec ts = {0, (long)r->coalesce_us * 1000L};
      nanosleep(&ts, NULL);
    }
  }
  free(scratch);
}

/* Hands the oldest chunk to JS; wakes itself again while more wait, so the loop stays responsive. */
static int deliver_one(Receiver *r) {
  int errs[16];
  uv_mutex_lock(&r->mu);
  int nerrs = r->nerrs;
  memcpy(errs, r->errs, sizeof(int) * (size_t)nerrs);
  r->nerrs = 0;
  Chunk *c = r->head;
  if (c != NULL) {
    r->head = c->next;
    if (r->head == NULL) r->tail = NULL;
  }
  int more = r->head != NULL;
  uv_mutex_unlock(&r->mu);
  for (int i = 0; i < nerrs && !r->closed; i++) ud_report_error(r, errs[i], "recv");
  if (c != NULL) {
    memcpy(r->arena, c->data, c->used);
    memcpy(r->lengths, c->lengths, sizeof(int32_t) * c->count);
    ud_deliver(r, c->count, NULL);
    uv_mutex_lock(&r->mu);
    r->buffered_bytes -= c->used;
    uv_cond_signal(&r->room);
    uv_mutex_unlock(&r->mu);
    free(c);
  }
  return more;
}

static void on_async(uv_async_t *h) {
  Receiver *r = h->data;
  if (r->closed) return;
  napi_handle_scope scope;
  if (napi_open_handle_scope(r->env, &scope) != napi_ok) return;
  int more = deliver_one(r);
  napi_close_handle_scope(r->env, scope);
  if (more && !r->closed) uv_async_send(&r->async);
}

static void on_env_teardown(void *arg);

int ud_thread_start(Receiver *r, uv_loop_t *loop) {
  r->threaded = 1;
  if (r->max_buffered == 0) r->max_buffered = 64u << 20;
  r->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (r->wake_fd < 0) return -errno;
  int rc = uv_mutex_init(&r->mu);
  if (rc == 0) rc = uv_cond_init(&r->room);
  if (rc == 0) rc = uv_async_init(loop, &r->async, on_async);
  if (rc != 0) return rc;
  r->async.data = r;
  rc = uv_sem_init(&r->started, 0);
  if (rc != 0) return rc;
  rc = uv_thread_create(&r->thread, thread_main, r);
  if (rc != 0) {
    uv_sem_destroy(&r->started);
    return rc;
  }
  uv_sem_wait(&r->started);
  uv_sem_destroy(&r->started);
  r->thread_started = 1;
  napi_add_env_cleanup_hook(r->env, on_env_teardown, r);
  return 0;
}

/* Process / worker teardown with the socket still open: stop the thread before the loop goes
 * away (it must not uv_async_send to a dead loop); no JS can run any more. */
static void on_env_teardown(void *arg) {
  Receiver *r = arg;
  r->closed = 1;
  if (!r->thread_started) return;
  uv_mutex_lock(&r->mu);
  r->stop = 1;
  uv_cond_signal(&r->room);
  uv_mutex_unlock(&r->mu);
  uint64_t one = 1;
  ssize_t ignored = write(r->wake_fd, &one, sizeof one);
  (void)ignored;
  uv_thread_join(&r->thread);
  r->thread_started = 0;
}

/* Stops and joins the thread, then hands what it had received to JS (an orderly shutdown loses nothing it read). */
void ud_thread_stop(Receiver *r) {
  if (!r->thread_started) return;
  napi_remove_env_cleanup_hook(r->env, on_env_teardown, r);
  uv_mutex_lock(&r->mu);
  r->stop = 1;
  uv_cond_signal(&r->room);
  uv_mutex_unlock(&r->mu);
  uint64_t one = 1;
  ssize_t ignored = write(r->wake_fd, &one, sizeof one);
  (void)ignored;
  uv_thread_join(&r->thread);
  r->thread_started = 0;
  while (deliver_one(r)) {
  }
}

/* After the async handle closed: nothing else touches the shared state. */
void ud_thread_cleanup(Receiver *r) {
  Chunk *c = r->head;
  while (c != NULL) {
    Chunk *next = c->next;
    free(c);
    c = next;
  }
  r->head = r->tail = NULL;
  if (r->wake_fd >= 0) close(r->wake_fd);
  r->wake_fd = -1;
  uv_cond_destroy(&r->room);
  uv_mutex_destroy(&r->mu);
}
