{
  "targets": [
    {
      "target_name": "unix_dgram",
      "sources": ["src/receiver.c", "src/socket_file.c", "src/thread.c", "src/sender.c", "src/module.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
