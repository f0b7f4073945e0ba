// Package export `tlsrpt-hub/collector` for plain-JavaScript callers: loads the TypeScript
// sources through tsx, scoped to this import (no global loader is registered).
import { tsImport } from 'tsx/esm/api';

const mod = await tsImport('../src/sending/library.ts', import.meta.url);
export const {
  openCollector, createCollector, parseEventBatch, outcomeFromJson, EventBatchJson, TlsSessionOutcomeJson,
  EventJsonError, listOpenWindows, readWindow, windowBounds, windowToJson, policyFingerprint,
} = mod;
