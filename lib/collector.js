// Package export `tlsrpt-hub/collector` for plain-JavaScript callers: the compiled library entry
// (types: dist/sending/library.d.ts).
export * from '../dist/sending/library.js';
