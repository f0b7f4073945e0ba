/*
 * socket_file.c — the socket's file on disk: owner/group lookup, and replacing the file a dead
 * process left behind (but never a live receiver's socket or a file that is not a socket).
 */
#include "receiver.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

/* owner/group: a name (looked up with getpwnam/getgrnam) or a numeric id; absent → -1 (keep). */
int ud_resolve_id(napi_env env, napi_value opts, const char *name, int is_group, long *out) {
  *out = -1;
  napi_valuetype t;
  napi_typeof(env, opts, &t);
  if (t != napi_object) return 0;
  bool has = false;
  napi_has_named_property(env, opts, name, &has);
  if (!has) return 0;
  napi_value v;
  napi_get_named_property(env, opts, name, &v);
  napi_typeof(env, v, &t);
  if (t == napi_undefined || t == napi_null) return 0;
  if (t == napi_number) {
    int64_t id;
    napi_get_value_int64(env, v, &id);
    *out = (long)id;
    return 0;
  }
  char buf[256];
  size_t len;
  if (t != napi_string || napi_get_value_string_utf8(env, v, buf, sizeof buf, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "owner/group must be a name or a numeric id");
    return -1;
  }
  if (is_group) {
    struct group *g = getgrnam(buf);
    if (g == NULL) goto unknown;
    *out = (long)g->gr_gid;
  } else {
    struct passwd *p = getpwnam(buf);
    if (p == NULL) goto unknown;
    *out = (long)p->pw_uid;
  }
  return 0;
unknown: {
    char msg[320];
    snprintf(msg, sizeof msg, "unknown %s '%s' for the datagram socket", is_group ? "group" : "user", buf);
    napi_throw_error(env, "ENOENT", msg);
    return -1;
  }
}

/* A socket file left by a dead process is removed; a live receiver or a non-socket file is not. */
int ud_remove_stale(napi_env env, const char *path, const struct sockaddr_un *addr) {
  struct stat st;
  if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : (ud_throw_errno(env, errno, "lstat", path), -1);
  if (!S_ISSOCK(st.st_mode)) {
    napi_value e = ud_make_error_object(env, EEXIST, "bind");
    napi_value m;
    char msg[256];
    snprintf(msg, sizeof msg, "%s exists and is not a socket; refusing to replace it", path);
    napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
    napi_set_named_property(env, e, "message", m);
    napi_throw(env, e);
    return -1;
  }
  int probe = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (probe >= 0) {
    int rc = connect(probe, (const struct sockaddr *)addr, sizeof *addr);
    int err = errno;
    close(probe);
    if (rc == 0) {
      ud_throw_errno(env, EADDRINUSE, "bind (another process is receiving on this socket)", path);
      return -1;
    }
    (void)err;
  }
  if (unlink(path) != 0 && errno != ENOENT) {
    ud_throw_errno(env, errno, "unlink", path);
    return -1;
  }
  return 0;
}


/* An inherited socket (systemd's LISTEN_FDS) must be a unix datagram socket; made non-blocking
 * and close-on-exec like one we create. */
int ud_adopt_fd(napi_env env, int fd) {
  int type = 0, domain = 0;
  socklen_t len = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) return ud_throw_errno(env, errno, "getsockopt (inherited fd)", NULL), -1;
  len = sizeof domain;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0) return ud_throw_errno(env, errno, "getsockopt (inherited fd)", NULL), -1;
  if (type != SOCK_DGRAM || domain != AF_UNIX) {
    char msg[160];
    snprintf(msg, sizeof msg, "inherited fd %d is not a unix datagram socket (ListenDatagram= with a path in the .socket unit)", fd);
    napi_throw_error(env, "ENOTSOCK", msg);
    return -1;
  }
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) return ud_throw_errno(env, errno, "fcntl", NULL), -1;
  int fdfl = fcntl(fd, F_GETFD);
  if (fdfl >= 0) fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC);
  return 0;
}
