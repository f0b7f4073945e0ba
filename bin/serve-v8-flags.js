// V8 flags for `tlsrpt serve`, a daemon measured in MiB (issue 12; bench/footprint uses them too).
// --semi-space-growth-factor=1: the young generation stays at its initial 1 MiB semi-space
//   instead of growing to 16 MiB while modules load and keeping it (~10 MiB of RSS).
// --heap-growing-percent=20: under load the old generation may grow 20 % past what the last full
//   GC kept, not V8's default of up to 4x: 1 M datagrams over 10,000 domains peak at ~150 MiB
//   instead of 200-250, and a 100,000-domain build at ~200 instead of 360, at the same speed.
// V8 reads both at each resize, so setting them before anything is loaded is enough.
export const SERVE_V8_FLAGS = '--semi-space-growth-factor=1 --heap-growing-percent=20';
